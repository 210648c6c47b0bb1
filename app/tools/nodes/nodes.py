"""Node tools: usage from the metrics API, kubelet logs and the kubelet Summary API through the API server.

Logs and stats go through the node proxy (/api/v1/nodes/{name}/proxy/...), so they need the
``nodes/proxy`` permission and a kubelet the API server can reach. When it cannot (fake kwok nodes,
clusters that block the proxy), the answer is one line that says so, not a raw proxy error.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from app import args as p
from app import errors, output, quantity
from app.kube.discovery import Resource
from app.shapes import LogOutput, PodUsage, StatsSummaryOutput, TableOutput
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.nodes.usage import METRICS_API, get_metrics, node_top_table

NODES = Resource("", "v1", "Node", "nodes", namespaced=False)


class NodesTopArgs(p.Args):
    name: p.OptionalName = Field(None, description="One node (default: all nodes)")
    label_selector: p.LabelSelector = None
    context: p.Context = None


class NodesLogArgs(p.Args):
    name: p.Name
    query: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9_./@:,-]+$",
        description="A service such as 'kubelet' (the kubelet's node log query), or a file under /var/log "
        "such as '/var/log/kubelet.log'",
    )
    tailLines: int = Field(100, ge=0, description="Lines from the end (default 100; 0 = as many as fit the cap)")
    context: p.Context = None


class NodesStatsArgs(p.Args):
    name: p.Name
    context: p.Context = None


async def nodes_top(args: NodesTopArgs, deps: Deps) -> ToolResult:
    if args.name:
        nodes = [await deps.kube.get_json(NODES.path(None, args.name), context=args.context)]
        items = [await get_metrics(deps, f"{METRICS_API}/nodes/{args.name}", context=args.context)]
    else:
        query = {"labelSelector": args.label_selector}
        payload = await get_metrics(deps, f"{METRICS_API}/nodes", context=args.context, query=query)
        items = payload.get("items") or []
        listed = await deps.kube.get_json(NODES.path(), context=args.context, query=query)
        nodes = listed.get("items") or []
    allocatable = {n["metadata"]["name"]: (n.get("status") or {}).get("allocatable") or {} for n in nodes}
    table = node_top_table(items, allocatable)
    where = f" matching {args.label_selector}" if args.label_selector else ""
    rendered = output.render_table(table, noun="node metrics", where=where, max_chars=deps.settings.output_max_chars)
    data = TableOutput(
        kind="NodeMetrics",
        namespace=None,
        columns=table.columns,
        rows=rendered.rows,
        count=len(rendered.rows),
        truncated=rendered.truncated,
    )
    return ToolResult(rendered.text, data)


def node_log_request(name: str, query: str, tail: int) -> tuple[str, dict[str, Any]]:
    """The proxy path and query for a service name (kubelet node log query) or a /var/log file."""
    base = f"/api/v1/nodes/{name}/proxy/logs/"
    if query.startswith("/"):
        if ".." in query.split("/"):
            raise errors.ToolInputError(f"invalid query {query!r}: '..' is not allowed in a log file path")
        return base + query.removeprefix("/var/log/").lstrip("/"), {}
    return base, {"query": query, "tailLines": tail or None}


async def _via_node_proxy(deps: Deps, name: str, path: str, what: str, **kwargs: Any) -> str:
    """GET through the node proxy, turning the proxy's failures into lines a reader can act on."""
    try:
        return (await deps.kube.request("GET", path, accept="*/*", **kwargs)).text()
    except errors.BadRequest as e:
        if "address not allowed" in e.reason or "no preferred addresses" in e.reason:
            raise errors.Unavailable(
                f"the API server cannot proxy to node {name}'s kubelet ({e.reason}); the node has no reachable "
                f"kubelet address (fake kwok nodes, or a cluster that blocks the node proxy)"
            ) from e
        raise
    except errors.NotFound as e:
        await deps.kube.get_json(NODES.path(None, name), context=kwargs.get("context"))  # NotFound: no node
        raise errors.NotFound(f"node {name}'s kubelet does not serve {what} ({e.reason})") from e


async def nodes_log(args: NodesLogArgs, deps: Deps) -> ToolResult:
    max_chars = deps.settings.output_max_chars
    tail = args.tailLines or max_chars // 2 + 1
    path, query = node_log_request(args.name, args.query, tail)
    text = await _via_node_proxy(deps, args.name, path, f"logs for {args.query!r}", context=args.context, query=query)
    if text.lstrip().startswith("<pre>") or "Debug endpoints are disabled" in text:
        raise errors.Unavailable(
            f"node {args.name}'s kubelet does not serve logs for {args.query!r}: {text.strip()[:200]}"
        )
    lines = text.splitlines()
    if args.tailLines:
        lines = lines[-args.tailLines :]
    joined = "\n".join(lines)
    if not joined.strip():
        message = f"Node {args.name} has no log lines for {args.query}."
        return ToolResult(message, LogOutput(name=args.name, source=args.query, lines=0, truncated=False, log=""))
    body, truncated = output.cap_tail(joined, max_chars, hint="pass a smaller tailLines")
    shown = body.rsplit("\n[output capped", 1)[0] if truncated else body
    data = LogOutput(name=args.name, source=args.query, lines=shown.count("\n") + 1, truncated=truncated, log=shown)
    return ToolResult(body, data)


# -- stats summary --------------------------------------------------------------------------------


