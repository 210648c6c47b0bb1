"""Where an MCP request's trace starts: the W3C ``traceparent`` of its ``_meta``, else of its HTTP request.

The SDK opens a server span per MCP message and parents it on ``_meta`` or, failing that, on the
current context. On a 2025-era session the handler runs in the session's task, whose context was
copied from the request that opened the session, so "the current context" would tie every call of a
session to its ``initialize``. This middleware runs first and makes the right parent current: the
``_meta`` carrier, the HTTP request's own ``traceparent`` header, or nothing (a new trace).
"""

from __future__ import annotations

from typing import Any

from app import tracing


async def trace_parent_middleware(ctx: Any, call_next: Any) -> Any:
    if not tracing.enabled():
        return await call_next(ctx)
    headers = getattr(ctx.request, "headers", None)
    token = tracing.attach(tracing.parent_context(ctx.meta, headers))
    try:
        return await call_next(ctx)
    finally:
        tracing.detach(token)
