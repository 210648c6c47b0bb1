"""Pure helpers of the pod, node, cluster and infra tools: parsing, status, rendering."""

from __future__ import annotations

import pytest

from app.args import parse_duration, parse_since
from app.errors import ToolInputError
from app.kube.exec import ExecResult, parse_exec_status
from app.tools.cluster.explain import explain, first_sentence, render
from app.tools.infra.server_metrics import summarize_metrics
from app.tools.nodes.nodes import node_log_request, summarize_stats
from app.tools.pods.containers import default_container, render_exec
from app.tools.pods.pods import run_manifests


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("1h30m", 5400), ("2d", 172800), ("1.5h", 5400)]
)
def test_durations_parse_like_go_plus_days(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "ten minutes", "5x", "1h 30m", "-5m"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_since_is_a_duration_or_an_rfc3339_time() -> None:
    assert parse_since("10m") == ("sinceSeconds", "600")
    assert parse_since("2026-01-01T10:00:00Z") == ("sinceTime", "2026-01-01T10:00:00Z")
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_since("2026-13-45T99:00:00Z")
    with pytest.raises(ValueError, match="at least 1s"):
        parse_since("10ms")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"metadata":{},"status":"Success"}', (0, None)),
        (
            '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"2"}]}}',
            (2, None),
        ),
        ('{"status":"Failure","message":"Internal error occurred: cmd wait: sh -c x: exit status 3"}', (3, None)),
        (
            '{"status":"Failure","message":"Internal error occurred: Internal error occurred: exec: \\"zz\\": '
            'executable file not found in $PATH"}',
            (None, 'exec: "zz": executable file not found in $PATH'),
        ),
        ("", (None, None)),
    ],
)
def test_the_exec_status_gives_the_exit_code_or_why_the_command_never_ran(raw: str, expected: tuple) -> None:
    assert parse_exec_status(raw) == expected


def _result(**kw) -> ExecResult:
    base = {"stdout": "", "stderr": "", "exit_code": 0, "failure": None, "timed_out": False, "truncated": False}
    return ExecResult(**{**base, **kw})


def test_exec_output_puts_stderr_under_a_marker_and_the_status_last() -> None:
    text, cut = render_exec(_result(stdout="a\n", stderr="b\n", exit_code=1), max_chars=1000, timeout=30)
    assert text == "a\n[stderr]\nb\n[exit code 1]" and not cut
    assert render_exec(_result(), max_chars=1000, timeout=30)[0] == "(no output)\n[exit code 0]"
    timed, _ = render_exec(_result(exit_code=None, timed_out=True), max_chars=1000, timeout=5)
    assert timed.endswith("[timed out after 5s: the command was abandoned; output so far is above]")
    big, cut = render_exec(_result(stdout="x" * 50 + "\n" + "y" * 5000), max_chars=1000, timeout=5)
    assert cut and "[output capped:" in big and big.endswith("[exit code 0]") and len(big) < 1200


def test_the_default_container_follows_the_kubectl_annotation_else_the_first() -> None:
    pod = {"spec": {"containers": [{"name": "app"}, {"name": "sidecar"}]}}
    assert default_container(pod) == ("app", ["app", "sidecar"])
    pod["metadata"] = {"annotations": {"kubectl.kubernetes.io/default-container": "sidecar"}}
    assert default_container(pod)[0] == "sidecar"
    pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] = "gone"
    assert default_container(pod)[0] == "app"


