"""Traces in a real Jaeger (rig/jaeger.sh): one trace per MCP request, joined to the caller's trace by the
W3C ``traceparent`` of the HTTP request or of the request's ``_meta``, with spans for the tool call,
each Kubernetes API call and each Helm subprocess; log lines carry the trace id; no secret in any span.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.integration.conftest import (
    ACCEPT,
    INIT,
    Jaeger,
    Kubectl,
    ServerProcess,
    connect,
    jsonrpc_message,
    rig_bin,
    start_server,
    text_of,
)
from tests.integration.test_pod_tools import POD, running

pytestmark = pytest.mark.anyio

PLANTED = "planted-Secret-value-7c1e9a"


@dataclass
class Span:
    span_id: str
    parent_id: str | None
    name: str
    tags: dict[str, Any]
    service: str


@dataclass
class Trace:
    spans: list[Span]
    raw: str

    def named(self, prefix: str) -> list[Span]:
        return [s for s in self.spans if s.name.startswith(prefix)]

    def one(self, name: str) -> Span:
        found = [s for s in self.spans if s.name == name]
        assert len(found) == 1, (name, [s.name for s in self.spans])
        return found[0]

    def children(self, parent: Span) -> list[Span]:
        return [s for s in self.spans if s.parent_id == parent.span_id]


def fetch_trace(jaeger: Jaeger, trace_id: str, *, until: list[str], timeout: float = 30) -> Trace:
    """The trace as Jaeger's query API returns it, once every span named in ``until`` has arrived."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        response = httpx2.get(f"{jaeger.query_url}/api/traces/{trace_id}", timeout=5)
        last = response.text
        if response.status_code == 200 and response.json().get("data"):
            data = response.json()["data"][0]
            services = {key: p["serviceName"] for key, p in data["processes"].items()}
            spans = [
                Span(
                    s["spanID"],
                    next((r["spanID"] for r in s.get("references", []) if r["refType"] == "CHILD_OF"), None),
                    s["operationName"],
                    {t["key"]: t["value"] for t in s.get("tags", [])},
                    services[s["processID"]],
                )
                for s in data["spans"]
            ]
            names = [s.name for s in spans]
            if all(any(n.startswith(want) for n in names) for want in until):
                return Trace(spans, response.text)
        time.sleep(0.2)
    raise AssertionError(f"trace {trace_id} never had spans {until}: {last[:2000]}")


