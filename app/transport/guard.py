"""Host and Origin checks for /mcp (DNS-rebinding protection) with wildcard patterns.

The SDK's own check knows only exact names and ``name:*``; a Service is reached as
``k8s-mcp.<ns>.svc``, ``k8s-mcp.<ns>.svc.cluster.local`` or ``k8s-mcp`` in compose, so we match
shell-style patterns on the host without its port. A foreign Origin gets 403; a request without an
Origin (every non-browser client) is accepted.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send


def _host_only(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host: str | None, patterns: tuple[str, ...]) -> bool:
    if not host:
        return False
    name = _host_only(host)
    return any(p == "*" or name == p.lower() or fnmatchcase(name, p.lower()) for p in patterns)


def origin_allowed(origin: str | None, patterns: tuple[str, ...]) -> bool:
    if not origin:
        return True
    origin = origin.strip().lower()
    for pattern in patterns:
        pattern = pattern.lower()
        if pattern == "*" or origin == pattern:
            return True
        if pattern.endswith(":*") and (origin == pattern[:-2] or fnmatchcase(origin, pattern[:-2] + ":*")):
            return True
        if fnmatchcase(origin, pattern):
            return True
    return False


class HostOriginGuard:
    """ASGI middleware applied to the MCP endpoint only."""

    def __init__(self, app: ASGIApp, *, hosts: tuple[str, ...], origins: tuple[str, ...]) -> None:
        self.app = app
        self.hosts = hosts
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            if not host_allowed(headers.get("host"), self.hosts):
                await PlainTextResponse("Invalid Host header", status_code=421)(scope, receive, send)
                return
            if not origin_allowed(headers.get("origin"), self.origins):
                await PlainTextResponse("Invalid Origin header", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
