"""Resumable SSE streams of 2025-era sessions: event ids and a retry field on the wire, and a client whose
POST stream dropped in the middle of a call getting what it missed (and the result) by ``GET /mcp`` with
``Last-Event-ID``. Against the real server over HTTP and a kwok pod on the real control plane; the call is
a ``pods_exec`` that sleeps, so it is still running when the stream drops.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.integration.conftest import (
    ACCEPT,
    Kubectl,
    ServerProcess,
    connect,
    start_server,
    text_of,
)
from tests.integration.test_pod_tools import POD, running

pytestmark = pytest.mark.anyio

VERSION = "2025-11-25"
SLEEPY = ["sh", "-c", "sleep 3; echo finished"]


@dataclass
class Event:
    id: str | None
    retry: int | None
    data: str

    @property
    def message(self) -> Any:
        return json.loads(self.data) if self.data.strip() else None


async def events(response: httpx2.Response) -> AsyncIterator[Event]:
    """The SSE events of a response, as they arrive."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                retry = fields.get("retry")
                yield Event(fields.get("id"), int(retry) if retry else None, fields.get("data", ""))
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = fields.get(name, "") + value.removeprefix(" ") if name == "data" else value.strip()


@dataclass
class Session:
    http: httpx2.AsyncClient
    url: str
    id: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {**ACCEPT, "Mcp-Session-Id": self.id, "MCP-Protocol-Version": VERSION, **extra}

    async def notify_or_answer(self, message: dict[str, Any]) -> int:
        return (await self.http.post(self.url, json=message, headers=self.headers())).status_code


async def open_session(http: httpx2.AsyncClient, url: str, capabilities: dict[str, Any]) -> Session:
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": VERSION,
            "capabilities": capabilities,
            "clientInfo": {"name": "raw", "version": "1"},
        },
    }
    response = await http.post(url, json=init, headers=ACCEPT)
    assert response.status_code == 200, response.text
    session = Session(http, url, response.headers["mcp-session-id"])
    assert await session.notify_or_answer({"jsonrpc": "2.0", "method": "notifications/initialized"}) == 202
    return session


def exec_call(request_id: int, namespace: str) -> dict[str, Any]:
    arguments = {"name": "solo", "namespace": namespace, "command": SLEEPY}
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": "pods_exec", "arguments": arguments},
    }


