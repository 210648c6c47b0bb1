"""Render the numbers of bench/perf.py as docs/perf.md (tables, goals) and docs/perf.png (plots).

Works on the JSON that perf.py saves, so a report can be redrawn without running again:
``uv run python bench/perf_report.py bench/results/perf.json``.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys
from pathlib import Path
from typing import Any

SCALE_BEGIN = "<!-- scale:begin -->"
SCALE_END = "<!-- scale:end -->"
PROFILE_BEGIN = "<!-- profile:begin -->"
#: The start-up goals: idle RSS and ready time (start to the first successful tools/call).
RSS_GOAL_MB = 85
READY_GOAL_S = 0.8
PROFILE_END = "<!-- profile:end -->"
COLORS = {
    "floor": "#9e9e9e",
    "k8s-mcp": "#1f77b4",
    "k8s-mcp-2026": "#6baed6",
    "k8s-mcp-json": "#08306b",
    "go": "#2ca02c",
    "flux": "#d62728",
    "kubectl-mcp": "#ff7f0e",
}
SHORT = {
    "k8s-mcp": "k8s-mcp",
    "k8s-mcp-2026": "k8s-mcp 2026",
    "k8s-mcp-json": "k8s-mcp json",
    "go": "Go",
    "flux": "Node (kubectl)",
    "kubectl-mcp": "kubectl-mcp (kubectl)",
}
TITLES = {
    "pods_list_ns": "pods_list, one namespace (200 pods)",
    "pods_list_all": "pods_list, all namespaces",
    "pods_get": "pods_get",
    "resources_get": "resources_get (Deployment)",
    "events_list": "events_list, one namespace",
    "pods_log": "pods_log, 1,000 lines",
    "create_or_update": "resources_create_or_update (ConfigMap)",
}
READS = ["pods_list_ns", "pods_list_all", "pods_get", "resources_get", "events_list", "pods_log"]


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def cell_text(cell: dict[str, Any], key: str, digits: int = 1) -> str:
    if cell["status"] in ("missing", "n/a"):
        return cell["status"]
    text = fmt(cell.get(key), digits)
    return text + (" ⚠" if cell["status"] == "errors" else "")


def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def goals(data: dict[str, Any], key: str = "k8s-mcp", suffix: str = "") -> list[tuple[str, str, str]]:
    """(goal, verdict, evidence) for each performance goal (README "Performance"), for our server run as ``key``."""
    cells = data["cells"]
    ours = cells.get(key, {})
    go = cells.get("go", {})
    out: list[tuple[str, str, str]] = []

    def compare(metric: str, better: str, workloads: list[str]) -> tuple[str, str]:
        fails, missing, parts = [], [], []
        for w in workloads:
            a, b = ours.get(w, {}), go.get(w, {})
            if a.get(metric) is None:
                missing.append(w)
                continue
            if b.get(metric) is None:
                continue
            ok = a[metric] <= b[metric] if better == "lower" else a[metric] >= b[metric]
            parts.append(f"{w} {fmt(a[metric])} vs {fmt(b[metric])}")
            if not ok:
                fails.append(w)
        verdict = "FAIL" if fails else ("PASS" if not missing else "PASS (where measured)")
        evidence = "; ".join(parts)
        if fails:
            evidence = f"misses on {', '.join(fails)}. " + evidence
        if missing:
            evidence += f". Not measured (tool missing here): {', '.join(missing)}"
        return verdict, evidence

    if ours and go:
        clients = data["options"]["clients"]
        every = [*READS, "create_or_update"]
        out.append((f"p50 latency <= Go server's on every workload{suffix}", *compare("p50_ms", "lower", every)))
        out.append(
            (
                f"throughput >= Go server's with {clients} clients{suffix} (calls/s)",
                *compare("conc_rate", "higher", list(TITLES)),
            )
        )
    for peer in ("flux", "kubectl-mcp"):
        other = cells.get(peer)
        if not other or not ours:
            continue
        ratios = {
            w: other[w]["p50_ms"] / ours[w]["p50_ms"]
            for w in TITLES
            if ours.get(w, {}).get("p50_ms") and other.get(w, {}).get("p50_ms")
        }
        if ratios:
            worst = min(ratios, key=lambda k: ratios[k])
            verdict = "PASS" if ratios[worst] >= 20 else "FAIL"
            evidence = ", ".join(f"{w} {r:.0f}x" for w, r in ratios.items())
            floors = {w: data["floor"].get(w, {}).get("p50_ms") for w in ratios}
            ceiling = [other[w]["p50_ms"] / f for w, f in floors.items() if f]
            if ceiling:
                evidence += (
                    f". Ceiling: even the bare API call (the floor) is only {min(ceiling):.0f}-{max(ceiling):.0f}x "
                    "faster than this peer"
                )
            out.append((f"20x faster than {SHORT[peer]}{suffix} (p50 ratio)", verdict, evidence))
    if suffix:
        return out
    server = data["servers"].get(key, {})
    idle = med(server.get("rss_idle_mb", []))
    if idle is not None:
        out.append(
            (
                f"RSS under {RSS_GOAL_MB} MB idle",
                "PASS" if idle < RSS_GOAL_MB else "FAIL",
                f"{idle:.0f} MB (median of starts)",
            )
        )
    ready = server.get("ready_s", [])
    if ready:
        m = statistics.median(ready)
        cpu = med(server.get("ready_cpu_s", []))
        extra = f"; {cpu:.2f} s of CPU" if cpu is not None else ""
        nopyc = server.get("ready_nopyc_s") or []
        if nopyc:
            extra += f"; {nopyc[0]:.2f} s with no bytecode cache"
        out.append(
            (
                f"ready in under {READY_GOAL_S} s (start to first successful tools/call)",
                "PASS" if m < READY_GOAL_S else "FAIL",
                f"{m:.2f} s median of {len(ready)} starts (min {min(ready):.2f}){extra}",
            )
        )
    return out


def scale_goals(scale: dict[str, Any]) -> list[tuple[str, str, str]]:
    ours = scale.get("servers", {}).get("k8s-mcp")
    if not ours:
        return []
    pods = scale.get("cluster_pods", scale["pods"])
    if ours.get("failure"):
        return [(f"cluster-wide pods_list with {pods:,} pods", "FAIL", ours["failure"])]
    first = max(ours["first_call_ms"], ours["p50_ms"]) / 1000
    rows = [
        (
            f"cluster-wide pods_list, first page within 2 s with {pods:,} pods",
            "PASS" if ours["max_ms"] / 1000 <= 2 and first <= 2 and not ours["errors"] else "FAIL",
            f"first call {ours['first_call_ms']:.0f} ms, p50 {ours['p50_ms']:.0f} ms, max {ours['max_ms']:.0f} ms "
            "(one client)",
        )
    ]
    base = scale.get("baseline_rss_peak_mb")
    peak = ours["rss_peak_20_clients_mb"]
    cap = scale.get("output_cap", 20_000)
    chars = ours.get("chars") or 0
    bounded = chars <= cap + 600 and (base is None or peak <= 1.5 * base)
    evidence = f"peak {peak:.0f} MB with 20 clients listing {pods:,} pods"
    if base is not None:
        evidence += f" vs {base:.0f} MB for the same load with 200 pods"
    evidence += f"; output {chars:,} characters (cap {cap:,}); pass = output within the cap and peak under 1.5x"
    rows.append(("memory bounded by the output cap, not the cluster size", "PASS" if bounded else "FAIL", evidence))
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def render(data: dict[str, Any], previous: str | None = None) -> str:
    targets = [t["key"] for t in data["targets"]]
    cells = data["cells"]
    env = data["environment"]
    opts = data["options"]
    fx = data["fixture"]
    names = [SHORT.get(t, t) for t in targets]
    cmd = "uv run python bench/perf.py" + ("".join(f" {a}" for a in opts.get("argv", [])))
    parts: list[str] = []
    parts.append("## Performance against the peers\n")
    parts.append(
        f"Measured {data['started']} on the shared test control plane (Kubernetes {env['kubernetes']}, kwok nodes), "
        f"{env['cpus']} CPUs shared with other work (load average {env['loadavg_start'][0]:.1f} at the start, "
        f"{env.get('loadavg_end', [float('nan')])[0]:.1f} at the end), Python {env['python']}, Node {env['node']}. "
        f"Reproduce with:\n\n```\n{cmd}\n```\n"
    )
    parts.append(
        f"Setup: a fresh namespace with {fx['pods']} running pods (one from a Deployment), {fx['events']} events; "
        f"{fx['cluster_pods']} pods in the whole cluster. Every server runs on loopback against the same kubeconfig "
        "and is driven by the same `mcp` Python client (streamable HTTP, 2025-11-25 sessions; ours also with the "
        "2026-07-28 stateless protocol). Latency is what the client sees, client work included. "
        f"One client: {opts['repeat']} rounds of {opts['seq_calls']} calls per workload "
        f"({opts['seq_calls_slow']} for kubectl-based servers) after warm-up, each call followed by {opts['gap']} s "
        "of idle (an agent's pace; it also keeps client-side rate limiters out of the latency); p50 and p99 over "
        "all calls of all rounds. Calls per second, one client: the same number of calls back to back, median of "
        f"the rounds. {opts['clients']} clients: each its own session, opened before the clock starts, "
        f"{opts['conc_calls']} calls each ({opts['conc_calls_slow']} for kubectl-based servers), "
        f"{opts.get('conc_repeat', 1)} rounds. "
        "The floor is the same request our server makes, sent straight to the API server with the kubeconfig's "
        "client certificate over a kept-alive HTTPS connection. Ours runs with its defaults except `--rate-limit ''` "
        "(the peers have no rate limit) and `--enable-destructive-operations --approval none` (so that "
        "resources_create_or_update is served and runs in one call, as on the Go server); "
        "`k8s-mcp json` is the same server with `--json-response` (one JSON body "
        "per POST instead of an SSE stream), `k8s-mcp 2026` the default server driven with the 2026-07-28 "
        "stateless protocol. Python servers start from precompiled bytecode, as in the image. The machine's 2 "
        "cores are shared with other jobs and with the client: treat differences under about 30% as noise.\n"
    )
    parts.append("### Goals\n")
    goal_rows = [[g, v, e] for g, v, e in goals(data)]
    if "k8s-mcp-json" in cells:
        goal_rows += [[g, v, e] for g, v, e in goals(data, "k8s-mcp-json", " (ours with --json-response)")]
    scale = data.get("scale")
    if scale:
        goal_rows += [[g, v, e] for g, v, e in scale_goals(scale)]
    parts.append(table(["goal", "verdict", "evidence"], goal_rows) + "\n")

    def metric_table(title: str, key: str, with_floor: bool = False, digits: int = 1, note: str = "") -> None:
        header = ["workload"] + (["floor"] if with_floor else []) + names
        rows = []
        for w, wtitle in TITLES.items():
            row = [wtitle]
            if with_floor:
                row.append(fmt(data["floor"].get(w, {}).get(key)))
            row += [cell_text(cells[t][w], key, digits) for t in targets]
            rows.append(row)
        parts.append(f"### {title}\n")
        if note:
            parts.append(note + "\n")
        parts.append(table(header, rows) + "\n")

    metric_table("p50 latency, one client (ms)", "p50_ms", with_floor=True)
    metric_table("p99 latency, one client (ms)", "p99_ms", with_floor=True)
    metric_table("Calls per second, one client", "seq_rate")
    metric_table(f"Calls per second, {opts['clients']} concurrent clients", "conc_rate")
    metric_table(f"p50 latency under {opts['clients']} clients (ms)", "conc_p50_ms")
    metric_table(
        f"Server CPU per call under {opts['clients']} clients (ms)",
        "cpu_ms_per_call",
        note="CPU time of the server's process tree (forked kubectl included) divided by the calls; less noisy than "
        "wall time on a shared machine.",
    )

    # overhead over the floor
    rows = []
    for w, wtitle in TITLES.items():
        floor = data["floor"].get(w, {}).get("p50_ms")
        row = [wtitle, fmt(floor, 2)]
        for t in targets:
            c = cells[t][w]
            if c.get("p50_ms") is None or not floor:
                row.append(c["status"] if c["status"] != "ok" else "-")
            else:
                row.append(f"{c['p50_ms'] / floor:.1f}x (+{c['p50_ms'] - floor:.1f} ms)")
        rows.append(row)
    parts.append("### Overhead over the floor (p50 ÷ direct API p50, and the difference)\n")
    parts.append(table(["workload", "floor p50 (ms)", *names], rows) + "\n")

    # output
    rows = []
    for w, wtitle in TITLES.items():
        row = [wtitle]
        for t in targets:
            c = cells[t][w]
            if c["status"] in ("missing", "n/a") or c.get("chars") is None:
                row.append(c["status"])
                continue
            text = f"{c['chars']:,}"
            if c.get("structured_chars"):
                text += f" (+{c['structured_chars']:,} structured)"
            row.append(f"{text} · {c['items']}")
        rows.append(row)
    token_note = env.get("tokens", "characters only")
    parts.append("### Output size (characters of text content · items seen)\n")
    parts.append(
        f"Tokens: {token_note}. Items seen: bench pods named in a pod list, 1/0 for a get that shows the object, "
        "`Scheduled` events, distinct log lines. Each server is called with its defaults plus the arguments the "
        "workload needs (`tail: 1000` for logs; YAML output for kubectl-mcp's gets); ours caps text at 20,000 "
        "characters and says how to get the rest. Structured content is what ours sends besides the text.\n"
    )
    parts.append(table(["workload", *names], rows) + "\n")

    # servers
    rows = []
    for s in data["servers"].values():
        ready = s.get("ready_s") or []
        idle = s.get("rss_idle_mb") or []
        cpu = s.get("ready_cpu_s") or []
        nopyc = s.get("ready_nopyc_s") or []
        rows.append(
            [
                s["label"],
                s["version"],
                (f"{statistics.median(ready):.2f} ({min(ready):.2f}-{max(ready):.2f})" if ready else "-"),
                fmt(med(cpu), 2) if cpu else "-",
                fmt(nopyc[0], 2) if nopyc else "",
                fmt(med(idle), 0) if idle else "-",
                fmt(s.get("rss_load_mb"), 0),
                s.get("failure") or "",
            ]
        )
    parts.append("### Start-up and memory\n")
    parts.append(
        f"Ready: from process start to the first successful tools/call (a pods_get, session set-up included), "
        f"median (min-max) of {opts['starts']} cold starts; CPU: the server's CPU time until then. RSS of the server's "
        "process tree: idle 2 s after that call; peak while the concurrent batches ran.\n"
    )
    parts.append(
        table(
            [
                "server",
                "version",
                "ready (s)",
                "start CPU (s)",
                "ready, no bytecode (s)",
                "RSS idle (MB)",
                "RSS peak, load (MB)",
                "note",
            ],
            rows,
        )
        + "\n"
    )
    errors = [
        f"- {SHORT.get(t, t)} · {w}: {c['errors']} errors, first: `{(c.get('first_error') or '').strip()[:200]}`"
        for t in targets
        for w, c in cells[t].items()
        if c.get("errors")
    ]
    if errors:
        parts.append("### Errors seen (⚠ in the tables)\n")
        parts.append("\n".join(errors) + "\n")
    go = cells.get("go")
    if go:
        rates = [go[w]["conc_rate"] for w in TITLES if go.get(w, {}).get("conc_rate")]
        if rates and statistics.median(rates) < 8:
            parts.append(
                f"- The Go server answers about 5 calls/s whatever the number of clients (median "
                f"{statistics.median(rates):.1f} with {opts['clients']}; ~10/s for 20 back-to-back calls, the first "
                "ten being quick): the signature of client-go's default client-side rate limiter (QPS 5, burst 10), "
                "in force for every Kubernetes request it makes (pods_log makes two, so 2.5/s). An agent calling a "
                "few times a minute never meets it; a busy shared server does. The paced p50 leaves it out.\n"
            )
    for note in data.get("notes", []):
        parts.append(f"- {note}")
    parts.append("\n![latency, throughput, memory and start-up](perf.png)\n")
    parts.append(render_scale(scale, previous))
    parts.append(kept_profile(previous))
    return "\n".join(parts).rstrip() + "\n"


def kept_profile(previous: str | None) -> str:
    """The stage-by-stage profile bench/profile_call.py --write-doc put in the previous file, kept as it was."""
    if previous and PROFILE_BEGIN in previous:
        kept = previous.split(PROFILE_BEGIN, 1)[1].split(PROFILE_END, 1)[0].strip()
        return f"\n{PROFILE_BEGIN}\n{kept}\n{PROFILE_END}\n"
    return ""


def render_scale(scale: dict[str, Any] | None, previous: str | None) -> str:
    if not scale:
        if previous and SCALE_BEGIN in previous:
            kept = previous.split(SCALE_BEGIN, 1)[1].split(SCALE_END, 1)[0].strip()
            kept = re.sub(r"^### Scale.*$", "### Scale (from an earlier `--scale` run)", kept, count=1, flags=re.M)
            return f"{SCALE_BEGIN}\n{kept}\n{SCALE_END}\n"
        note = "Not run: add `--scale` (5,000 more pods; about 10 more minutes)."
        return f"{SCALE_BEGIN}\n### Scale\n\n{note}\n{SCALE_END}\n"
    nan = float("nan")
    rows = []
    for s in scale["servers"].values():
        if s.get("failure"):
            rows.append([s["label"], f"failed: {s['failure']}", *[""] * 8])
            continue
        rows.append(
            [
                s["label"],
                fmt(s["first_call_ms"], 0),
                fmt(s["p50_ms"], 0),
                fmt(s["max_ms"], 0),
                f"{s['chars']:,}" if s.get("chars") else "-",
                fmt(s["rss_idle_mb"], 0),
                fmt(s.get("rss_peak_one_client_mb"), 0),
                fmt(s["rss_peak_20_clients_mb"], 0),
                fmt(s["conc_p50_ms"], 0),
                f"{s['errors']}" + (f" ({(s.get('first_error') or '')[:120]})" if s["errors"] else ""),
            ]
        )
    body = [
        "### Scale: a cluster-wide pods_list with 5,000 more pods\n",
        f"{scale['pods']:,} pods made in bulk in a second namespace ({scale.get('create_s', nan):.0f} s), "
        f"{scale.get('cluster_pods', 0):,} pods in the cluster; each server started fresh, one cold call, 10 "
        f"sequential calls, then 20 clients x 3 calls, all cluster-wide pods_list. Direct API p50 for the first page "
        f"(500 pods as a Table): {scale.get('floor_p50_ms', nan):.0f} ms. Clean-up took "
        f"{scale.get('cleanup_s', nan):.0f} s. Ours pages at 500 pods and caps the text; the Go server returns "
        "every pod in one answer.\n",
        table(
            [
                "server",
                "first call (ms)",
                "p50 (ms)",
                "max (ms)",
                "output chars",
                "RSS idle (MB)",
                "RSS peak, one client (MB)",
                "RSS peak, 20 clients (MB)",
                "p50, 20 clients (ms)",
                "errors",
            ],
            rows,
        ),
        "",
    ]
    return f"{SCALE_BEGIN}\n" + "\n".join(body) + f"\n{SCALE_END}\n"


def plot(data: dict[str, Any], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = [t["key"] for t in data["targets"]]
    cells = data["cells"]
    workloads = list(TITLES)
    labels = ["list ns", "list all", "pod get", "deploy get", "events", "log 1k", "apply cm"]
    fig, axes = plt.subplots(2, 2, figsize=(14, 9))

    def bars(ax: Any, key: str, title: str, with_floor: bool) -> None:
        series = (["floor"] if with_floor else []) + targets
        width = 0.8 / len(series)
        for i, s in enumerate(series):
            if s == "floor":
                values = [data["floor"].get(w, {}).get("p50_ms") or 0 for w in workloads]
            else:
                values = [cells[s][w].get(key) or 0 for w in workloads]
            xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(workloads))]
            bars_ = ax.bar(xs, values, width, label=SHORT.get(s, "direct API (floor)"), color=COLORS.get(s))
            if s != "floor":
                for bar, w in zip(bars_, workloads, strict=True):
                    if cells[s][w]["status"] == "errors":
                        bar.set_hatch("xx")  # the calls failed; the bar is the time to the error
        ax.set_xticks(range(len(workloads)), labels, rotation=0, fontsize=8)
        ax.set_yscale("log")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3, which="both")

    bars(axes[0][0], "p50_ms", "p50 latency, one client (ms, log; hatched = errors)", True)
    axes[0][0].legend(fontsize=7, ncol=2, loc="upper left")
    bars(axes[0][1], "conc_rate", f"calls/s with {data['options']['clients']} clients (log)", False)
    servers = data["servers"]
    keys = list(servers)
    idle = [med(servers[k].get("rss_idle_mb") or []) or 0 for k in keys]
    load = [servers[k].get("rss_load_mb") or 0 for k in keys]
    xs = range(len(keys))
    ax = axes[1][0]
    ax.bar([x - 0.2 for x in xs], idle, 0.4, label="idle", color=[COLORS.get(k) for k in keys], alpha=0.6)
    ax.bar([x + 0.2 for x in xs], load, 0.4, label="peak under load", color=[COLORS.get(k) for k in keys])
    ax.axhline(RSS_GOAL_MB, color="black", linestyle="--", linewidth=1, label=f"goal: {RSS_GOAL_MB} MB idle")
    ax.set_xticks(list(xs), [SHORT.get(k, k) for k in keys], fontsize=8)
    ax.set_title("RSS of the server process tree (MB): idle (light), peak under load (dark)")
    ax.legend(fontsize=8)
    ax = axes[1][1]
    ready = [med(servers[k].get("ready_s") or []) or 0 for k in keys]
    ax.bar(list(xs), ready, 0.6, color=[COLORS.get(k) for k in keys])
    ax.axhline(READY_GOAL_S, color="black", linestyle="--", linewidth=1, label=f"goal: {READY_GOAL_S} s")
    ax.set_xticks(list(xs), [SHORT.get(k, k) for k in keys], fontsize=8)
    ax.set_title("start to first successful tools/call (s, median)")
    ax.legend(fontsize=8)
    fig.suptitle(
        f"k8s-mcp vs peers · {data['started']} · 2 shared cores · medians of {data['options']['repeat']} rounds"
    )
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def write(data: dict[str, Any], out: Path, png: Path) -> None:
    previous = out.read_text(encoding="utf-8") if out.exists() else None
    out.parent.mkdir(parents=True, exist_ok=True)
    header = "# Performance\n\nGenerated by `bench/perf.py`; do not edit by hand (rerun it).\n\n"
    out.write_text(header + render(data, previous), encoding="utf-8")
    plot(data, png)


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/perf.json")
    root = Path(__file__).resolve().parents[1]
    write(json.loads(source.read_text()), root / "docs" / "perf.md", root / "docs" / "perf.png")
