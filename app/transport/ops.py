"""Operational endpoints (/healthz, /readyz, /metrics), the correlation-id middleware and the drain.

/healthz answers from memory: the process is alive. /readyz asks the cluster, at most once per
``readiness_cache_seconds``, and answers 503 with the reason when it cannot be reached, so a
Deployment stops routing to a pod that cannot do its job without restarting it. It also says
whether the Helm tools can run (``helm``); a missing helm binary does not make the pod unready,
since every other tool still works. With an OpenID issuer configured, /readyz is also 503 while the
issuer's keys cannot be had (``oidc``: no bearer JWT could be checked), with the reason.

``Drain`` is the shutdown state: once it begins (SIGTERM), /readyz answers 503 at once, a stateful
server refuses new 2025-era sessions (503, so the client's next try lands on another replica), and
``DrainGate`` counts the MCP requests still in flight, so the process exits only once they finished
(or the grace period ran out).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import errors, redaction
from app.kube.client import Kube
from app.kube.helm import Helm
from app.observability import Metrics
from app.scope import correlation_id, new_correlation_id
from app.transport.oidc import Issuer

CORRELATION_HEADER = "x-correlation-id"
SHUTTING_DOWN = "this replica is shutting down; retry and another replica will answer"


@dataclass
class _Check:
    at: float
    ok: bool
    reason: str
    helm_ok: bool = False
    helm: str = "not checked"
    oidc: tuple[bool, str] | None = None


class Drain:
    """Shutdown in progress or not, and the MCP requests in flight (POST/DELETE; standing GET streams aside)."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.inflight = 0

    @property
    def draining(self) -> bool:
        return self.since is not None

    def begin(self) -> None:
        if self.since is None:
            self.since = time.monotonic()


class DrainGate:
    """ASGI middleware on /mcp: counts requests in flight and, while draining, refuses new sessions."""

    def __init__(self, app: ASGIApp, drain: Drain, *, stateful: bool) -> None:
        self.app = app
        self.drain = drain
        self.stateful = stateful

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "GET":
            await self.app(scope, receive, send)
            return
        if self.drain.draining and self.stateful and self._opens_session(scope):
            response = JSONResponse(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32603, "message": SHUTTING_DOWN}},
                status_code=503,
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)
            return
        self.drain.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.drain.inflight -= 1

    @staticmethod
    def _opens_session(scope: Scope) -> bool:
        """A POST without Mcp-Session-Id on the 2025 path: an initialize, which would open a session here."""
        headers = Headers(scope=scope)
        if scope["method"] != "POST" or headers.get("mcp-session-id"):
            return False
        version = headers.get("mcp-protocol-version")
        return version is None or version in HANDSHAKE_PROTOCOL_VERSIONS


class Readiness:
    def __init__(
        self, kube: Kube, cache_seconds: float, helm: Helm | None = None, issuer: Issuer | None = None
    ) -> None:
        self._kube = kube
        self._helm = helm
        self._issuer = issuer
        self._cache_seconds = cache_seconds
        self._last: _Check | None = None
        self._lock = anyio.Lock()

    async def check(self) -> _Check:
        async with self._lock:
            now = time.monotonic()
            if self._last and now - self._last.at < self._cache_seconds:
                return self._last
            check = _Check(now, *await self._cluster())
            if self._issuer is not None:
                # Without the issuer's keys no bearer JWT can be checked, so the pod cannot do its job.
                check.oidc = await anyio.to_thread.run_sync(self._issuer.probe)
                if check.ok and not check.oidc[0]:
                    check.ok, check.reason = False, f"identity provider: {check.oidc[1]}"
            if self._helm is not None:
                probe = await self._helm.probe()
                check.helm_ok, check.helm = probe.ok, probe.detail
            self._last = check
            return self._last

    async def _cluster(self) -> tuple[bool, str]:
        """The API server answers. In passthrough mode the server has no credentials: the probe goes
        without any, and a 401 or 403 still proves that the API server is there and answering."""
        passthrough = self._kube.settings.cluster_auth_mode == "passthrough"
        try:
            await self._kube.request("GET", "/readyz", timeout=3, anonymous=True)
        except (errors.Unauthorized, errors.Forbidden) as e:
            return (True, "cluster reachable") if passthrough else (False, redaction.scrub_text(str(e)))
        except errors.K8sMcpError as e:
            return False, redaction.scrub_text(str(e))
        return True, "cluster reachable"


class OpsEndpoints:
    def __init__(self, readiness: Readiness, metrics: Metrics, drain: Drain | None = None) -> None:
        self._readiness = readiness
        self._metrics = metrics
        self._drain = drain or Drain()

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if self._drain.draining:
            return JSONResponse({"status": "not ready", "reason": SHUTTING_DOWN}, status_code=503)
        check = await self._readiness.check()
        body = {
            "status": "ready" if check.ok else "not ready",
            "reason": check.reason,
            "helm": {"ready": check.helm_ok, "detail": check.helm},
        }
        if check.oidc is not None:
            body["oidc"] = {"ready": check.oidc[0], "detail": check.oidc[1]}
        return JSONResponse(body, status_code=200 if check.ok else 503)

    async def metrics(self, request: Request) -> Response:
        return PlainTextResponse(generate_latest(self._metrics.registry), media_type=CONTENT_TYPE_LATEST)


class CorrelationMiddleware:
    """Give every HTTP request a correlation id (the client's X-Correlation-Id if it sent one),
    visible to tool calls through the request headers and echoed in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = MutableHeaders(scope=scope)
        cid = headers.get(CORRELATION_HEADER) or new_correlation_id()
        cid = cid[:64]
        headers[CORRELATION_HEADER] = cid
        token = correlation_id.set(cid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = cid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
