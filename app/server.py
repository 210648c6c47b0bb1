"""create_app(settings): the Starlette application, its routes, middleware and lifespan.

This is the one place where the parts meet: settings -> policy -> cluster gateway -> tool catalog
-> MCP server -> HTTP app. Everything below receives what it needs from here; nothing is global.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from app.approval import Approvals
from app.config import Settings
from app.documents.subscriptions import Subscriptions
from app.kube.client import Kube
from app.kube.discovery import Discovery
from app.kube.helm import Helm
from app.kube.ledger import LeaseLedger, state_namespace
from app.observability import Metrics
from app.policy import Policy
from app.spec import Deps
from app.tools.catalog import all_specs, exposed_specs
from app.transport.auth import Auth, build_auth
from app.transport.guard import HostOriginGuard
from app.transport.mcp_server import build_mcp, open_sessions, streamable_app
from app.transport.oidc import Issuer
from app.transport.ops import CorrelationMiddleware, Drain, DrainGate, OpsEndpoints, Readiness
from app.transport.ratelimit import RateLimit
from app.transport.resumable import session_stores

log = logging.getLogger("k8s_mcp.server")


@dataclass(frozen=True)
class Assembly:
    """The wired parts, for the HTTP app and for the stdio transport alike."""

    settings: Settings
    metrics: Metrics
    kube: Kube
    helm: Helm
    mcp: MCPServer
    ledger: LeaseLedger | None
    auth: Auth | None
    subscriptions: Subscriptions


def assemble(settings: Settings) -> Assembly:
    metrics = Metrics()
    policy = Policy(
        read_only=settings.read_only,
        allow_destructive=settings.enable_destructive_operations,
        denied_resources=settings.denied_resources,
        allowed_namespaces=settings.allowed_namespaces,
        denied_namespaces=settings.denied_namespaces,
        allow_bulk_delete=settings.allow_bulk_delete,
    )
    kube = Kube(settings, metrics, policy)
    helm = Helm(settings, kube.contexts, metrics, policy)
    deps = Deps(kube=kube, discovery=Discovery(kube), settings=settings, helm=helm)
    selection = exposed_specs(policy, settings)
    specs = selection.tools
    if selection.withheld:
        log.warning(
            "enabled tools hidden by read-only or destructive gating",
            extra={"tools": selection.withheld},
        )
    ledger = None
    # One process serves stdio, so its own memory is the whole truth there. In passthrough the server
    # has no credentials of its own to write the ledger with: spent tokens stay in this process.
    shared = (
        settings.transport == "http"
        and settings.approval_ledger
        and not settings.read_only
        and settings.cluster_auth_mode != "passthrough"
    )
    if settings.approval == "confirm" and shared:
        ledger = LeaseLedger(kube, state_namespace(settings, kube), metrics)
    approvals = Approvals(settings.approval_secret, settings.approval_ttl_seconds, ledger=ledger)
    auth = build_auth(settings)
    subscriptions = Subscriptions(deps, metrics)
    server = build_mcp(
        settings, specs, deps, metrics, approvals, auth, catalog=all_specs("default"), subscriptions=subscriptions
    )
    log.info(
        "server assembled",
        extra={
            "tools": len(specs),
            "tool_profile": settings.tool_profile,
            "toolsets": list(settings.toolsets),
            "cluster_source": kube.contexts.source,
            "read_only": settings.read_only,
            "destructive": settings.enable_destructive_operations,
            "helm_binary": helm.binary(),
            "approval_ledger": f"Leases in namespace {ledger.namespace}" if ledger else "this process only",
            "auth": "bearer tokens" if auth else "none",
            "oidc_issuer": settings.oidc_issuer,
            "cluster_auth": settings.cluster_auth_mode,
        },
    )
    if helm.binary() is None:
        log.warning(
            "helm binary not found: the Helm tools will answer with an error until it is installed",
            extra={"helm_binary": settings.helm_binary},
        )
    return Assembly(settings, metrics, kube, helm, server, ledger, auth, subscriptions)


async def serve_stdio(parts: Assembly) -> None:
    """The stdio transport, with the live subscriptions' watches running beside it."""
    async with parts.subscriptions.running():
        await parts.mcp.run_stdio_async()


async def first_contact(issuer: Issuer) -> None:
    """Fetch the issuer's metadata and keys once at start, so the first caller does not wait for it and a
    wrong or unreachable issuer shows in the log at once; the server serves either way (/readyz says 503)."""
    ok, detail = await anyio.to_thread.run_sync(issuer.probe, abandon_on_cancel=True)
    if ok:
        log.info("identity provider reachable", extra={"detail": detail})
    else:
        log.error(
            "identity provider unusable: bearer JWTs are answered 503 and /readyz is 503 until it answers",
            extra={"reason": detail},
        )


def create_app(settings: Settings) -> Starlette:
    parts = assemble(settings)
    stores = session_stores(settings)
    mcp_app = streamable_app(parts.mcp, settings, stores)
    drain = Drain()
    parts.metrics.open_sessions.set_function(lambda: float(open_sessions(parts.mcp)))
    parts.metrics.inflight_requests.set_function(lambda: float(drain.inflight))
    parts.metrics.draining.set_function(lambda: 1.0 if drain.draining else 0.0)
    if stores is not None:
        parts.metrics.stream_events.set_function(lambda: float(stores.events))
        parts.metrics.stream_event_bytes.set_function(lambda: float(stores.bytes))
    issuer = parts.auth.issuer if parts.auth else None
    readiness = Readiness(parts.kube, settings.readiness_cache_seconds, helm=parts.helm, issuer=issuer)
    ops = OpsEndpoints(readiness, parts.metrics, drain)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            parts.subscriptions.running(),
            parts.mcp.session_manager.run(),
            anyio.create_task_group() as background,
        ):
            if parts.ledger is not None:
                background.start_soon(parts.ledger.run_sweeps)
            if issuer is not None:
                background.start_soon(first_contact, issuer)
            if stores is not None:
                background.start_soon(stores.run_trims)
            log.info(
                "serving",
                extra={
                    "host": settings.host,
                    "port": settings.port,
                    "stateless": settings.stateless,
                    "json_response": settings.json_response,
                    "resumable_streams": stores is not None,
                },
            )
            yield
            background.cancel_scope.cancel()
        log.info("stopped")

    gated = DrainGate(mcp_app, drain, stateful=not settings.stateless)
    served = parts.auth.challenges(gated) if parts.auth else gated
    limited = RateLimit(served, rule=settings.rate_limit) if settings.rate_limit else served
    guarded = HostOriginGuard(limited, hosts=settings.allowed_hosts, origins=settings.allowed_origins)
    app = Starlette(
        routes=[
            Route("/healthz", ops.healthz, methods=["GET"]),
            Route("/readyz", ops.readyz, methods=["GET"]),
            Route("/metrics", ops.metrics, methods=["GET"]),
            Mount("/", app=guarded),
        ],
        middleware=[Middleware(CorrelationMiddleware)],
        lifespan=lifespan,
    )
    app.state.drain = drain
    return app
