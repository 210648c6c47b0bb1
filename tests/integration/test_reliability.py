"""Reliability under load, cluster faults, malformed input and session churn (bounded in time).

The fault test runs against a private control plane of its own, so stopping its API server does not
disturb the other tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import MCPError

from tests.integration.conftest import (
    ACCEPT,
    INIT,
    ROOT,
    ServerProcess,
    connect,
    jsonrpc_message,
    start_server,
    text_of,
)

pytestmark = pytest.mark.anyio


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def open_sessions(base: str) -> float:
    match = re.search(r"^k8s_mcp_open_sessions (\S+)$", httpx2.get(f"{base}/metrics").text, re.M)
    assert match
    return float(match.group(1))


async def wait_for(what: str, predicate, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        await anyio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def test_fifty_sessions_of_a_hundred_mixed_reads_have_no_errors(
    kubeconfig: Path, tmp_path: Path, namespace: str, kubectl
) -> None:
    kubectl("create", "configmap", "probe", "-n", namespace)
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--rate-limit", "")
    calls = [
        ("namespaces_list", {}),
        ("pods_list_in_namespace", {"namespace": namespace}),
        ("resources_get", {"apiVersion": "v1", "kind": "ConfigMap", "name": "probe", "namespace": namespace}),
        ("events_list", {"namespace": namespace}),
    ]
    errors: list[str] = []
    try:
        baseline = rss_mb(proc.process.pid)

        async def session(index: int) -> None:
            async with connect(proc.url, "legacy" if index % 2 == 0 else "auto") as client:
                for i in range(100):
                    name, arguments = calls[(index + i) % len(calls)]
                    result = await client.call_tool(name, arguments)
                    if result.is_error:
                        errors.append(text_of(result))

        async with anyio.create_task_group() as group:
            for index in range(50):
                group.start_soon(session, index)
        peak = rss_mb(proc.process.pid)
        assert errors == []
        await wait_for("sessions closed", lambda: open_sessions(proc.base) == 0, 15)
        after = rss_mb(proc.process.pid)
        print(f"\nRSS MB: baseline {baseline:.0f}, after 5000 calls {peak:.0f}, after close {after:.0f}")
        assert after < baseline + 80, (baseline, peak, after)
    finally:
        proc.stop()


@dataclass
class PrivateCluster:
    directory: Path
    name: str
    kubeconfig: Path
    env: dict[str, str]
    restarted: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def workdir(self) -> Path:
        return self.directory / "kwok" / "clusters" / self.name

    def apiserver_pid(self) -> int:
        return int((self.workdir / "pids" / "kube-apiserver.pid").read_text().strip())

    def stop_apiserver(self) -> tuple[list[str], str]:
        pid = self.apiserver_pid()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        cwd = os.readlink(f"/proc/{pid}/cwd")
        os.kill(pid, signal.SIGKILL)
        return [a.decode() for a in argv], cwd

    def start_apiserver(self, argv: list[str], cwd: str) -> None:
        log = (self.workdir / "logs" / "kube-apiserver.log").open("ab")
        process = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.restarted.append(process)
        (self.workdir / "pids" / "kube-apiserver.pid").write_text(str(process.pid))


@pytest.fixture(scope="module")
def private_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateCluster]:
    directory = tmp_path_factory.mktemp("cluster")
    name = f"rel-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "K8S_MCP_CLUSTER_DIR": str(directory),
        "K8S_MCP_CLUSTER_NAME": name,
        "K8S_MCP_CLUSTER_NODES": "1",
    }
    subprocess.run([str(ROOT / "rig" / "cluster.sh"), "up"], env=env, check=True, capture_output=True, timeout=600)
    cluster = PrivateCluster(directory, name, directory / "kubeconfig", env)
    yield cluster
    subprocess.run([str(ROOT / "rig" / "cluster.sh"), "down"], env=env, check=False, capture_output=True, timeout=120)
    for process in cluster.restarted:
        with contextlib.suppress(ProcessLookupError):
            process.kill()


async def test_the_server_rides_out_an_api_server_outage(private_cluster: PrivateCluster, tmp_path: Path) -> None:
    proc = start_server(
        tmp_path,
        "--kubeconfig",
        str(private_cluster.kubeconfig),
        "--api-timeout",
        "3",
        "--readiness-cache-seconds",
        "0.5",
    )
    outcomes: list[tuple[float, bool, str]] = []
    failures: list[str] = []
    stop = anyio.Event()
    try:

        async def load(mode: str) -> None:
            async with connect(proc.url, mode) as client:
                while not stop.is_set():
                    started = time.monotonic()
                    try:
                        result = await client.call_tool("namespaces_list", {})
                    except Exception as e:  # an HTTP 500 or a hang would land here
                        failures.append(repr(e))
                        return
                    outcomes.append((time.monotonic() - started, result.is_error, text_of(result)))
                    await anyio.sleep(0.05)

        async with anyio.create_task_group() as group:
            for mode in ("legacy", "auto", "legacy", "auto"):
                group.start_soon(load, mode)
            await wait_for("some successful calls", lambda: sum(not e for _, e, _ in outcomes) >= 8, 20)
            argv, cwd = private_cluster.stop_apiserver()
            down_after = await wait_for("/readyz 503", lambda: httpx2.get(f"{proc.base}/readyz").status_code == 503, 10)
            await wait_for("errors during the outage", lambda: sum(e for _, e, _ in outcomes) >= 8, 20)
            private_cluster.start_apiserver(argv, cwd)
            await wait_for("/readyz 200 again", lambda: httpx2.get(f"{proc.base}/readyz").status_code == 200, 90)
            recovered_from = len(outcomes)
            await wait_for("calls succeed again", lambda: sum(not e for _, e, _ in outcomes[recovered_from:]) >= 8, 30)
            stop.set()
        assert failures == []
        gap_errors = [(latency, text) for latency, is_error, text in outcomes if is_error]
        assert gap_errors
        for latency, text in gap_errors:
            assert "\n" not in text and text.startswith("failed to list namespaces: ")
            assert latency < 3 + 3, f"an outage call took {latency:.1f}s"
        print(f"\n/readyz turned 503 {down_after:.1f}s after the kill; {len(gap_errors)} clean errors in the gap")
        assert proc.process.poll() is None
    finally:
        stop.set()
        proc.stop()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
            max_leaves=12,
        ).map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries(
            {
                "jsonrpc": st.just("2.0"),
                "id": st.integers(),
                "method": st.sampled_from(
                    ["tools/call", "tools/list", "initialize", "resources/read", "prompts/get", "nope"]
                ),
                "params": st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
            }
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_fuzzed_json_rpc_bodies_never_get_a_500_or_a_traceback(server: ServerProcess, body: bytes) -> None:
    for headers in (ACCEPT, {**ACCEPT, "mcp-protocol-version": "2026-07-28"}):
        response = httpx2.post(server.url, content=body, headers=headers, timeout=30)
        assert response.status_code < 500
        assert "Traceback" not in response.text


@pytest.fixture(scope="module")
def raw_session(server: ServerProcess) -> dict[str, str]:
    """A legacy session driven with plain HTTP, so each fuzz example costs one request."""
    opened = httpx2.post(server.url, json=INIT, headers=ACCEPT)
    headers = {**ACCEPT, "mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    httpx2.post(server.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


ARGUMENT_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    tool=st.sampled_from(
        [
            "pods_list",
            "pods_get",
            "resources_list",
            "resources_get",
            "events_list",
            "pods_list_in_namespace",
            "namespaces_list",
            "configuration_contexts_list",
        ]
    ),
    arguments=st.one_of(
        st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "namespace",
                    "apiVersion",
                    "kind",
                    "labelSelector",
                    "fieldSelector",
                    "limit",
                    "continue",
                    "context",
                    "bogus",
                ]
            ),
            ARGUMENT_VALUES,
            max_size=5,
        ),
        ARGUMENT_VALUES,
    ),
)
def test_fuzzed_tool_arguments_get_a_clean_answer(
    server: ServerProcess, raw_session: dict[str, str], tool: str, arguments: object
) -> None:
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    response = httpx2.post(server.url, json=call, headers=raw_session, timeout=30)
    assert response.status_code < 500
    message = jsonrpc_message(response.text)
    assert "Traceback" not in json.dumps(message)
    result = message.get("result")
    if result and result.get("isError"):
        text = result["content"][0]["text"]
        assert "\n" not in text, text
        assert "internal error" not in text, (tool, arguments, text)


async def test_session_lifecycle_idle_expiry_limit_and_restart(kubeconfig: Path, tmp_path: Path) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--session-idle-timeout", "2", "--max-sessions", "2")
    try:
        first = httpx2.post(proc.url, json=INIT, headers=ACCEPT).headers["mcp-session-id"]
        httpx2.post(proc.url, json=INIT, headers=ACCEPT)
        assert httpx2.post(proc.url, json=INIT, headers=ACCEPT).status_code == 503  # too many sessions
        listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        headers = {**ACCEPT, "mcp-session-id": first, "mcp-protocol-version": "2025-11-25"}
        # Watch the gauge, not the session: touching the session would keep it alive.
        await wait_for("idle sessions reaped", lambda: open_sessions(proc.base) == 0, 15)
        assert httpx2.post(proc.url, json=listed, headers=headers).status_code == 404
        assert httpx2.post(proc.url, json=INIT, headers=ACCEPT).status_code == 200  # room again
    finally:
        proc.stop()


async def test_a_legacy_client_sees_a_clear_error_after_a_server_restart_and_can_reinitialize(
    kubeconfig: Path, tmp_path: Path
) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig))
    port = proc.url.rsplit(":", 1)[1].split("/")[0]
    async with connect(proc.url, "legacy") as client:
        assert not (await client.call_tool("namespaces_list", {})).is_error
        proc.stop()
        again = start_server(tmp_path, "--kubeconfig", str(kubeconfig), port=int(port))
        with pytest.raises(MCPError, match="Session not found"):
            await client.call_tool("namespaces_list", {})
    try:
        async with connect(again.url, "legacy") as fresh:
            assert not (await fresh.call_tool("namespaces_list", {})).is_error
    finally:
        again.stop()
