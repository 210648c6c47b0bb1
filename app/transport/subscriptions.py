"""Live resource subscriptions over MCP, both eras, on ``app.documents.subscriptions``.

- 2025 sessions: ``resources/subscribe`` and ``resources/unsubscribe`` on a ``k8s://`` object URI;
  each change is a ``notifications/resources/updated`` on the session's standalone stream (the GET
  SSE stream of streamable HTTP, stdout over stdio). The session's end (DELETE, idle timeout, the
  stdio client gone) drops its subscriptions.
- 2026-07-28 (no sessions): ``subscriptions/listen`` whose filter names ``resourceSubscriptions``;
  the URIs are checked and watched exactly as above, for as long as the listen stream is open, and
  the updates ride that stream (through the SDK's own listen handler and event bus).

Refusals are one JSON-RPC error line (``failed to subscribe to <uri>: <reason>``): -32602 for a URI
that does not parse, a kind or namespace the server denies, an object that does not exist or that
the caller may not read; -32600 when a cap is reached or the request has no session; -32603 when
the cluster cannot answer. Every subscribe and unsubscribe writes one audit line.

SDK 2.3.0 internals, used here and nowhere else:
- ``MCPServer._lowlevel_server``: MCPServer has no public way to add the ``resources/subscribe`` and
  ``resources/unsubscribe`` handlers (its own registration covers ``subscriptions/listen`` only).
  Adding them is also what declares ``resources.subscribe`` to 2025 clients.
- ``ServerSession._connection``: the session's ``Connection``. Its public ``exit_stack`` is unwound
  however the session ends, and its ``send_resource_updated`` writes on the standalone stream rather
  than on the (long finished) subscribe request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, NoReturn

from mcp import MCPError
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
from mcp.shared.subscriptions import ResourceUpdated
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    EmptyResult,
    SubscribeRequestParams,
    SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
    UnsubscribeRequestParams,
)

from app import errors
from app.documents.subscriptions import LimitReached, Subscriptions
from app.observability import audit
from app.scope import identity, session_key
from app.transport.outcomes import OK, failure
from app.transport.served import Served

_SESSION_END_HOOKED = "k8s_mcp.subscriptions.session_end"


def register_subscriptions(
    server: MCPServer, live: Subscriptions, served: Served, bus: InMemorySubscriptionBus
) -> None:
    """Serve subscribe/unsubscribe (2025) and resource URIs in subscriptions/listen (2026-07-28)."""

    async def subscribe(ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        uri = str(params.uri)
        session = session_key()
        if session is None:
            _refuse(
                "subscribe",
                uri,
                MCPError(
                    INVALID_REQUEST,
                    f"failed to subscribe to {uri}: subscriptions need an MCP session (Mcp-Session-Id), and this "
                    "request has none (a stateless server); use a 2025 session or subscriptions/listen",
                ),
            )
        connection = _connection(ctx)
        _drop_on_session_end(connection, live, session)
        notify = connection.send_resource_updated
        await _recorded(served, "subscribe", uri, lambda: live.subscribe(session, uri, notify, connection))
        return EmptyResult()

    async def unsubscribe(ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        uri = str(params.uri)
        session = session_key()

        async def drop() -> None:
            if session is not None:
                live.unsubscribe(session, uri)

        await _recorded(served, "unsubscribe", uri, drop)
        return EmptyResult()

    listen_to_bus = ListenHandler(bus)

    async def publish(uri: str) -> None:
        await bus.publish(ResourceUpdated(uri=uri))

    async def listen(
        ctx: ServerRequestContext[Any, Any], params: SubscriptionsListenRequestParams
    ) -> SubscriptionsListenResult:
        uris = list(params.notifications.resource_subscriptions or ())
        stream = f"listen-{uuid.uuid4().hex[:12]}"  # the "session" the per-session cap counts
        try:
            for uri in uris:
                await _recorded(served, "subscribe", uri, partial(live.subscribe, stream, uri, publish, bus))
            return await listen_to_bus(ctx, params)
        finally:
            live.drop_session(stream)

    lowlevel = server._lowlevel_server  # SDK 2.3.0: see the module docstring
    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)
    lowlevel.add_request_handler("subscriptions/listen", SubscriptionsListenRequestParams, listen)


def _connection(ctx: ServerRequestContext[Any, Any]) -> Connection:
    connection: Connection = ctx.session._connection  # SDK 2.3.0: see the module docstring
    return connection


def _drop_on_session_end(connection: Connection, live: Subscriptions, session: str) -> None:
    """Once per session: when its connection closes, its subscriptions go (and with the last, the watch)."""
    if connection.state.get(_SESSION_END_HOOKED):
        return
    connection.state[_SESSION_END_HOOKED] = True
    connection.exit_stack.callback(live.drop_session, session)


async def _recorded(served: Served, action: str, uri: str, work: Callable[[], Awaitable[None]]) -> None:
    """Run a subscribe or unsubscribe: one audit line, and our errors as one JSON-RPC error line."""
    started = time.perf_counter()
    outcome = "error"
    try:
        await work()
        outcome = OK
    except Exception as e:
        failed = failure(f"{action} to {uri}" if action == "subscribe" else f"{action} from {uri}", e)
        outcome = failed.outcome
        raise MCPError(_code(e), served.clean(failed.line)) from e
    finally:
        _audit(action, uri, outcome, started)


def _refuse(action: str, uri: str, error: MCPError) -> NoReturn:
    _audit(action, uri, "invalid", time.perf_counter())
    raise error


def _code(error: BaseException) -> int:
    if isinstance(error, LimitReached):
        return INVALID_REQUEST
    if isinstance(error, errors.ToolInputError | errors.PolicyDenied | errors.NotFound | errors.Forbidden):
        return INVALID_PARAMS
    return INTERNAL_ERROR


def _audit(action: str, uri: str, outcome: str, started: float) -> None:
    caller = identity.get()
    audit(
        f"resource {action}",
        outcome=outcome,
        resource=uri,
        identity=caller.user if caller else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