def test_pods_run_labels_its_pod_and_service_as_ours() -> None:
    pod, service = run_manifests("demo", "nginx", 8080)
    assert pod["spec"]["containers"][0]["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert pod["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "k8s-mcp"
    assert service is not None and service["spec"]["ports"][0]["targetPort"] == 8080
    assert set(service["spec"]["selector"].items()) <= set(pod["metadata"]["labels"].items())
    assert run_manifests("demo", "nginx", None)[1] is None


def test_node_logs_take_a_service_query_or_a_file_under_var_log() -> None:
    assert node_log_request("n1", "kubelet", 50) == (
        "/api/v1/nodes/n1/proxy/logs/",
        {"query": "kubelet", "tailLines": 50},
    )
    assert node_log_request("n1", "/var/log/kubelet.log", 50) == ("/api/v1/nodes/n1/proxy/logs/kubelet.log", {})
    assert node_log_request("n1", "/pods/x.log", 0)[0] == "/api/v1/nodes/n1/proxy/logs/pods/x.log"
    with pytest.raises(ToolInputError, match=r"'\.\.' is not allowed"):
        node_log_request("n1", "/var/log/../../etc/shadow", 10)


SUMMARY = {
    "node": {
        "nodeName": "worker-1",
        "cpu": {"usageNanoCores": 1_250_000_000},
        "memory": {"workingSetBytes": 3 * 1024**3, "availableBytes": 5 * 1024**3},
        "fs": {"usedBytes": 20 * 1024**3, "capacityBytes": 100 * 1024**3},
        "network": {"interfaces": [{"name": "eth0", "rxBytes": 1000, "txBytes": 2000}]},
    },
    "pods": [
        {
            "podRef": {"name": "idle", "namespace": "a"},
            "cpu": {"usageNanoCores": 1_000_000},
            "memory": {"workingSetBytes": 10 * 1024**2},
        },
        {
            "podRef": {"name": "busy", "namespace": "b"},
            "cpu": {"usageNanoCores": 900_000_000},
            "memory": {"workingSetBytes": 512 * 1024**2},
            "ephemeral-storage": {"usedBytes": 4096},
        },
    ],
}


def test_the_stats_summary_is_a_node_line_then_pods_by_cpu() -> None:
    text, data = summarize_stats(SUMMARY)
    first, header, busy, idle = text.splitlines()
    assert first.startswith("Node worker-1: CPU 1250m, memory working set 3.0Gi (available 5.0Gi)")
    assert "filesystem 20.0Gi used of 100Gi" in first and "rx 1000B tx 2.0Ki" in first and first.endswith("2 pods")
    assert header.split() == ["NAMESPACE", "POD", "CPU(m)", "MEMORY", "EPHEMERAL"]
    assert busy.split() == ["b", "busy", "900", "512Mi", "4.0Ki"] and idle.split()[:2] == ["a", "idle"]
    assert data.network_rx_bytes == 1000 and [p.name for p in data.pods] == ["busy", "idle"]


def test_a_sparse_stats_summary_still_summarizes() -> None:
    text, data = summarize_stats({"node": {"nodeName": "n"}})
    assert (
        text == "Node n: CPU ?m, memory working set ? (available ?), filesystem ? used of ?, network rx ? tx ?, 0 pods"
    )
    assert data.pods == []


DOC = {
    "components": {
        "schemas": {
            "g.Thing": {
                "description": "A thing.",
                "type": "object",
                "properties": {
                    "spec": {
                        "description": "Desired state. More words.",
                        "allOf": [{"$ref": "#/components/schemas/g.Spec"}],
                    },
                },
                "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Thing"}],
            },
            "g.Spec": {
                "type": "object",
                "required": ["size"],
                "properties": {
                    "size": {"type": "integer", "description": "How big."},
                    "mode": {"type": "string", "enum": ["fast", "slow"], "description": "How fast."},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "parts": {"type": "array", "items": {"$ref": "#/components/schemas/g.Part"}},
                    "port": {"$ref": "#/components/schemas/g.IntOrString"},
                },
            },
            "g.Part": {"type": "object", "properties": {"name": {"type": "string", "description": "Part name."}}},
            "g.IntOrString": {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]},
        }
    }
}


def test_explain_walks_refs_arrays_and_maps_and_names_types_as_kubectl_does() -> None:
    ex = explain(DOC, group="example.com", version="v1", kind="Thing", path="spec")
    types = {f.name: (f.type, f.required) for f in ex.fields}
    assert ex.type == "Spec" and ex.description == "Desired state. More words."
    assert types == {
        "labels": ("map[string]string", False),
        "mode": ("string", False),
        "parts": ("[]Part", False),
        "port": ("IntOrString", False),
        "size": ("integer", True),
    }
    assert [
        f.name for f in explain(DOC, group="example.com", version="v1", kind="thing", path="thing.spec.parts").fields
    ] == ["name"]
    mode = explain(DOC, group="example.com", version="v1", kind="Thing", path="spec.mode")
    assert mode.enum == ("fast", "slow") and mode.fields == []


def test_explain_renders_like_kubectl_and_refuses_unknown_fields_naming_the_known_ones() -> None:
    text = render(explain(DOC, group="example.com", version="v1", kind="Thing", path="spec"))
    assert text.splitlines()[:5] == [
        "GROUP:      example.com",
        "KIND:       Thing",
        "VERSION:    v1",
        "",
        "FIELD: spec <Spec>",
    ]
    assert "  size\t<integer> -required-" in text and "    enum: fast, slow" in text
    with pytest.raises(ToolInputError, match="field 'sise' does not exist in spec; its fields: labels, mode, parts"):
        explain(DOC, group="example.com", version="v1", kind="Thing", path="spec.sise")
    assert first_sentence("One. Two.") == "One." and len(first_sentence("x" * 500)) == 160


def test_server_metrics_summarize_calls_by_tool_and_outcome() -> None:
    samples = [
        ("k8s_mcp_tool_calls_total", {"tool": "pods_list", "outcome": "ok"}, 5.0),
        ("k8s_mcp_tool_calls_total", {"tool": "pods_list", "outcome": "failed"}, 1.0),
        ("k8s_mcp_tool_calls_created", {"tool": "pods_list", "outcome": "ok"}, 1.7e9),
        ("k8s_mcp_tool_calls_total", {"tool": "pods_get", "outcome": "invalid"}, 2.0),
        ("k8s_mcp_kube_api_calls_total", {"verb": "GET", "status": "200"}, 7.0),
        ("k8s_mcp_inflight_tool_calls", {}, 1.0),
        ("k8s_mcp_open_sessions", {}, 3.0),
    ]
    text, data = summarize_metrics(samples)
    lines = text.splitlines()
    assert lines[0].split() == ["TOOL", "OK", "INVALID", "FAILED", "TOTAL"]
    assert lines[1].split() == ["pods_list", "5", "0", "1", "6"] and lines[2].split() == [
        "pods_get",
        "0",
        "2",
        "0",
        "2",
    ]
    assert lines[3] == "Kubernetes API calls: GET 200: 7" and lines[4] == "In flight: 1 tool calls; open sessions: 3"
    assert data.open_sessions == 3 and len(data.tool_calls) == 3
    assert summarize_metrics([])[0].splitlines()[0] == "No tool calls yet."