def new_parent() -> tuple[str, str, str]:
    """A caller's trace id, span id and the traceparent naming them."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"


@pytest.fixture(scope="module")
def traced(kubeconfig: Path, jaeger: Jaeger, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(
        tmp_path_factory.mktemp("traced"),
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--rate-limit",
        "",
        "--helm-binary",
        str(rig_bin() / "helm"),
        env=jaeger.otel_env(),
    )
    yield proc
    proc.stop()


async def test_a_tool_call_is_one_trace_under_the_callers_http_traceparent(
    traced: ServerProcess, jaeger: Jaeger, kubectl: Kubectl, namespace: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    trace_id, parent, header = new_parent()
    async with connect(traced.url, "auto", {"traceparent": header}) as client:
        result = await client.call_tool("pods_get", {"name": "solo", "namespace": namespace})
    assert not result.is_error, text_of(result)
    trace = fetch_trace(jaeger, trace_id, until=["tools/call pods_get", "execute_tool pods_get", "kube GET pods"])
    server = trace.one("tools/call pods_get")
    assert server.parent_id == parent and server.service == "k8s-mcp"
    assert server.tags["span.kind"] == "server"
    tool = trace.one("execute_tool pods_get")
    assert tool.parent_id == server.span_id
    assert tool.tags["gen_ai.tool.name"] == "pods_get" and tool.tags["k8s_mcp.outcome"] == "ok"
    assert json.loads(tool.tags["k8s_mcp.tool.arguments"]) == {"name": "solo", "namespace": namespace}
    [api] = [s for s in trace.children(tool) if s.name == "kube GET pods"]
    assert api.tags["span.kind"] == "client"
    assert api.tags["http.request.method"] == "GET" and api.tags["k8s.resource"] == "pods"
    assert api.tags["http.response.status_code"] == 200
    assert api.tags["k8s.namespace.name"] == namespace and api.tags["k8s.object.name"] == "solo"
    # The log lines of that call carry its trace id.
    lines = [json.loads(line) for line in traced.logs().splitlines() if trace_id in line]
    assert {line["message"] for line in lines} >= {"kube api call", "tool call"}
    assert all(line["trace_id"] == trace_id for line in lines)


async def test_the_traceparent_in_meta_wins_and_a_failed_api_call_is_marked(
    traced: ServerProcess, jaeger: Jaeger, namespace: str
) -> None:
    trace_id, parent, meta_header = new_parent()
    other_trace, _, http_header = new_parent()
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "pods_get",
            "arguments": {"name": "ghost", "namespace": namespace},
            "_meta": {
                "traceparent": meta_header,
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    }
    headers = {
        **ACCEPT,
        "traceparent": http_header,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "pods_get",
    }
    answer = jsonrpc_message(httpx2.post(traced.url, json=body, headers=headers, timeout=30).text)
    assert answer["result"]["isError"] is True
    trace = fetch_trace(jaeger, trace_id, until=["execute_tool pods_get", "kube GET pods"])
    assert trace.one("tools/call pods_get").parent_id == parent
    tool = trace.one("execute_tool pods_get")
    assert tool.tags["k8s_mcp.outcome"] == "failed" and tool.tags["otel.status_code"] == "ERROR"
    api = trace.one("kube GET pods")
    assert api.tags["http.response.status_code"] == 404 and api.tags["error.type"] == "404"
    assert httpx2.get(f"{jaeger.query_url}/api/traces/{other_trace}", timeout=5).status_code == 404


async def test_each_call_of_a_2025_session_joins_its_own_requests_trace(traced: ServerProcess, jaeger: Jaeger) -> None:
    """A session's calls run in the session's task; each must still join the trace of its own HTTP request,
    not the trace of the request that opened the session."""
    opening_trace, _, opening = new_parent()
    opened = httpx2.post(traced.url, json=INIT, headers={**ACCEPT, "traceparent": opening}, timeout=10)
    session = {**ACCEPT, "mcp-session-id": opened.headers["mcp-session-id"]}
    httpx2.post(traced.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
    ids = []
    for n in range(2):
        trace_id, parent, header = new_parent()
        call = {"jsonrpc": "2.0", "id": 10 + n, "method": "tools/call"}
        call["params"] = {"name": "namespaces_list", "arguments": {}}
        answer = httpx2.post(traced.url, json=call, headers={**session, "traceparent": header}, timeout=30)
        assert not jsonrpc_message(answer.text)["result"].get("isError")
        ids.append((trace_id, parent))
    for trace_id, parent in ids:
        trace = fetch_trace(jaeger, trace_id, until=["execute_tool namespaces_list", "kube GET namespaces"])
        assert trace.one("tools/call namespaces_list").parent_id == parent
    opening_spans = fetch_trace(jaeger, opening_trace, until=["initialize"]).spans
    assert not [s for s in opening_spans if s.name.startswith("execute_tool")]


async def test_a_helm_subprocess_is_a_span_of_its_tool_call(
    traced: ServerProcess, jaeger: Jaeger, namespace: str
) -> None:
    trace_id, _, header = new_parent()
    async with connect(traced.url, "auto", {"traceparent": header}) as client:
        result = await client.call_tool("helm_list", {"namespace": namespace})
    assert not result.is_error, text_of(result)
    trace = fetch_trace(jaeger, trace_id, until=["execute_tool helm_list", "helm list"])
    helm = trace.one("helm list")
    assert helm.parent_id == trace.one("execute_tool helm_list").span_id
    assert helm.tags["helm.command"] == "list" and helm.tags["process.exit.code"] == 0
    assert helm.tags["k8s.namespace.name"] == namespace and helm.tags["k8s_mcp.outcome"] == "ok"


async def test_no_secret_reaches_a_span_and_previews_are_marked_dry_run(
    traced: ServerProcess, jaeger: Jaeger, namespace: str
) -> None:
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
        f"data: {{password: {PLANTED}, note: 'Authorization: Bearer {PLANTED}'}}\n"
    )
    trace_id, _, header = new_parent()
    async with connect(traced.url, "auto", {"traceparent": header}) as client:
        preview = await client.call_tool("resources_create_or_update", {"resource": manifest, "namespace": namespace})
    assert "approvalToken" in text_of(preview) or preview.is_error, text_of(preview)
    trace = fetch_trace(jaeger, trace_id, until=["execute_tool resources_create_or_update", "kube "])
    assert PLANTED not in trace.raw
    assert PLANTED not in traced.logs()
    tool = trace.one("execute_tool resources_create_or_update")
    assert json.loads(tool.tags["k8s_mcp.tool.arguments"])["resource"] == "<redacted>"
    writes = [s for s in trace.named("kube ") if s.tags["http.request.method"] != "GET"]
    assert writes and all(s.tags["k8s_mcp.dry_run"] is True for s in writes)


async def test_without_otel_settings_tracing_is_off(kubeconfig: Path, jaeger: Jaeger, tmp_path: Path) -> None:
    server = start_server(tmp_path, "--kubeconfig", str(kubeconfig))
    try:
        trace_id, _, header = new_parent()
        async with connect(server.url, "auto", {"traceparent": header}) as client:
            assert not (await client.call_tool("namespaces_list", {})).is_error
    finally:
        server.stop()
    assert "tracing on" not in server.logs()
    calls = [json.loads(line) for line in server.logs().splitlines() if '"kube api call"' in line]
    assert calls and all(c["trace_id"] == "-" for c in calls)
    assert httpx2.get(f"{jaeger.query_url}/api/traces/{trace_id}", timeout=5).status_code == 404
