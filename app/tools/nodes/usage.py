"""Resource usage from the metrics API (metrics.k8s.io): fetched once here, shown as ``kubectl top`` does.

pods_top and nodes_top share the fetch (with its one clear line when no metrics API is served or
metrics-server is down) and the pure table builders: CPU(cores) in millicores, MEMORY(bytes) in
mebibytes, and for nodes the percentage of allocatable.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app import output, quantity
from app.errors import NotFound, Unavailable
from app.output import Table
from app.spec import Deps

METRICS_API = "/apis/metrics.k8s.io/v1beta1"
NOT_SERVED = (
    "the metrics API (metrics.k8s.io) is not served by this cluster; install metrics-server to get CPU and memory usage"
)


async def get_metrics(deps: Deps, path: str, *, context: str | None, query: dict[str, Any] | None = None) -> Any:
    """GET a metrics.k8s.io path; a missing or broken metrics API becomes one clear line."""
    try:
        return await deps.kube.get_json(path, context=context, query=query)
    except NotFound:
        if not await metrics_served(deps, context):
            raise Unavailable(NOT_SERVED) from None
        raise
    except Unavailable as e:
        if e.status in (502, 503):
            raise Unavailable(
                f"the metrics API (metrics.k8s.io) is registered but not answering; is metrics-server running? ({e})"
            ) from e
        raise


async def metrics_served(deps: Deps, context: str | None) -> bool:
    try:
        await deps.kube.get_json(METRICS_API, context=context)
    except (NotFound, Unavailable):
        return False
    return True


def _sum_usage(containers: list[dict[str, Any]]) -> tuple[Decimal, Decimal]:
    cpu = sum((quantity.parse_quantity((c.get("usage") or {}).get("cpu", "0")) for c in containers), Decimal(0))
    memory = sum((quantity.parse_quantity((c.get("usage") or {}).get("memory", "0")) for c in containers), Decimal(0))
    return cpu, memory


def pod_top_table(items: list[dict[str, Any]], *, with_namespace: bool, containers: bool = False) -> Table:
    """PodMetrics as ``kubectl top pod`` prints them (``--containers``: one row per container)."""
    columns = ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    if containers:
        columns = ["POD", *columns]
    if with_namespace:
        columns = ["NAMESPACE", *columns]
    rows: list[list[output.Cell]] = []
    ordered = sorted(items, key=lambda i: (i["metadata"].get("namespace", ""), i["metadata"]["name"]))
    for item in ordered:
        meta = item.get("metadata") or {}
        prefix: list[output.Cell] = [meta.get("namespace", "")] if with_namespace else []
        if containers:
            for c in item.get("containers") or []:
                cpu, memory = _sum_usage([c])
                rows.append(
                    [*prefix, meta.get("name"), c.get("name"), quantity.format_cpu(cpu), quantity.format_memory(memory)]
                )
        else:
            cpu, memory = _sum_usage(item.get("containers") or [])
            rows.append([*prefix, meta.get("name"), quantity.format_cpu(cpu), quantity.format_memory(memory)])
    return Table(columns, rows)


def node_top_table(items: list[dict[str, Any]], allocatable: Mapping[str, Mapping[str, str]]) -> Table:
    """NodeMetrics as ``kubectl top node`` prints them, percentages of allocatable when known."""
    columns = ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    rows: list[list[output.Cell]] = []
    for item in sorted(items, key=lambda i: i["metadata"]["name"]):
        name = item["metadata"]["name"]
        usage = item.get("usage") or {}
        cpu = quantity.parse_quantity(usage.get("cpu", "0"))
        memory = quantity.parse_quantity(usage.get("memory", "0"))
        limits = allocatable.get(name) or {}
        rows.append(
            [
                name,
                quantity.format_cpu(cpu),
                _percent(cpu, limits.get("cpu")),
                quantity.format_memory(memory),
                _percent(memory, limits.get("memory")),
            ]
        )
    return Table(columns, rows)


def _percent(used: Decimal, total: str | None) -> str:
    if not total:
        return "<unknown>"
    whole = quantity.parse_quantity(total)
    return f"{int(used * 100 / whole)}%" if whole > 0 else "<unknown>"
