"""Live subscriptions against the real control plane, with the real SDK client in both protocol eras.

2025 sessions (``mode="legacy"``) use resources/subscribe and receive notifications/resources/updated
on their GET stream; 2026-07-28 clients (``mode="auto"``) name the URIs in subscriptions/listen. The
changes are made with the rig's own kubectl, never through our server. Waits are bounded (a missing
notification fails the test instead of hanging it), and no test asserts how fast anything was: the
delay is measured in bench/subscriptions.py.

The resume test runs a server of its own against the API server through a TCP relay it can cut
(tests/integration/tcp_proxy.py): the shared API server is never restarted.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import yaml
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.subscriptions import ResourceUpdated
from mcp.types import INVALID_PARAMS, INVALID_REQUEST, ResourceUpdatedNotification

from tests.integration.conftest import ROOT, Kubectl, ServerProcess, cluster_context, free_port, start_server

pytestmark = [
    pytest.mark.anyio,
    # resources/subscribe is the 2025-era method; the SDK warns that 2026-07-28 replaced it with listen.
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

WAIT = 30  # seconds a notification may take before the test fails (the bench measures the real delay)


@dataclass
class Session:
    """One MCP client and the resource updates it received, in order."""

    client: Client
    updates: list[str] = field(default_factory=list)
    arrived: anyio.Event = field(default_factory=anyio.Event)

    async def handle(self, message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.updates.append(str(message.params.uri))
            self.arrived.set()

    async def next_update(self, count: int) -> list[str]:
        """Wait until ``count`` updates arrived in all; the updates so far."""
        with anyio.fail_after(WAIT):
            while len(self.updates) < count:
                self.arrived = anyio.Event()
                await self.arrived.wait()
        return self.updates


@contextlib.asynccontextmanager
async def session(url: str, mode: str = "legacy", token: str | None = None) -> AsyncIterator[Session]:
    holder: list[Session] = []

    async def handle(message: Any) -> None:
        await holder[0].handle(message)

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(timeout=60, headers=headers) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, message_handler=handle) as client,
    ):
        holder.append(Session(client))
        yield holder[0]


def gauges(server: ServerProcess) -> tuple[int, int]:
    """(open watches, live subscriptions) from /metrics."""
    text = httpx2.get(f"{server.base}/metrics").text
    watches = re.search(r"^k8s_mcp_resource_watches (\S+)$", text, re.M)
    subscriptions = re.search(r"^k8s_mcp_resource_subscriptions (\S+)$", text, re.M)
    assert watches and subscriptions, "the subscription gauges are missing from /metrics"
    return int(float(watches.group(1))), int(float(subscriptions.group(1)))


async def gauges_become(server: ServerProcess, wanted: tuple[int, int]) -> None:
    with anyio.fail_after(WAIT):
        while gauges(server) != wanted:
            await anyio.sleep(0.2)


def configmap(kubectl: Kubectl, namespace: str, name: str) -> str:
    kubectl("create", "configmap", name, "-n", namespace, "--from-literal=step=0")
    return f"k8s://current/{namespace}/configmaps/{name}"


def patch(kubectl: Kubectl, namespace: str, name: str, step: int) -> None:
    kubectl("patch", "configmap", name, "-n", namespace, "--type=merge", "-p", f'{{"data":{{"step":"{step}"}}}}')


@pytest.fixture(scope="module")
def live_server(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own (its gauges count only this module's subscriptions), kube-system denied, small caps."""
    proc = start_server(
        tmp_path_factory.mktemp("live"),
        "--kubeconfig",
        str(kubeconfig),
        "--rate-limit",
        "",
        "--denied-namespaces",
        "kube-system",
        "--subscriptions-per-session",
        "3",
        "--max-subscriptions",
        "5",
    )
    yield proc
    proc.stop()


