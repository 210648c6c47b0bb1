"""Interchangeable replicas: a rolling restart under load loses no call, approvals hold across replicas,
and what each replica keeps to itself (rate limits, sessions, load) is visible per replica.

Three server processes run behind tests/integration/rr_proxy.py in ``ready`` mode (round-robin over
the replicas whose /readyz answers 200, as a Service does). A restart is what Kubernetes does to a
pod: SIGTERM, wait for the exit, start a new process.
"""

from __future__ import annotations

import json
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.integration.conftest import (
    ACCEPT,
    INIT,
    Kubectl,
    ServerProcess,
    connect,
    jsonrpc_message,
    start_server,
    text_of,
)
from tests.integration.test_approval import delete_args, exists, token_of
from tests.integration.test_pod_tools import POD, running
from tests.integration.test_replicas import calls_served, leaves, replicas

pytestmark = pytest.mark.anyio

SECRET = "replica-shared-approval-key-0123456789"


@pytest.fixture(scope="module")
def state_namespace(kubectl: Kubectl) -> Iterator[str]:
    name = f"state-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def replica_args(state_namespace: str, *extra: str) -> tuple[str, ...]:
    """Stateless replicas sharing the approval key and the state namespace; 3 s unready after SIGTERM
    (a real deployment's preStop and probe period play this part; the proxy probes every 0.2 s)."""
    return (
        "--stateless",
        "--enable-destructive-operations",
        "--approval-secret",
        SECRET,
        "--state-namespace",
        state_namespace,
        "--rate-limit",
        "",
        "--shutdown-delay-seconds",
        "3",
        *extra,
    )


def readyz(server: ServerProcess) -> int | None:
    try:
        return httpx2.get(f"{server.base}/readyz", timeout=2).status_code
    except httpx2.HTTPError:
        return None


def audit_lines(server: ServerProcess, tool: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in server.logs().splitlines() if '"tool call"' in line]
    return [line for line in lines if line.get("tool") == tool]


@pytest.mark.timeout(900)  # four server starts, each tens of seconds on a busy shared machine
async def test_a_rolling_restart_under_load_loses_no_call(
    tmp_path: Path, kubeconfig: Path, state_namespace: str
) -> None:
    args = ("--kubeconfig", str(kubeconfig), *replica_args(state_namespace))
    with replicas(tmp_path, kubeconfig, "ready", *args[2:], count=3) as (url, servers):
        failures: list[str] = []
        answered = 0
        done = anyio.Event()

        async def caller(era: str) -> None:
            nonlocal answered
            async with connect(url, era) as client:
                while not done.is_set():
                    try:
                        result = await client.call_tool("namespaces_list", {})
                    except Exception as e:
                        failures.append(f"{era}: {type(e).__name__}: {e}")
                        continue
                    if result.is_error or state_namespace not in text_of(result):
                        failures.append(f"{era}: {text_of(result)}")
                    answered += 1
                    await anyio.sleep(0.05)  # steady traffic, leaving CPU for the replica that restarts

        async def wait_for(what: str, predicate: Any) -> None:
            """Poll ``predicate`` (in a thread: it may do blocking HTTP) while the callers keep calling."""
            with anyio.fail_after(90):
                while not await anyio.to_thread.run_sync(predicate):
                    await anyio.sleep(0.05)

        async with anyio.create_task_group() as callers:
            for era in ("auto", "legacy", "auto", "legacy"):
                callers.start_soon(caller, era)
            await wait_for("calls before the restart", lambda: answered >= 20)
            victim = servers[1]
            port = int(victim.base.rsplit(":", 1)[1])
            victim.process.send_signal(signal.SIGTERM)
            # Unready while still listening: a 503 can only come from a process that still serves.
            await wait_for("the replica to turn unready", lambda: readyz(victim) == 503)
            code = await anyio.to_thread.run_sync(lambda: victim.process.wait(timeout=60))
            drained_log = victim.logs()
            before_restart = answered
            servers[1] = await anyio.to_thread.run_sync(lambda: start_server(tmp_path, *args, port=port))
            await wait_for("calls on the new replica", lambda: calls_served(servers[1]) >= 3)
            await wait_for("calls after the restart", lambda: answered >= before_restart + 20)
            done.set()
    assert failures == [], failures[:5]
    assert code == 0, drained_log[-2000:]
    assert "shutting down: unready, finishing requests in flight" in drained_log


