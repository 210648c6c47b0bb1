"""The per-session SSE event store: ids, replay, the three limits, and its life with the session."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http import EventMessage
from mcp.types import JSONRPCNotification, JSONRPCResponse

from app.config import Settings
from app.transport.mcp_server import streamable_app
from app.transport.resumable import Limits, SessionEvents, SessionStores, session_stores

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def note(n: int, pad: int = 0) -> JSONRPCNotification:
    return JSONRPCNotification(jsonrpc="2.0", method="notifications/message", params={"n": n, "pad": "x" * pad})


def reply(request_id: int) -> JSONRPCResponse:
    return JSONRPCResponse(jsonrpc="2.0", id=request_id, result={"done": True})


async def replayed(store: SessionEvents, after: str) -> tuple[str | None, list[EventMessage]]:
    got: list[EventMessage] = []

    async def send(event: EventMessage) -> None:
        got.append(event)

    stream = await store.replay_events_after(after, send)
    return stream, got


LOOSE = Limits(events=100, bytes=1 << 20, seconds=300)


async def test_replay_sends_the_later_events_of_the_same_stream_only() -> None:
    store = SessionEvents(LOOSE)
    priming = await store.store_event("7", None)
    first = await store.store_event("7", note(1))
    await store.store_event("8", note(99))  # another request's stream of the same session
    await store.store_event("7", note(2))
    last = await store.store_event("7", reply(7))
    assert [priming, first, last] == ["1", "2", "5"]

    stream, got = await replayed(store, priming)
    assert stream == "7"
    assert [e.event_id for e in got] == ["2", "4", "5"]  # the priming event itself carries no data
    assert got[-1].message == reply(7)

    stream, got = await replayed(store, first)
    assert stream == "7" and [e.event_id for e in got] == ["4", "5"]
    stream, got = await replayed(store, last)
    assert stream == "7" and got == []


async def test_an_unknown_or_malformed_event_id_replays_nothing() -> None:
    store = SessionEvents(LOOSE)
    await store.store_event("1", note(1))
    for bad in ("2", "0", "-1", "abc", "", "1" * 40, "\uff11"):
        assert await replayed(store, bad) == (None, [])


async def test_the_event_limit_drops_the_oldest_events() -> None:
    store = SessionEvents(Limits(events=3, bytes=1 << 20, seconds=300))
    ids = [await store.store_event("1", note(n)) for n in range(10)]
    assert store.count == 3
    assert await replayed(store, ids[6]) == (None, [])  # dropped: only the last three are kept
    stream, got = await replayed(store, ids[7])
    assert stream == "1" and [e.event_id for e in got] == ids[8:]


async def test_the_byte_limit_drops_the_oldest_events_and_never_keeps_an_oversized_one() -> None:
    store = SessionEvents(Limits(events=1000, bytes=2000, seconds=300))
    for n in range(20):
        await store.store_event("1", note(n, pad=300))
    assert 0 < store.size <= 2000
    assert store.count < 20
    await store.store_event("1", note(99, pad=5000))  # larger than the whole budget: sent, not kept
    assert store.count == 0 and store.size == 0


async def test_the_age_limit_drops_old_events_when_adding_and_when_trimming() -> None:
    clock = Clock()
    store = SessionEvents(Limits(events=1000, bytes=1 << 20, seconds=60), clock=clock)
    old = await store.store_event("1", note(1))
    clock.now += 30
    await store.store_event("1", note(2))
    clock.now += 31  # the first is now 61 s old
    await store.store_event("1", note(3))
    assert store.count == 2
    assert await replayed(store, old) == (None, [])
    clock.now += 100
    store.trim()
    assert store.count == 0 and store.size == 0


async def test_events_stored_while_replaying_are_sent_too() -> None:
    store = SessionEvents(LOOSE)
    priming = await store.store_event("3", None)
    await store.store_event("3", note(1))
    got: list[str] = []

    async def send(event: EventMessage) -> None:
        got.append(event.event_id)
        if len(got) == 1:  # the tool answers while the first missed event is on its way
            await store.store_event("3", reply(3))

    assert await store.replay_events_after(priming, send) == "3"
    assert got == ["2", "3"]


async def test_totals_across_sessions_follow_every_store_and_drop() -> None:
    clock = Clock()
    stores = SessionStores(Limits(events=2, bytes=1 << 20, seconds=60), clock=clock)
    a, b = stores.open("a"), stores.open("b")
    for n in range(5):
        await a.store_event("1", note(n))
    await b.store_event("1", note(1))
    assert stores.events == 3 and stores.bytes == a.size + b.size > 0
    stores.drop("a")
    assert len(stores) == 1 and stores.events == 1 and stores.bytes == b.size
    stores.drop("a")  # a session may end through more than one path
    clock.now += 61
    stores.trim()
    assert stores.events == 0 and stores.bytes == 0


def test_only_stateful_sse_servers_keep_events() -> None:
    assert session_stores(Settings()) is not None
    assert session_stores(Settings(stateless=True)) is None
    assert session_stores(Settings(json_response=True)) is None
    assert session_stores(Settings(sse_replay_events=0)) is None


async def test_each_session_gets_its_own_store_and_loses_it_when_it_ends() -> None:
    """The SDK hooks the store relies on (private in mcp 2.3.0) are still there and still called."""
    stores = SessionStores(LOOSE)
    server = MCPServer("t")
    streamable_app(server, Settings(), stores)
    manager = server.session_manager
    assert manager.retry_interval == 1000
    one, two = manager._admit_session(None), manager._admit_session(None)
    assert one is not None and two is not None and one.mcp_session_id is not None
    assert one._event_store is not two._event_store and isinstance(one._event_store, SessionEvents)
    assert len(stores) == 2
    await manager._discard_session(one.mcp_session_id, one)
    assert len(stores) == 1
