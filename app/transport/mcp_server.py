"""Build the MCP server (tools, prompts, resources, completion) and its streamable-HTTP ASGI app.

One /mcp endpoint serves both protocol eras: 2025 clients get an Mcp-Session-Id on initialize
(404 for an unknown one, DELETE ends it), 2026-07-28 clients send self-contained requests.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.request_state import RequestStateSecurity
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from app.approval import Approvals
from app.config import Settings
from app.documents.subscriptions import Subscriptions
from app.observability import Metrics
from app.spec import Deps, ToolSpec
from app.transport.auth import Auth
from app.transport.calls import ToolRunner
from app.transport.documents import register_resources
from app.transport.notices import SessionLevels
from app.transport.prompts import plan_env, register_completions, register_prompts
from app.transport.resumable import SessionStores, attach
from app.transport.scoping import RequestScope
from app.transport.served import Served
from app.transport.subscriptions import register_subscriptions
from app.transport.tools import ToolServer
from app.transport.traceparent import trace_parent_middleware

INSTRUCTIONS = (
    "Kubernetes tools. Lists come back as compact tables; pass 'continue' to page. Every tool takes an "
    "optional 'context' to pick a cluster. Errors are one line: fix the argument it names and retry. "
    "Prompts give step-by-step plans (cluster_health_check, troubleshoot_pod, restart_failed_pods, ...); "
    "resources: k8s://summary, objects at k8s://{context}/{namespace}/{kind}/{name} (subscribe for live updates), "
    "templates at k8s-template://index."
)


def build_mcp(
    settings: Settings,
    specs: list[ToolSpec[Any]],
    deps: Deps,
    metrics: Metrics,
    approvals: Approvals | None = None,
    auth: Auth | None = None,
    *,
    catalog: list[ToolSpec[Any]],
    subscriptions: Subscriptions | None = None,
) -> MCPServer:
    """The MCP server offering ``specs``; ``catalog`` is every tool the prompts' plans may name.

    ``subscriptions`` serves live resource subscriptions once its ``running()`` is entered (the server's
    lifespan); without one, a registry of its own is made, whose subscribe requests are refused."""
    bus = InMemorySubscriptionBus()
    approvals = approvals or Approvals(settings.approval_secret, settings.approval_ttl_seconds)
    runner = ToolRunner(deps, metrics, settings, approvals)
    server = ToolServer(
        "k8s-mcp",
        specs=specs,
        runner=runner,
        levels=SessionLevels(capacity=settings.max_sessions),
        title="Kubernetes MCP server",
        version=server_version(),
        instructions=INSTRUCTIONS,
        middleware=[RequestScope(stdio=settings.transport == "stdio")],
        log_level=settings.log_level,
        token_verifier=auth.verifier if auth else None,
        auth=auth.settings if auth else None,
        request_state_security=request_state_security(settings),
        subscriptions=bus,
    )
    # Outermost, before the SDK's own OpenTelemetry middleware: it picks the parent of the request's trace.
    server.middleware.insert(0, trace_parent_middleware)
    served = Served(settings, metrics)
    register_prompts(server, deps, served, plan_env(settings, catalog, specs))
    register_resources(server, deps, served)
    register_subscriptions(server, subscriptions or Subscriptions(deps, metrics), served, bus)
    register_completions(server, deps)
    return server


def streamable_app(server: MCPServer, settings: Settings, stores: SessionStores | None = None) -> ASGIApp:
    """The /mcp endpoint; with ``stores``, 2025-era sessions keep their SSE events there for replay."""
    # Host/Origin are checked by our own guard (wildcards); the SDK still checks Content-Type.
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        json_response=settings.json_response,
        stateless_http=settings.stateless,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        session_idle_timeout=settings.session_idle_timeout,
        max_sessions=settings.max_sessions,
        max_request_body_size=settings.max_body_bytes,
        retry_interval=(settings.sse_retry_ms or None) if stores is not None else None,
    )
    if stores is not None:
        attach(server.session_manager, stores)
    return app


def open_sessions(server: MCPServer) -> int:
    manager = server.session_manager
    return len(getattr(manager, "_server_instances", {}))


def server_version() -> str:
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