def _num(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def summarize_stats(summary: dict[str, Any], *, max_pods: int = 50) -> tuple[str, StatsSummaryOutput]:
    """The kubelet Summary API in a few lines: node totals, then the busiest pods by CPU."""
    data = stats_output(summary)
    return render_stats(data, max_pods=max_pods), data


def stats_output(summary: dict[str, Any]) -> StatsSummaryOutput:
    """The Summary API document as our output model, pods busiest first."""
    node = summary.get("node") or {}
    cpu = (node.get("cpu") or {}).get("usageNanoCores")
    memory = node.get("memory") or {}
    fs = node.get("fs") or {}
    network = node.get("network") or {}
    rx = network.get("rxBytes")
    tx = network.get("txBytes")
    if rx is None and network.get("interfaces"):
        rx = sum(i.get("rxBytes") or 0 for i in network["interfaces"])
        tx = sum(i.get("txBytes") or 0 for i in network["interfaces"])
    pods = sorted(
        (_pod_usage(pod) for pod in summary.get("pods") or []),
        key=lambda u: (-(u.cpu_millicores or 0), u.namespace, u.name),
    )
    return StatsSummaryOutput(
        node=str(node.get("nodeName", "")),
        cpu_millicores=round(cpu / 1e6, 1) if isinstance(cpu, int | float) else None,
        memory_working_set_bytes=_num(memory.get("workingSetBytes")),
        memory_available_bytes=_num(memory.get("availableBytes")),
        fs_used_bytes=_num(fs.get("usedBytes")),
        fs_capacity_bytes=_num(fs.get("capacityBytes")),
        network_rx_bytes=_num(rx),
        network_tx_bytes=_num(tx),
        pods=pods,
    )


def _pod_usage(pod: dict[str, Any]) -> PodUsage:
    ref = pod.get("podRef") or {}
    pod_cpu = (pod.get("cpu") or {}).get("usageNanoCores")
    return PodUsage(
        namespace=str(ref.get("namespace", "")),
        name=str(ref.get("name", "")),
        cpu_millicores=round(pod_cpu / 1e6, 1) if isinstance(pod_cpu, int | float) else None,
        memory_working_set_bytes=_num((pod.get("memory") or {}).get("workingSetBytes")),
        ephemeral_storage_used_bytes=_num((pod.get("ephemeral-storage") or {}).get("usedBytes")),
    )


def _size(value: int | None) -> str:
    return quantity.format_bytes(value) if value is not None else "?"


def _milli(value: float | None) -> str:
    return f"{value:g}" if value is not None else "?"


def render_stats(data: StatsSummaryOutput, *, max_pods: int) -> str:
    """One line of node totals, then a table of the ``max_pods`` busiest pods."""
    pods = data.pods
    lines = [
        f"Node {data.node}: CPU {_milli(data.cpu_millicores)}m, "
        f"memory working set {_size(data.memory_working_set_bytes)} (available {_size(data.memory_available_bytes)}), "
        f"filesystem {_size(data.fs_used_bytes)} used of {_size(data.fs_capacity_bytes)}, "
        f"network rx {_size(data.network_rx_bytes)} tx {_size(data.network_tx_bytes)}, {len(pods)} pods"
    ]
    if pods:
        rows: list[list[output.Cell]] = [
            [
                u.namespace,
                u.name,
                _milli(u.cpu_millicores),
                _size(u.memory_working_set_bytes),
                _size(u.ephemeral_storage_used_bytes),
            ]
            for u in pods[:max_pods]
        ]
        table = output.Table(["NAMESPACE", "POD", "CPU(m)", "MEMORY", "EPHEMERAL"], rows)
        lines.append(output.render_table(table, noun="pods", where="", max_chars=100_000).text)
        if len(pods) > max_pods:
            lines.append(f"[{len(pods) - max_pods} more pods with less CPU not shown; all are in structuredContent]")
    return "\n".join(lines)


async def nodes_stats_summary(args: NodesStatsArgs, deps: Deps) -> ToolResult:
    path = f"/api/v1/nodes/{args.name}/proxy/stats/summary"
    raw = await _via_node_proxy(deps, args.name, path, "the Summary API (/stats/summary)", context=args.context)
    try:
        summary = json.loads(raw)
    except ValueError as e:
        raise errors.Unavailable(f"node {args.name}'s kubelet answered /stats/summary with something not JSON") from e
    text, data = summarize_stats(summary)
    capped, _ = output.cap_text(text, deps.settings.output_max_chars, hint="all pods are in structuredContent")
    return ToolResult(capped, data)


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="nodes_log",
        title="Get node logs",
        description="Get a node's logs through the API server's node proxy: query 'kubelet' (or another service) "
        "or a file such as '/var/log/kubelet.log'; tailLines (default 100).",
        params=NodesLogArgs,
        output=LogOutput,
        handler=nodes_log,
        action=lambda a: f"get logs of node {a.name}",
        read_only=True,
    ),
    ToolSpec(
        name="nodes_stats_summary",
        title="Node resource statistics",
        description="The kubelet Summary API of a node, summarized: node CPU, memory, filesystem and network, "
        "then its pods by CPU.",
        params=NodesStatsArgs,
        output=StatsSummaryOutput,
        handler=nodes_stats_summary,
        action=lambda a: f"get stats summary of node {a.name}",
        read_only=True,
        toolset="metrics",
    ),
    ToolSpec(
        name="nodes_top",
        title="Node CPU and memory usage",
        description="CPU(cores) and MEMORY(bytes) of nodes from the metrics API with the share of allocatable, "
        "as kubectl top node; one node by name or several by label_selector.",
        params=NodesTopArgs,
        output=TableOutput,
        handler=nodes_top,
        action=lambda a: f"get usage of node{' ' + a.name if a.name else 's'}",
        read_only=True,
        idempotent=True,
        toolset="metrics",
    ),
]