async def test_a_call_in_flight_at_sigterm_finishes_before_the_replica_exits(
    tmp_path: Path, kubeconfig: Path, kubectl: Kubectl, namespace: str
) -> None:
    """SIGTERM during a slow call: /readyz turns 503, new 2025 sessions get 503, the call still
    completes, and only then does the process exit."""
    running(kubectl, namespace, POD, "solo")
    server = start_server(
        tmp_path,
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--approval",
        "none",
        "--shutdown-delay-seconds",
        "1",
    )
    try:
        async with connect(server.url, "auto") as client:
            await client.list_tools()  # now, so that the client asks nothing more once the call returns
            result: Any = None

            async def slow_call() -> None:
                nonlocal result
                command = ["sh", "-c", "sleep 3; echo finished"]
                result = await client.call_tool(
                    "pods_exec", {"name": "solo", "namespace": namespace, "command": command}
                )

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(slow_call)
                with anyio.fail_after(30):
                    while "k8s_mcp_inflight_requests 1.0" not in httpx2.get(f"{server.base}/metrics").text:
                        await anyio.sleep(0.05)
                server.process.send_signal(signal.SIGTERM)
                with anyio.fail_after(30):
                    while readyz(server) != 503:
                        await anyio.sleep(0.05)
                refused = httpx2.post(server.url, json=INIT, headers=ACCEPT, timeout=5)
                assert refused.status_code == 503
                assert "shutting down" in refused.json()["error"]["message"]
                assert server.process.poll() is None  # still serving the call
        assert result is not None and not result.is_error, result
        assert text_of(result).splitlines()[0] == "finished"
        assert await anyio.to_thread.run_sync(lambda: server.process.wait(timeout=60)) == 0
    finally:
        server.stop()


async def test_a_call_that_outlives_the_grace_period_does_not_hold_the_replica(
    tmp_path: Path, kubeconfig: Path, kubectl: Kubectl, namespace: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    server = start_server(
        tmp_path,
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--approval",
        "none",
        "--shutdown-grace-seconds",
        "1",
    )
    outcome: list[str] = []
    cut: list[BaseException] = []
    try:
        try:
            async with connect(server.url, "auto") as client:
                await client.list_tools()

                async def endless_call() -> None:
                    command = ["sleep", "60"]
                    arguments = {"name": "solo", "namespace": namespace, "command": command, "timeout": 120}
                    try:
                        result = await client.call_tool("pods_exec", arguments)
                    except Exception as e:
                        outcome.append(f"cut off: {type(e).__name__}")
                    else:
                        outcome.append("error result" if result.is_error else "completed")

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(endless_call)
                    with anyio.fail_after(30):
                        while "k8s_mcp_inflight_requests 1.0" not in httpx2.get(f"{server.base}/metrics").text:
                            await anyio.sleep(0.05)
                    server.process.send_signal(signal.SIGTERM)
                    await anyio.to_thread.run_sync(lambda: server.process.wait(timeout=60))
        except BaseExceptionGroup as group:  # the client's transport saw its connection cut
            cut.extend(leaves(group))
        # The process exits on its own although the call would run for a minute more.
        code = await anyio.to_thread.run_sync(lambda: server.process.wait(timeout=60))
    finally:
        server.stop()
    assert code == 0
    assert "completed" not in outcome and (outcome or cut), (outcome, cut)
    assert all(isinstance(e, httpx2.HTTPError) for e in cut), cut
    logs = server.logs()
    assert "timeout graceful shutdown exceeded" in logs
    # Cancelled at the deadline, the call closed its exec stream rather than leave it to its worker thread.
    exec_lines = [json.loads(line) for line in logs.splitlines() if '"verb": "EXEC"' in line]
    assert [line["status"] for line in exec_lines] == ["cancelled"], exec_lines


async def test_a_confirm_token_minted_on_one_replica_redeems_on_another_exactly_once(
    tmp_path: Path, kubeconfig: Path, kubectl: Kubectl, namespace: str, state_namespace: str
) -> None:
    servers = [
        start_server(tmp_path, "--kubeconfig", str(kubeconfig), *replica_args(state_namespace)) for _ in range(3)
    ]
    try:
        kubectl("create", "configmap", "doomed", "-n", namespace)
        async with connect(servers[0].url, "auto") as first:
            preview = await first.call_tool("resources_delete", delete_args(namespace))
        token = token_of(preview)
        assert exists(kubectl, namespace)
        async with connect(servers[1].url, "auto") as second:
            done = await second.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token})
        assert not done.is_error, text_of(done)
        kubectl.wait_until("deleted", lambda: not exists(kubectl, namespace))
        kubectl("create", "configmap", "doomed", "-n", namespace)
        for server in (servers[2], servers[0], servers[1]):
            async with connect(server.url, "auto") as client:
                replay = await client.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token})
            assert replay.is_error and "already used" in text_of(replay), text_of(replay)
        assert exists(kubectl, namespace)
    finally:
        for server in servers:
            server.stop()
    outcomes = [[(a["outcome"], a.get("approval")) for a in audit_lines(s, "resources_delete")] for s in servers]
    assert outcomes == [
        [("previewed", None), ("denied", None)],
        [("ok", "token"), ("denied", None)],
        [("denied", None)],
    ]
    records = kubectl("get", "leases", "-n", state_namespace, "-l", "k8s-mcp.io/record=approval-nonce", "-o", "name")
    assert len(records.split()) >= 1


