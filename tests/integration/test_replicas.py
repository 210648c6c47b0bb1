"""Scaling out: two server processes behind a load balancer that spreads requests, as an HPA'd
Deployment behind a Service or an Ingress would. These tests are what docs/deployment.md
("Scaling out") rests on: which routing each kind of client needs.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import MCPError

from tests.integration.conftest import ROOT, ServerProcess, connect, free_port, start_server, text_of

pytestmark = pytest.mark.anyio


@contextlib.contextmanager
def replicas(
    tmp_path: Path,
    kubeconfig: Path,
    mode: str,
    *server_args: str,
    count: int = 2,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, list[ServerProcess]]]:
    """``count`` servers behind rr_proxy (round-robin, learned stickiness or readiness-aware round-robin);
    yields the proxy's /mcp URL and the servers (the list is live: a test may replace a restarted one)."""
    servers: list[ServerProcess] = []
    proxy: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(count):
            servers.append(start_server(tmp_path, "--kubeconfig", str(kubeconfig), *server_args, env=env))
        port = free_port()
        proxy = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.rr_proxy", str(port), mode, *(s.base for s in servers)],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(httpx2.HTTPError):
                if all(httpx2.get(f"http://127.0.0.1:{port}/_proxy/ready", timeout=1).json()["ready"]):
                    break
            assert time.monotonic() < deadline, "proxy did not start or does not see every backend ready"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp", servers
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
        for server in servers:
            server.stop()


def calls_served(server: ServerProcess) -> int:
    """Tool calls a backend answered, from its own /metrics."""
    text = httpx2.get(f"{server.base}/metrics", timeout=5).text
    return int(
        sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("k8s_mcp_tool_calls_total{"))
    )


def leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


async def four_calls(url: str, era: str) -> list[str]:
    async with connect(url, era) as client:
        results = [await client.call_tool("namespaces_list", {}) for _ in range(4)]
    assert not any(r.is_error for r in results), [text_of(r) for r in results]
    return [text_of(r) for r in results]


async def test_stateless_replicas_serve_legacy_clients_behind_any_routing(tmp_path: Path, kubeconfig: Path) -> None:
    with replicas(tmp_path, kubeconfig, "round-robin", "--stateless") as (url, servers):
        texts = await four_calls(url, "legacy")
        served = [calls_served(s) for s in servers]
    assert all("default" in t for t in texts)
    assert sum(served) == 4 and min(served) >= 1, f"both replicas should have served calls: {served}"


async def test_stateful_replicas_lose_legacy_sessions_behind_round_robin(tmp_path: Path, kubeconfig: Path) -> None:
    with replicas(tmp_path, kubeconfig, "round-robin") as (url, _), pytest.raises(BaseException) as caught:
        await four_calls(url, "legacy")
    errors = leaves(caught.value)
    assert any(isinstance(e, MCPError) and "Session not found" in str(e) for e in errors), errors


async def test_stateful_replicas_keep_legacy_sessions_with_learned_stickiness(tmp_path: Path, kubeconfig: Path) -> None:
    with replicas(tmp_path, kubeconfig, "learn") as (url, servers):
        await four_calls(url, "legacy")
        await four_calls(url, "legacy")
        served = [calls_served(s) for s in servers]
    assert sorted(served) == [4, 4], f"each session should stay on the replica that created it: {served}"


async def test_2026_clients_need_no_stickiness_even_on_stateful_replicas(tmp_path: Path, kubeconfig: Path) -> None:
    with replicas(tmp_path, kubeconfig, "round-robin") as (url, servers):
        await four_calls(url, "auto")
        served = [calls_served(s) for s in servers]
    assert min(served) >= 1, f"both replicas should have served calls: {served}"
