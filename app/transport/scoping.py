"""Every MCP message runs inside one request scope (``app.scope.call_scope``), entered here and only here.

An MCP middleware wraps every request the SDK dispatches (tool calls, resource reads, prompt renders,
completions, lists) and binds, for the handler and everything below it:

- the correlation id: the ``X-Correlation-Id`` header (the HTTP middleware sets one on every
  request), or a new one;
- the session id: the ``Mcp-Session-Id`` the SDK has already validated (unknown ids get 404 before
  any handler runs); over stdio there is exactly one client, hence one fixed session; stateless
  requests have none;
- the identity: the subject of the bearer token the SDK verified, or nobody without authentication.

So a tool call, a read of ``k8s://current/...`` and a prompt in the same session see the same
per-session default context, whichever transport carries them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from app.identity import Identity
from app.scope import STDIO_SESSION, call_scope


def caller_identity() -> Identity | None:
    token = get_access_token()
    if token is None:
        return None
    claims = token.claims or {}
    groups = claims.get("groups") or ()
    user = token.subject or token.client_id
    return Identity(
        user=str(user),
        groups=tuple(str(g) for g in groups),
        client_id=str(token.client_id),
        issuer=str(claims.get("iss") or ""),
        token=token.token,
    )


def request_headers(ctx: ServerRequestContext[Any, Any]) -> Mapping[str, str]:
    """The HTTP headers of the message (none over stdio)."""
    headers = getattr(ctx.request, "headers", None)
    return headers if headers is not None else {}


class RequestScope:
    """MCP middleware: the handler of every message runs inside ``call_scope``."""

    def __init__(self, *, stdio: bool) -> None:
        self.stdio = stdio

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        headers = request_headers(ctx)
        session = headers.get("mcp-session-id") or (STDIO_SESSION if self.stdio else None)
        with call_scope(correlation=headers.get("x-correlation-id"), session=session, caller=caller_identity()):
            return await call_next(ctx)