async def test_a_patch_is_an_update_and_a_deletion_the_final_one(
    live_server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    uri = configmap(kubectl, namespace, "watched")
    async with session(live_server.url) as s:
        assert s.client.server_capabilities.resources.subscribe is True
        await s.client.subscribe_resource(uri)
        assert gauges(live_server) == (1, 1)
        await anyio.to_thread.run_sync(patch, kubectl, namespace, "watched", 1)
        assert await s.next_update(1) == [uri]
        read = await s.client.read_resource(uri)
        assert 'step: "1"' in read.contents[0].text or "step: '1'" in read.contents[0].text
        await anyio.to_thread.run_sync(lambda: kubectl("delete", "configmap", "watched", "-n", namespace))
        assert await s.next_update(2) == [uri, uri]
        await gauges_become(live_server, (0, 0))  # a deletion ends the subscription and its watch
    assert "watched object gone; final update sent" in live_server.logs()


async def test_unsubscribe_stops_updates_and_two_sessions_share_one_watch(
    live_server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    uri = configmap(kubectl, namespace, "shared")
    # The same object spelled two ways: the explicit context and the short name still share the watch.
    other = f"k8s://{cluster_context()}/{namespace}/cm/shared"
    async with session(live_server.url) as first, session(live_server.url) as second:
        await first.client.subscribe_resource(uri)
        await second.client.subscribe_resource(other)
        assert gauges(live_server) == (1, 2)
        await anyio.to_thread.run_sync(patch, kubectl, namespace, "shared", 1)
        assert await first.next_update(1) == [uri]
        assert await second.next_update(1) == [other]

        await first.client.unsubscribe_resource(uri)
        assert gauges(live_server) == (1, 1)
        await anyio.to_thread.run_sync(patch, kubectl, namespace, "shared", 2)
        assert await second.next_update(2) == [other, other]
        await anyio.sleep(1)  # both were told in the same moment; give a stray one time to land
        assert first.updates == [uri]

        await first.client.subscribe_resource(uri)
        assert gauges(live_server) == (1, 2)
        await first.client.unsubscribe_resource(uri)
    # Both sessions ended (DELETE): their subscriptions and the watch are gone.
    await gauges_become(live_server, (0, 0))


async def test_ending_a_session_ends_its_subscriptions(
    live_server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    uris = [configmap(kubectl, namespace, name) for name in ("a", "b")]
    async with session(live_server.url) as s:
        for uri in uris:
            await s.client.subscribe_resource(uri)
        assert gauges(live_server) == (2, 2)
    await gauges_become(live_server, (0, 0))
    assert "session ended; its subscriptions are dropped" in live_server.logs()


async def test_refusals_are_one_json_rpc_error_line(
    live_server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    names = [f"c{i}" for i in range(6)]
    uris = [configmap(kubectl, namespace, name) for name in names]

    async def refused(client: Client, uri: str) -> MCPError:
        with pytest.raises(MCPError) as caught:
            await client.subscribe_resource(uri)
        assert caught.value.message.startswith(f"failed to subscribe to {uri}: "), caught.value.message
        assert "\n" not in caught.value.message
        return caught.value

    async with session(live_server.url) as s, session(live_server.url) as t:
        bad = await refused(s.client, "k8s://current/default/configmaps")
        assert bad.code == INVALID_PARAMS and "not an object URI" in bad.message
        secret = await refused(s.client, f"k8s://current/{namespace}/secrets/anything")
        assert secret.code == INVALID_PARAMS and "denied by server policy" in secret.message
        system = await refused(s.client, "k8s://current/kube-system/configmaps/kube-root-ca.crt")
        assert system.code == INVALID_PARAMS and "'kube-system' is denied" in system.message
        missing = await refused(s.client, f"k8s://current/{namespace}/configmaps/missing")
        assert missing.code == INVALID_PARAMS and "not found" in missing.message
        assert gauges(live_server) == (0, 0)

        for uri in uris[:3]:
            await s.client.subscribe_resource(uri)
        per_session = await refused(s.client, uris[3])
        assert per_session.code == INVALID_REQUEST and "subscriptions_per_session" in per_session.message
        for uri in uris[3:5]:
            await t.client.subscribe_resource(uri)
        per_process = await refused(t.client, uris[5])
        assert per_process.code == INVALID_REQUEST and "max_subscriptions" in per_process.message
        assert gauges(live_server) == (5, 5)
    await gauges_become(live_server, (0, 0))
    audit = [line for line in live_server.logs().splitlines() if '"resource subscribe"' in line]
    assert any('"outcome": "denied"' in line for line in audit) and any('"outcome": "ok"' in line for line in audit)


async def test_a_2026_client_listens_to_an_object(live_server: ServerProcess, kubectl: Kubectl, namespace: str) -> None:
    uri = configmap(kubectl, namespace, "listened")
    async with session(live_server.url, mode="auto") as s:
        assert s.client.protocol_version == "2026-07-28"
        assert s.client.server_capabilities.resources.subscribe is True
        async with s.client.listen(resource_subscriptions=[uri]) as sub:
            assert gauges(live_server) == (1, 1)
            await anyio.to_thread.run_sync(patch, kubectl, namespace, "listened", 1)
            with anyio.fail_after(WAIT):
                event = await sub.__anext__()
            assert event == ResourceUpdated(uri=uri)
        await gauges_become(live_server, (0, 0))
        with pytest.raises(MCPError) as caught:
            async with s.client.listen(resource_subscriptions=[f"k8s://current/{namespace}/secrets/x"]):
                pass
        assert "denied by server policy" in caught.value.message
    await gauges_become(live_server, (0, 0))


@contextlib.contextmanager
def relay_to_api_server(kubeconfig: Path, tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A kubeconfig whose server is a TCP relay to the real API server, and the relay process."""
    doc = yaml.safe_load(kubeconfig.read_text())
    cluster = doc["clusters"][0]["cluster"]
    target = cluster["server"].removeprefix("https://")
    port = free_port()
    cluster["server"] = f"https://127.0.0.1:{port}"
    relayed = tmp_path / "kubeconfig-relayed"
    relayed.write_text(yaml.safe_dump(doc))
    relay = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.tcp_proxy", str(port), target],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert relay.stdout is not None and relay.stdout.readline().strip() == "ready"
        yield relayed, relay
    finally:
        relay.terminate()
        relay.wait(timeout=10)


async def test_a_watch_resumes_after_its_connection_is_cut(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    uri = configmap(kubectl, namespace, "resumed")
    with relay_to_api_server(kubeconfig, tmp_path) as (relayed, relay):
        server = start_server(tmp_path, "--kubeconfig", str(relayed), "--rate-limit", "", "--log-level", "DEBUG")
        try:
            async with session(server.url) as s:
                await s.client.subscribe_resource(uri)
                with anyio.fail_after(WAIT):  # cut the watch itself, not the list before it
                    while "watch request open" not in server.logs():
                        await anyio.sleep(0.1)
                relay.send_signal(signal.SIGUSR1)  # every connection to the API server is reset
                await anyio.to_thread.run_sync(patch, kubectl, namespace, "resumed", 1)
                assert await s.next_update(1) == [uri]
                await anyio.to_thread.run_sync(patch, kubectl, namespace, "resumed", 2)
                assert await s.next_update(2) == [uri, uri]
                assert gauges(server) == (1, 1)
        finally:
            server.stop()
    logs = server.logs()
    assert "watch connection lost; resuming" in logs and "watch resumed" in logs


async def test_callers_subscribe_as_themselves_and_only_to_what_they_may_read(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    """Impersonation: the read before subscribing and the watch itself are made as the caller."""
    uri = configmap(kubectl, namespace, "guarded")
    for group, verbs in (("watchers", "get,list,watch"), ("getters", "get,list")):
        kubectl("create", "role", group, f"--verb={verbs}", "--resource=configmaps", "-n", namespace)
        kubectl("create", "rolebinding", group, f"--role={group}", f"--group={group}", "-n", namespace)
    tokens = tmp_path / "tokens.csv"
    tokens.write_text(
        'token-ann,ann,1,"watchers"\ntoken-ben,ben,2,"watchers"\ntoken-cid,cid,3,"getters"\ntoken-dot,dot,4\n'
    )
    args = ("--kubeconfig", str(kubeconfig), "--rate-limit", "", "--auth-tokens-file", str(tokens))
    server = start_server(tmp_path, *args, "--cluster-auth", "impersonate")
    try:
        async with (
            session(server.url, token="token-ann") as ann,
            session(server.url, token="token-ben") as ben,
            session(server.url, token="token-cid") as cid,
            session(server.url, token="token-dot") as dot,
        ):
            with pytest.raises(MCPError) as caught:
                await dot.client.subscribe_resource(uri)  # no RBAC at all: the read is refused
            assert caught.value.code == INVALID_PARAMS and 'User "dot" cannot get' in caught.value.message

            await ann.client.subscribe_resource(uri)
            await ben.client.subscribe_resource(uri)
            assert gauges(server) == (2, 2)  # one watch per caller: none runs with another's rights
            await anyio.to_thread.run_sync(patch, kubectl, namespace, "guarded", 1)
            assert await ann.next_update(1) == [uri]
            assert await ben.next_update(1) == [uri]

            # cid may read the object but not watch it: the watch is refused, which is a final update.
            await cid.client.subscribe_resource(uri)
            assert await cid.next_update(1) == [uri]
            await gauges_become(server, (2, 2))
    finally:
        server.stop()
    assert "watch ended: the watch was refused" in server.logs()


async def test_a_stateless_server_refuses_2025_subscriptions_and_serves_2026_listen(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    uri = configmap(kubectl, namespace, "stateless")
    server = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--rate-limit", "", "--stateless")
    try:
        async with session(server.url) as s:
            with pytest.raises(MCPError) as caught:
                await s.client.subscribe_resource(uri)
            assert caught.value.code == INVALID_REQUEST and "subscriptions need an MCP session" in caught.value.message
        async with session(server.url, mode="auto") as s, s.client.listen(resource_subscriptions=[uri]) as sub:
            await anyio.to_thread.run_sync(patch, kubectl, namespace, "stateless", 1)
            with anyio.fail_after(WAIT):
                assert await sub.__anext__() == ResourceUpdated(uri=uri)
    finally:
        server.stop()


async def test_a_watch_whose_version_expired_lists_again_and_resumes(
    kubeconfig: Path, kubectl: Kubectl, namespace: str
) -> None:
    """410 Gone, for real: the watch is sent from resourceVersion 1, long compacted away on any API server."""
    from app.config import load_settings
    from app.kube.watch import ObjectRef, ObjectWatch
    from app.server import assemble

    class ExpiredOnce(ObjectWatch):
        lists = 0

        async def _list(self) -> bool:
            alive = await super()._list()
            self.lists += 1
            if self.lists == 1:
                self._version = "1"  # as if the API server had compacted past the listed version
            return alive

    configmap(kubectl, namespace, "expired")
    parts = assemble(load_settings(["--kubeconfig", str(kubeconfig)], environ={}))
    ref = ObjectRef(parts.kube.context(None).name, f"/api/v1/namespaces/{namespace}/configmaps", "expired")
    changes: list[bool] = []
    watch = ExpiredOnce(parts.kube, ref, changes.append, anyio.CapacityLimiter(2))
    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch.run)
            while not watch.resumes:
                await anyio.sleep(0.1)
            await anyio.to_thread.run_sync(patch, kubectl, namespace, "expired", 1)
            while not changes:
                await anyio.sleep(0.1)
            await anyio.to_thread.run_sync(lambda: kubectl("delete", "configmap", "expired", "-n", namespace))
    assert changes == [False, True]  # the patch, then the deletion; run() returned after it
    assert watch.resumes == 1


async def test_over_stdio_the_one_session_subscribes_and_is_told(
    kubeconfig: Path, kubectl: Kubectl, namespace: str
) -> None:
    uri = configmap(kubectl, namespace, "piped")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "app", "--transport", "stdio", "--kubeconfig", str(kubeconfig)],
        cwd=str(ROOT),
    )
    holder: list[Session] = []

    async def handle(message: Any) -> None:
        await holder[0].handle(message)

    async with Client(params, mode="legacy", message_handler=handle) as client:
        holder.append(Session(client))
        assert client.server_capabilities.resources.subscribe is True
        await client.subscribe_resource(uri)
        await anyio.to_thread.run_sync(patch, kubectl, namespace, "piped", 1)
        assert await holder[0].next_update(1) == [uri]
        await anyio.to_thread.run_sync(lambda: kubectl("delete", "configmap", "piped", "-n", namespace))
        assert await holder[0].next_update(2) == [uri, uri]