def modern_call(name: str, arguments: dict[str, Any], **params: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A raw 2026-07-28 tools/call from a client that can answer elicitations."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": name,
            "arguments": arguments,
            **params,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
                "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
            },
        },
    }
    headers = {
        **ACCEPT,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": name,
    }
    return body, headers


async def test_a_2026_elicitation_asked_on_one_replica_is_honoured_when_answered_on_a_third(
    tmp_path: Path, kubeconfig: Path, kubectl: Kubectl, namespace: str
) -> None:
    args = ("--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--approval", "elicit")
    servers = [start_server(tmp_path, *args, "--approval-secret", SECRET) for _ in range(3)]
    try:
        kubectl("create", "configmap", "doomed", "-n", namespace)
        body, headers = modern_call("resources_delete", delete_args(namespace))
        asked = jsonrpc_message(httpx2.post(servers[0].url, json=body, headers=headers, timeout=30).text)["result"]
        assert asked.get("resultType") == "input_required", asked
        assert exists(kubectl, namespace)
        answer = {"approval": {"action": "accept", "content": {"approve": True}}}
        body, headers = modern_call(
            "resources_delete", delete_args(namespace), inputResponses=answer, requestState=asked["requestState"]
        )
        done = jsonrpc_message(httpx2.post(servers[2].url, json=body, headers=headers, timeout=30).text)
        assert "result" in done and not done["result"].get("isError"), done
        kubectl.wait_until("deleted", lambda: not exists(kubectl, namespace))
    finally:
        for server in servers:
            server.stop()
    assert [a["outcome"] for a in audit_lines(servers[0], "resources_delete")] == ["asked"]
    assert [(a["outcome"], a.get("approval")) for a in audit_lines(servers[2], "resources_delete")] == [
        ("ok", "elicited")
    ]


def metric(server: ServerProcess, name: str) -> float:
    text = httpx2.get(f"{server.base}/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith((name + " ", name + "{")))


async def test_rate_limits_sessions_and_load_are_per_replica_and_shown_by_each(
    tmp_path: Path, kubeconfig: Path
) -> None:
    """Each replica counts its own callers (a limit of N per minute is N per replica), holds its own
    2025-era sessions, and reports its own load on /metrics."""
    one, two = (start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--rate-limit", "3/minute") for _ in range(2))
    try:
        statuses = [httpx2.post(one.url, json=INIT, headers=ACCEPT, timeout=10).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        opened = httpx2.post(two.url, json=INIT, headers=ACCEPT, timeout=10)
        assert opened.status_code == 200
        session = {**ACCEPT, "mcp-session-id": opened.headers["mcp-session-id"]}
        ready = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert httpx2.post(two.url, json=ready, headers=session, timeout=10).status_code == 202
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "namespaces_list", "arguments": {}},
        }
        answer = jsonrpc_message(httpx2.post(two.url, json=call, headers=session, timeout=30).text)
        assert not answer["result"].get("isError"), answer
        assert metric(one, "k8s_mcp_open_sessions") == 3 and metric(two, "k8s_mcp_open_sessions") == 1
        assert calls_served(two) == 1 and calls_served(one) == 0
        for server in (one, two):
            assert metric(server, "k8s_mcp_inflight_requests") == 0
            assert metric(server, "k8s_mcp_draining") == 0
    finally:
        one.stop()
        two.stop()
