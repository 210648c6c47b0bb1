"""Resumable SSE streams for 2025-era sessions: a bounded event store per session.

Every message the server sends on a session's SSE streams gets an event id and is kept here for a
while, so a client whose connection dropped can send ``GET /mcp`` with ``Last-Event-ID`` and receive
what it missed (the SDK's transport does the replay; this module only keeps the events). Each session
has its own store, so one session's event ids never reach into another's, and three limits keep it
small: the number of events, their total size, and their age. The store is dropped when its session
ends (DELETE, idle timeout, crash, shutdown).

Stateless mode, ``--json-response`` and the 2026-07-28 protocol have no session streams to resume;
there the SDK gets no store and behaves as before.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.types import JSONRPCMessage

from app.config import Settings

log = logging.getLogger("k8s_mcp.streams")


@dataclass(frozen=True)
class Limits:
    """How much one session keeps: at most ``events`` events of ``bytes`` in total, none older than ``seconds``."""

    events: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class _Event:
    seq: int
    stream_id: StreamId
    message: JSONRPCMessage | None  # None: the priming event that opens a stream (no data)
    size: int
    stamp: float


class SessionEvents(EventStore):
    """The events of one session, oldest first, trimmed to ``limits`` each time one is added.

    Event ids are this session's sequence numbers ("1", "2", ...). A ``Last-Event-ID`` that is not one
    of them, or whose event has been trimmed, replays nothing (the client then has nothing to resume).
    ``on_change(events, bytes)`` is told every change of the totals, for the process-wide gauges.
    """

    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[int, int], None] | None = None,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._on_change = on_change
        self._events: deque[_Event] = deque()
        self._bytes = 0
        self._next_seq = 1

    # Never falsy: the SDK's transport tests ``if self._event_store`` (an empty store must still count).
    def __bool__(self) -> bool:
        return True

    @property
    def count(self) -> int:
        return len(self._events)

    @property
    def size(self) -> int:
        return self._bytes

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        seq = self._next_seq
        self._next_seq += 1
        size = 0 if message is None else len(message.model_dump_json(by_alias=True, exclude_unset=True))
        self._events.append(_Event(seq, stream_id, message, size, self._clock()))
        self._changed(1, size)
        self.trim()
        return str(seq)

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        """Send the events of ``last_event_id``'s stream that came after it, then any that arrive meanwhile."""
        self.trim()
        after = _seq(last_event_id)
        found = self._find(after) if after is not None else None
        if found is None:
            log.info(
                "replay asked for an event this session no longer keeps", extra={"last_event_id": last_event_id[:64]}
            )
            return None
        stream_id = found.stream_id
        sent = after
        assert sent is not None
        while True:
            # A snapshot: sending waits for the client, and the deque changes meanwhile.
            pending = [e for e in self._events if e.seq > sent and e.stream_id == stream_id]
            if not pending:
                return stream_id
            for event in pending:
                sent = event.seq
                if event.message is not None:
                    await send_callback(EventMessage(event.message, str(event.seq)))

    def trim(self) -> None:
        """Drop the oldest events while any limit is exceeded."""
        oldest_allowed = self._clock() - self._limits.seconds
        events = self._events
        while events and (
            len(events) > self._limits.events or self._bytes > self._limits.bytes or events[0].stamp < oldest_allowed
        ):
            dropped = events.popleft()
            self._changed(-1, -dropped.size)

    def clear(self) -> None:
        self._changed(-len(self._events), -self._bytes)
        self._events.clear()

    def _find(self, seq: int) -> _Event | None:
        if not self._events:
            return None
        index = seq - self._events[0].seq  # sequence numbers are contiguous in the deque
        if 0 <= index < len(self._events):
            return self._events[index]
        return None

    def _changed(self, events: int, size: int) -> None:
        self._bytes += size
        if self._on_change is not None:
            self._on_change(events, size)


def _seq(event_id: str) -> int | None:
    return int(event_id) if event_id.isascii() and event_id.isdigit() and len(event_id) < 20 else None


class SessionStores:
    """One ``SessionEvents`` per open session, and the totals across them (for /metrics)."""

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._stores: dict[str, SessionEvents] = {}
        self.events = 0
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._stores)

    def open(self, session_id: str) -> SessionEvents:
        store = SessionEvents(self.limits, clock=self._clock, on_change=self._count)
        self._stores[session_id] = store
        return store

    def drop(self, session_id: str) -> None:
        store = self._stores.pop(session_id, None)
        if store is not None:
            store.clear()

    def trim(self) -> None:
        """Apply the age limit to sessions that have been quiet (adding an event trims its own store)."""
        for store in list(self._stores.values()):
            store.trim()

    async def run_trims(self) -> None:
        """Apply the age limit every tenth of it, until cancelled (started in the app's lifespan)."""
        while True:
            await anyio.sleep(max(self.limits.seconds / 10, 1.0))
            self.trim()

    def _count(self, events: int, size: int) -> None:
        self.events += events
        self.bytes += size


def session_stores(settings: Settings) -> SessionStores | None:
    """The stores when this server has resumable streams: stateful SSE sessions with a non-zero event limit."""
    if settings.stateless or settings.json_response or settings.sse_replay_events == 0:
        return None
    return SessionStores(Limits(settings.sse_replay_events, settings.sse_replay_bytes, settings.sse_replay_seconds))


def attach(manager: StreamableHTTPSessionManager, stores: SessionStores) -> None:
    """Give each new session of ``manager`` its own store from ``stores``, and drop it when the session ends.

    The SDK (mcp 2.3.0) hands every session's transport the one ``event_store`` the manager was built
    with, and says nothing public when a session ends. So this wraps two private methods of
    ``StreamableHTTPSessionManager``: ``_admit_session`` (creates and registers a session's transport)
    and ``_discard_session`` (called however a session ends: DELETE, idle timeout, crash, a refused
    opening request). Review both on an SDK upgrade; tests/unit/test_resumable.py checks they still
    exist and that a session's store comes and goes with it.
    """
    admit: Callable[[Any], Any] = manager._admit_session
    discard: Callable[[str, Any], Any] = manager._discard_session

    def admit_with_store(requestor: Any) -> Any:
        transport = admit(requestor)
        if transport is not None and transport.mcp_session_id is not None:
            transport._event_store = stores.open(transport.mcp_session_id)
        return transport

    async def discard_with_store(session_id: str, transport: Any) -> None:
        stores.drop(session_id)
        await discard(session_id, transport)

    setattr(manager, "_admit_session", admit_with_store)  # noqa: B010 (private SDK hook, see above)
    setattr(manager, "_discard_session", discard_with_store)  # noqa: B010
