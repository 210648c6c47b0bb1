"""This server's own counters, summarized for getMetrics (the infra profile's ``infra.k8s.metrics``).

It reads the Prometheus registry /metrics exposes, in process: tool calls by tool and outcome, API
calls by verb and status, in-flight calls and open sessions, as one compact table and structured data.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry

from app import output
from app.shapes import CountItem, ServerMetricsOutput

_OUTCOMES = ("ok", "invalid", "denied", "failed", "error")


def summarize_metrics(samples: Iterable[tuple[str, dict[str, str], float]]) -> tuple[str, ServerMetricsOutput]:
    """Tool calls by tool and outcome, API calls by verb and status, in-flight calls and sessions."""
    tools: dict[str, dict[str, float]] = {}
    api: dict[tuple[str, str], float] = {}
    inflight = sessions = 0.0
    for name, labels, value in samples:
        if name == "k8s_mcp_tool_calls_total" and value:
            tools.setdefault(labels.get("tool", "?"), {})[labels.get("outcome", "?")] = value
        elif name == "k8s_mcp_kube_api_calls_total" and value:
            api[(labels.get("verb", "?"), labels.get("status", "?"))] = value
        elif name == "k8s_mcp_inflight_tool_calls":
            inflight = value
        elif name == "k8s_mcp_open_sessions":
            sessions = value
    outcomes = [o for o in _OUTCOMES if any(o in v for v in tools.values())]
    outcomes += sorted({o for v in tools.values() for o in v} - set(outcomes))
    header = ["TOOL", *(o.upper() for o in outcomes), "TOTAL"]
    rows: list[list[output.Cell]] = [
        [tool, *(int(counts.get(o, 0)) for o in outcomes), int(sum(counts.values()))]
        for tool, counts in sorted(tools.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    ]
    table = output.render_table(output.Table(header, rows), noun="tool calls", where="", max_chars=100_000)
    lines = [table.text if rows else "No tool calls yet."]
    if api:
        shown = ", ".join(f"{verb} {status}: {int(n)}" for (verb, status), n in sorted(api.items()))
        lines.append(f"Kubernetes API calls: {shown}")
    lines.append(f"In flight: {int(inflight)} tool calls; open sessions: {int(sessions)}")
    data = ServerMetricsOutput(
        tool_calls=[
            CountItem(labels={"tool": t, "outcome": o}, count=n)
            for t, counts in sorted(tools.items())
            for o, n in counts.items()
        ],
        kube_api_calls=[CountItem(labels={"verb": v, "status": s}, count=n) for (v, s), n in sorted(api.items())],
        inflight_tool_calls=inflight,
        open_sessions=sessions,
    )
    return "\n".join(lines), data


def read_registry(registry: CollectorRegistry) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of the registry as (name, labels, value)."""
    return [(s.name, dict(s.labels), float(s.value)) for family in registry.collect() for s in family.samples]
