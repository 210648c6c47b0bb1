"""Build the MCP server (tools from the registry) and its streamable-HTTP ASGI app.

One /mcp endpoint serves both protocol eras: 2025 clients get an Mcp-Session-Id on initialize
(404 for an unknown one, DELETE ends it), 2026-07-28 clients send self-contained requests.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.request_state import RequestStateSecurity
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from app.approval import Approvals
from app.config import Settings
from app.documents.objects import KindIndex
from app.observability import Metrics
from app.spec import Deps, ToolSpec
from app.transport.auth import Auth
from app.transport.calls import ToolRunner
from app.transport.documents import register_resources
from app.transport.prompts import plan_env, register_completions, register_prompts
from app.transport.schemas import CompactSchemaServer
from app.transport.served import Served
from app.transport.tools import register, validation_middleware

INSTRUCTIONS = (
    "Kubernetes tools. Lists come back as compact tables; pass 'continue' to page. Every tool takes an "
    "optional 'context' to pick a cluster. Errors are one line: fix the argument it names and retry. "
    "Prompts give step-by-step plans (cluster_health_check, troubleshoot_pod, restart_failed_pods, ...); "
    "resources: k8s://summary, objects at k8s://{context}/{namespace}/{kind}/{name}, templates at k8s-template://index."
)


def build_mcp(
    settings: Settings, specs: list[ToolSpec[Any]], deps: Deps, metrics: Metrics, auth: Auth | None = None
) -> MCPServer:
    by_name = {s.name: s for s in specs}
    runner = ToolRunner(deps, metrics, settings, Approvals(settings.approval_secret, settings.approval_ttl_seconds))
    server = CompactSchemaServer(
        "k8s-mcp",
        title="Kubernetes MCP server",
        version=_version(),
        instructions=INSTRUCTIONS,
        middleware=[validation_middleware(by_name, runner)],
        log_level=settings.log_level,
        token_verifier=auth.verifier if auth else None,
        auth=auth.settings if auth else None,
        request_state_security=request_state_security(settings),
    )
    for spec in specs:
        register(server, spec, runner)
    served, index = Served(settings, metrics), KindIndex(deps.kube)
    register_prompts(server, deps, served, plan_env(settings, frozenset(by_name)))
    register_resources(server, deps, served, index)
    register_completions(server, deps, index)
    return server


def streamable_app(server: MCPServer, settings: Settings) -> ASGIApp:
    # Host/Origin are checked by our own guard (wildcards); the SDK still checks Content-Type.
    return server.streamable_http_app(
        streamable_http_path="/mcp",
        json_response=settings.json_response,
        stateless_http=settings.stateless,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        session_idle_timeout=settings.session_idle_timeout,
        max_sessions=settings.max_sessions,
        max_request_body_size=settings.max_body_bytes,
    )


def open_sessions(server: MCPServer) -> int:
    manager = server.session_manager
    return len(getattr(manager, "_server_instances", {}))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("k8s-mcp")
    except PackageNotFoundError:
        return "0.0.0"


def request_state_security(settings: Settings) -> RequestStateSecurity | None:
    """Replicas that share ``approval_secret`` also share the key that seals 2026-07-28 ``requestState``,
    so an elicitation answered on one replica is honoured by another; without it, the SDK's per-process key."""
    if not settings.approval_secret:
        return None
    key = hashlib.sha256(b"k8s-mcp/request-state\n" + settings.approval_secret.encode()).digest()
    return RequestStateSecurity(keys=[key])
