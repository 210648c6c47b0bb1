"""Quantities and the kubectl-top tables built from the metrics API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.output import cap_tail
from app.quantity import format_bytes, format_cpu, format_memory, parse_quantity
from app.tools.nodes.usage import node_top_table, pod_top_table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("999982n", Decimal("0.000999982")),
        ("250m", Decimal("0.25")),
        ("2", Decimal(2)),
        ("1.5", Decimal("1.5")),
        ("500u", Decimal("0.0005")),
        ("1Ki", Decimal(1024)),
        ("1Mi", Decimal(1024**2)),
        ("1.5Gi", Decimal(1024**3) * Decimal("1.5")),
        ("2k", Decimal(2000)),
        ("3M", Decimal(3_000_000)),
        ("1e3", Decimal(1000)),
        ("12E", Decimal(12) * Decimal(10) ** 18),
        (4, Decimal(4)),
    ],
)
def test_kubernetes_quantities_parse_to_base_units(text: str | int, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "5 Mi", "1Zi", "m"])
def test_malformed_quantities_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)


def test_cpu_and_memory_print_as_kubectl_top_does() -> None:
    assert format_cpu(Decimal("0.000999982")) == "1m"
    assert format_cpu(Decimal("0.25")) == "250m"
    assert format_cpu(Decimal(0)) == "0m"
    assert format_memory(Decimal(1024**2) * 300 + 5) == "300Mi"
    assert [format_bytes(n) for n in (512, 3500, 120 * 1024**2, 8 * 1024**3)] == ["512B", "3.4Ki", "120Mi", "8.0Gi"]


POD_METRICS = [
    {
        "metadata": {"name": "web-2", "namespace": "shop"},
        "containers": [
            {"name": "app", "usage": {"cpu": "150m", "memory": "100Mi"}},
            {"name": "proxy", "usage": {"cpu": "5000000n", "memory": "20Mi"}},
        ],
    },
    {
        "metadata": {"name": "db-0", "namespace": "data"},
        "containers": [{"name": "pg", "usage": {"cpu": "1", "memory": "1Gi"}}],
    },
]


def test_pod_top_sums_containers_and_sorts_by_namespace_and_name() -> None:
    table = pod_top_table(POD_METRICS, with_namespace=True)
    assert table.columns == ["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert table.rows == [["data", "db-0", "1000m", "1024Mi"], ["shop", "web-2", "155m", "120Mi"]]


def test_pod_top_with_containers_has_one_row_per_container() -> None:
    table = pod_top_table(POD_METRICS[:1], with_namespace=False, containers=True)
    assert table.columns == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert table.rows == [["web-2", "app", "150m", "100Mi"], ["web-2", "proxy", "5m", "20Mi"]]


def test_node_top_shows_the_share_of_allocatable_and_unknown_when_it_is_missing() -> None:
    items = [
        {"metadata": {"name": "b"}, "usage": {"cpu": "500m", "memory": "2Gi"}},
        {"metadata": {"name": "a"}, "usage": {"cpu": "2", "memory": "1Gi"}},
    ]
    table = node_top_table(items, {"a": {"cpu": "4", "memory": "4Gi"}})
    assert table.columns == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert table.rows == [["a", "2000m", "50%", "1024Mi", "25%"], ["b", "500m", "<unknown>", "2048Mi", "<unknown>"]]


def test_cap_tail_keeps_the_newest_lines_and_says_how_much_was_left_out() -> None:
    text = "".join(f"line {n}\n" for n in range(1, 101))
    capped, cut = cap_tail(text, 300, hint="use since")
    lines = capped.splitlines()
    assert cut and lines[-2] == "line 100"
    assert lines[-1].startswith("[output capped: ") and "earlier lines" in lines[-1] and "use since" in lines[-1]
    assert len(capped) <= 300
    shown = len(lines) - 1
    assert lines[0] == f"line {101 - shown}" and f"{100 - shown} earlier lines" in lines[-1]
    assert cap_tail("short\n", 60, hint="x") == ("short\n", False)


def test_the_kubelet_summary_becomes_node_totals_and_the_busiest_pods_first() -> None:
    from app.tools.nodes.nodes import summarize_stats

    def pod(name: str, nanocores: int | None, memory: int) -> dict[str, Any]:
        return {
            "podRef": {"namespace": "ns", "name": name},
            "cpu": {"usageNanoCores": nanocores} if nanocores is not None else {},
            "memory": {"workingSetBytes": memory},
        }

    summary = {
        "node": {
            "nodeName": "n1",
            "cpu": {"usageNanoCores": 1_500_000_000},
            "memory": {"workingSetBytes": 2 * 1024**3, "availableBytes": 6 * 1024**3},
            "fs": {"usedBytes": 10 * 1024**3, "capacityBytes": 100 * 1024**3},
            "network": {"interfaces": [{"rxBytes": 1024, "txBytes": 2048}, {"rxBytes": 1024, "txBytes": 0}]},
        },
        "pods": [pod("idle", None, 1024**2), pod("busy", 900_000_000, 512 * 1024**2), pod("mid", 5_000_000, 1024**2)],
    }
    text, data = summarize_stats(summary, max_pods=2)
    lines = text.splitlines()
    assert data.cpu_millicores == 1500 and data.network_rx_bytes == 2048 and data.network_tx_bytes == 2048
    assert [p.name for p in data.pods] == ["busy", "mid", "idle"] and data.pods[2].cpu_millicores is None
    assert lines[0].startswith("Node n1: CPU 1500m, memory working set 2") and lines[0].endswith(", 3 pods")
    assert lines[1].split() == ["NAMESPACE", "POD", "CPU(m)", "MEMORY", "EPHEMERAL"]
    assert lines[2].split()[:3] == ["ns", "busy", "900"] and lines[3].split()[:3] == ["ns", "mid", "5"]
    assert lines[-1] == "[1 more pods with less CPU not shown; all are in structuredContent]"