def metric(server: ServerProcess, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", httpx2.get(f"{server.base}/metrics").text, re.M)
    assert match, name
    return float(match.group(1))


async def dropped(server: ServerProcess) -> None:
    """The session is gone, and its events with it (the DELETE is answered just before the session is
    discarded, so this waits a little for that)."""
    with anyio.fail_after(10):
        while metric(server, "k8s_mcp_stream_events_stored") != 0:
            await anyio.sleep(0.05)
    assert metric(server, "k8s_mcp_stream_event_bytes_stored") == 0


@pytest.fixture
def eliciting_server(kubeconfig: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    """Exec asks the client for approval first: a call whose stream carries a request to the client,
    then the result."""
    proc = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--approval", "elicit"
    )
    yield proc
    proc.stop()


async def test_a_call_stream_dropped_midway_is_resumed_by_get_with_last_event_id(
    eliciting_server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    async with httpx2.AsyncClient(timeout=60) as http:
        session = await open_session(http, eliciting_server.url, {"elicitation": {}})

        # The call's stream opens with an event that has an id, a retry field and no data; then it drops.
        async with http.stream("POST", session.url, json=exec_call(7, namespace), headers=session.headers()) as post:
            assert post.status_code == 200 and post.headers["content-type"].startswith("text/event-stream")
            first = await anext(events(post))
        assert first.id and first.retry == 1000 and first.data == ""

        # Reconnect with Last-Event-ID, as often as the stream ends early: the approval request the
        # dropped stream never delivered comes first, then (once answered) the result.
        seen: list[Event] = []
        last = first.id
        result: Any = None
        with anyio.fail_after(60):
            while result is None:
                async with http.stream("GET", session.url, headers=session.headers(**{"Last-Event-ID": last})) as get:
                    assert get.status_code == 200, await get.aread()
                    async for event in events(get):
                        assert event.id, event
                        last = event.id
                        seen.append(event)
                        message = event.message
                        if message is None:
                            continue
                        if message.get("method") == "elicitation/create":
                            answer = {"action": "accept", "content": {"approve": True}}
                            reply = {"jsonrpc": "2.0", "id": message["id"], "result": answer}
                            assert await session.notify_or_answer(reply) == 202
                        elif message.get("id") == 7:
                            result = message
                            break
        methods = [e.message.get("method", "result") for e in seen if e.message is not None]
        assert methods == ["elicitation/create", "result"], methods
        assert "finished" in result["result"]["content"][0]["text"], result
        ids = [int(e.id) for e in seen if e.id]
        assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[0] > int(first.id)

        # The result is kept: a client that lost it too gets it again from the event before it.
        before_result = next(e.id for e in seen if e.message is not None)
        async with http.stream("GET", session.url, headers=session.headers(**{"Last-Event-ID": before_result})) as get:
            again = [e async for e in _until_response(events(get), 7)]
        assert again[-1].message == result

        kept = metric(eliciting_server, "k8s_mcp_stream_events_stored")
        assert kept >= 4  # priming, approval request, result, and the priming of each resumed stream
        assert (await http.delete(session.url, headers=session.headers())).status_code == 200
    await dropped(eliciting_server)


async def _until_response(stream: AsyncIterator[Event], request_id: int) -> AsyncIterator[Event]:
    async for event in stream:
        yield event
        if event.message is not None and event.message.get("id") == request_id and "method" not in event.message:
            return


class CutAfterFirstEvent(httpx2.AsyncBaseTransport):
    """Real HTTP, but the response stream of each tools/call POST is cut after its first event, the way
    a proxy that drops idle connections does; everything else passes through."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.cuts = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "POST" or b'"tools/call"' not in request.content:
            return response
        self.cuts += 1
        return httpx2.Response(
            response.status_code, headers=response.headers, stream=FirstEvent(response), request=request
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class FirstEvent(httpx2.AsyncByteStream):
    def __init__(self, response: httpx2.Response) -> None:
        self.response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        buffered = b""
        async for chunk in self.response.aiter_raw():
            buffered += chunk
            end = re.search(rb"\r?\n\r?\n", buffered)  # the blank line that ends an event
            if end:
                yield buffered[: end.end()]
                break
        await self.response.aclose()

    async def aclose(self) -> None:
        await self.response.aclose()


async def test_the_sdk_client_resumes_a_cut_call_stream_by_itself(
    kubeconfig: Path, tmp_path: Path, kubectl: Kubectl, namespace: str
) -> None:
    """The MCP SDK's own client, its tools/call stream cut after the first event, reconnects with
    Last-Event-ID after the advertised retry delay and gets the result."""
    running(kubectl, namespace, POD, "solo")
    server = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--approval", "none"
    )
    try:
        cutter = CutAfterFirstEvent()
        async with (
            httpx2.AsyncClient(transport=cutter, timeout=60) as http,
            Client(streamable_http_client(server.url, http_client=http), mode="legacy") as client,
        ):
            result = await client.call_tool("pods_exec", {"name": "solo", "namespace": namespace, "command": SLEEPY})
        assert cutter.cuts == 1
        assert not result.is_error, text_of(result)
        assert text_of(result).splitlines()[0] == "finished"
    finally:
        server.stop()


async def test_servers_without_sessions_send_no_event_ids(kubeconfig: Path, tmp_path: Path) -> None:
    """Stateless mode keeps no events and numbers none; a 2026-07-28 client on a stateful server is
    served as before and adds nothing to the store."""
    stateless = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--stateless")
    try:
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "namespaces_list", "arguments": {}},
        }
        headers = {**ACCEPT, "MCP-Protocol-Version": VERSION}
        response = httpx2.post(stateless.url, json=call, headers=headers, timeout=30)
        assert response.status_code == 200 and "text/event-stream" in response.headers["content-type"]
        assert not re.search(r"^(id|retry):", response.text, re.M), response.text
        assert metric(stateless, "k8s_mcp_stream_events_stored") == 0
    finally:
        stateless.stop()

    stateful = start_server(tmp_path, "--kubeconfig", str(kubeconfig))
    try:
        async with connect(stateful.url, "auto") as client:
            result = await client.call_tool("namespaces_list", {})
            assert client.protocol_version == "2026-07-28"
        assert not result.is_error, text_of(result)
        assert metric(stateful, "k8s_mcp_stream_events_stored") == 0
    finally:
        stateful.stop()


async def test_the_event_limit_holds_across_many_calls_of_one_session(kubeconfig: Path, tmp_path: Path) -> None:
    server = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--sse-replay-events", "5")
    try:
        async with connect(server.url, "legacy") as client:
            for _ in range(6):
                assert not (await client.call_tool("namespaces_list", {})).is_error
            assert metric(server, "k8s_mcp_stream_events_stored") == 5
            assert metric(server, "k8s_mcp_stream_event_bytes_stored") > 0
        await dropped(server)  # the client ended its session
    finally:
        server.stop()
