"""The HTTP surface: sessions in both eras, Host/Origin checks, health, readiness, metrics, logs, shutdown, stdio."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2
import pytest
from mcp import Client, StdioServerParameters

from tests.integration.conftest import ACCEPT, INIT, ROOT, ServerProcess, connect, start_server, text_of

pytestmark = pytest.mark.anyio


def test_initialize_issues_a_session_that_delete_ends_and_then_404s(server: ServerProcess) -> None:
    opened = httpx2.post(server.url, json=INIT, headers=ACCEPT)
    assert opened.status_code == 200
    sid = opened.headers["mcp-session-id"]
    listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    headers = {**ACCEPT, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
    httpx2.post(server.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    assert httpx2.post(server.url, json=listed, headers=headers).status_code == 200
    assert httpx2.delete(server.url, headers=headers).status_code == 200
    assert httpx2.post(server.url, json=listed, headers=headers).status_code == 404


def test_an_unknown_session_id_gets_404(server: ServerProcess) -> None:
    headers = {**ACCEPT, "mcp-session-id": "0" * 32, "mcp-protocol-version": "2025-11-25"}
    response = httpx2.post(server.url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=headers)
    assert response.status_code == 404


def test_a_foreign_origin_gets_403_and_a_foreign_host_421(server: ServerProcess) -> None:
    assert httpx2.post(server.url, json=INIT, headers={**ACCEPT, "Origin": "https://evil.example"}).status_code == 403
    assert httpx2.post(server.url, json=INIT, headers={**ACCEPT, "Host": "evil.example"}).status_code == 421
    service_host = {**ACCEPT, "Host": "k8s-mcp.tools.svc.cluster.local:8008"}
    assert httpx2.post(server.url, json=INIT, headers=service_host).status_code == 200


async def test_both_eras_are_served_on_one_endpoint(server: ServerProcess) -> None:
    async with connect(server.url, "legacy") as legacy, connect(server.url, "auto") as modern:
        assert legacy.protocol_version.startswith("2025")
        assert modern.protocol_version == "2026-07-28"
        assert not (await legacy.call_tool("namespaces_list", {})).is_error
        assert not (await modern.call_tool("namespaces_list", {})).is_error


def test_health_readiness_and_metrics(server: ServerProcess) -> None:
    assert httpx2.get(f"{server.base}/healthz").json() == {"status": "ok"}
    ready = httpx2.get(f"{server.base}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    metrics = httpx2.get(f"{server.base}/metrics").text
    for series in (
        "k8s_mcp_tool_calls_total",
        "k8s_mcp_tool_duration_seconds_bucket",
        "k8s_mcp_kube_api_calls_total",
        "k8s_mcp_open_sessions",
        "k8s_mcp_inflight_tool_calls",
    ):
        assert series in metrics


async def test_metrics_count_tool_calls_by_outcome(server: ServerProcess) -> None:
    async with connect(server.url, "auto") as client:
        await client.call_tool("namespaces_list", {})
        await client.call_tool("pods_get", {})
    metrics = httpx2.get(f"{server.base}/metrics").text
    assert re.search(r'k8s_mcp_tool_calls_total\{outcome="ok",tool="namespaces_list"\} [1-9]', metrics)
    assert re.search(r'k8s_mcp_tool_calls_total\{outcome="invalid",tool="pods_get"\} [1-9]', metrics)
    assert re.search(r'k8s_mcp_kube_api_calls_total\{status="200",verb="GET"\} [1-9]', metrics)


def test_readiness_is_503_with_the_reason_when_the_cluster_is_unreachable(tmp_path: Path) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(tmp_path / "missing"), "--in-cluster", "false")
    try:
        ready = httpx2.get(f"{proc.base}/readyz")
        assert ready.status_code == 503
        assert "kubeconfig" in ready.json()["reason"]
        assert httpx2.get(f"{proc.base}/healthz").status_code == 200
    finally:
        proc.stop()


async def test_one_correlation_id_ties_request_tool_call_and_api_calls(server: ServerProcess) -> None:
    cid = "corr-test-1234"
    async with connect(server.url, "auto", headers={"X-Correlation-Id": cid}) as client:
        await client.call_tool("pods_get", {"name": "nope", "namespace": "default"})
    lines = [json.loads(line) for line in server.logs().splitlines() if cid in line]
    messages = {line["message"] for line in lines}
    assert {"tool call", "kube api call"} <= messages
    audit = next(line for line in lines if line["message"] == "tool call")
    assert audit["tool"] == "pods_get" and audit["outcome"] == "failed" and audit["arguments"]["name"] == "nope"
    assert all(line["correlation_id"] == cid for line in lines)


def test_sigterm_shuts_down_cleanly(kubeconfig: Path, tmp_path: Path) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig))
    opened = httpx2.post(proc.url, json=INIT, headers=ACCEPT)
    assert opened.status_code == 200
    code = proc.stop(timeout=15)
    # uvicorn re-raises the signal after a graceful shutdown, so the exit status says SIGTERM.
    assert code in (0, -15)
    assert '"message": "stopped"' in proc.logs()


async def test_stdio_transport_lists_pods(kubeconfig: Path) -> None:
    params = StdioServerParameters(
        command="uv",
        args=["run", "--frozen", "k8s-mcp", "--transport", "stdio", "--kubeconfig", str(kubeconfig)],
        cwd=str(ROOT),
    )
    async with Client(params) as client:
        result = await client.call_tool("pods_list", {})
    assert not result.is_error
    assert text_of(result).startswith("NAMESPACE") or text_of(result).startswith("No pods")
