"""What live resource subscriptions cost: memory with 200 open subscriptions, and the notification delay.

1. Memory: three servers side by side, each with 20 open 2025-era sessions (the Python SDK client):
   - baseline: no subscriptions;
   - distinct: every session subscribes to 10 ConfigMaps of its own (200 subscriptions, 200 watches,
     the worst case: nothing shared);
   - shared: every session subscribes to the same 10 ConfigMaps (200 subscriptions, 10 watches).
   Reported: the server's RSS (VmRSS, after a settling pause) and thread count, as a delta and a ratio
   against the baseline of the same run.
2. Delay: on the "distinct" server (its 200 watches open), one session's ConfigMap is patched with the
   rig's kubectl ``--patches`` times in a row; each delay runs from just before ``kubectl patch`` is
   started to the arrival of ``notifications/resources/updated`` at the client. ``kubectl patch``'s own
   run time (process start, kubeconfig, the API call) is reported beside it, as the part of the delay
   that is not ours.

Needs the test control plane (``make cluster-up``).

    uv run python bench/subscriptions.py [--patches 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ResourceUpdatedNotification

sys.path.insert(0, str(Path(__file__).parent))
import peers
from perf_fixture import Kubectl, create_namespace, delete_namespace, wait_until

ROOT = Path(__file__).resolve().parents[1]
# resources/subscribe is the 2025-era method; the SDK warns that 2026-07-28 replaced it with listen.
warnings.filterwarnings("ignore", message="resources/(un)?subscribe is removed")
SESSIONS = 20
PER_SESSION = 10


class Listener:
    """One session: the arrival time of each resource update."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.event = asyncio.Event()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.arrivals.append(time.perf_counter())
            self.event.set()


@contextlib.asynccontextmanager
async def sessions(url: str, count: int) -> AsyncIterator[list[tuple[Client, Listener]]]:
    async with contextlib.AsyncExitStack() as stack:
        opened = []
        for _ in range(count):
            listener = Listener()
            http = await stack.enter_async_context(httpx2.AsyncClient(timeout=httpx2.Timeout(120, connect=10)))
            client = await stack.enter_async_context(
                Client(streamable_http_client(url, http_client=http), mode="legacy", message_handler=listener)
            )
            opened.append((client, listener))
        yield opened


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(
    running: peers.Running, namespace: str, objects: list[list[str]], settle: float
) -> tuple[dict[str, Any], Any]:
    """Open the sessions, subscribe each to its objects, settle, read RSS; returns the open sessions' context too."""
    stack = contextlib.AsyncExitStack()
    opened = await stack.enter_async_context(sessions(running.url, SESSIONS))
    for (client, _), names in zip(opened, objects, strict=True):
        for name in names:
            await client.subscribe_resource(f"k8s://current/{namespace}/configmaps/{name}")
    await asyncio.sleep(settle)
    metrics = httpx2.get(f"http://127.0.0.1:{running.port}/metrics").text
    gauges = {
        line.split()[0]: float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith(("k8s_mcp_resource_watches ", "k8s_mcp_resource_subscriptions "))
    }
    found = {"rss_mb": round(running.rss_mb(), 1), "threads": threads(running.pid), **gauges}
    return found, (stack, opened)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patches", type=int, default=60, help="patches timed for the notification delay")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait before reading RSS")
    parser.add_argument("--kubeconfig", default=os.environ.get("K8S_MCP_TEST_KUBECONFIG", ROOT / ".cluster/kubeconfig"))
    opts = parser.parse_args()
    kubeconfig = Path(opts.kubeconfig)
    kubectl = Kubectl(kubeconfig)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-subscriptions-"))
    namespace = create_namespace(kubectl, "bench-subs")
    names = [f"cm-{i:03d}" for i in range(SESSIONS * PER_SESSION)]
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}, "data": {"step": "0"}} for n in names]
    kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    layouts = {
        "baseline": [[] for _ in range(SESSIONS)],
        "distinct": [names[i * PER_SESSION : (i + 1) * PER_SESSION] for i in range(SESSIONS)],
        "shared": [names[:PER_SESSION] for _ in range(SESSIONS)],
    }
    servers = {label: peers.start(peers.ours(key=label, label=label), kubeconfig, log_dir) for label in layouts}
    results: dict[str, Any] = {"sessions": SESSIONS, "per_session": PER_SESSION, "cpus": os.cpu_count()}
    stacks = []
    try:
        for label, running in servers.items():
            wait_until(f"{label} /healthz", lambda running=running: peers.port_open(running.port), 60, 0.2)
        for label, running in servers.items():
            results[label], (stack, opened) = await measure(running, namespace, layouts[label], opts.settle)
            stacks.append(stack)
            if label == "distinct":
                _, listener = opened[0]
                target = layouts["distinct"][0][0]
                delays, kubectl_runs = [], []
                for step in range(1, opts.patches + 1):
                    listener.event.clear()
                    before = len(listener.arrivals)
                    started = time.perf_counter()
                    await asyncio.to_thread(
                        kubectl,
                        "patch",
                        "configmap",
                        target,
                        "-n",
                        namespace,
                        "--type=merge",
                        "-p",
                        json.dumps({"data": {"step": str(step)}}),
                    )
                    kubectl_runs.append(time.perf_counter() - started)
                    while len(listener.arrivals) == before:
                        await asyncio.wait_for(listener.event.wait(), 30)
                        listener.event.clear()
                    delays.append(listener.arrivals[before] - started)
                results["delay"] = {
                    "patches": len(delays),
                    "p50_ms": round(statistics.median(delays) * 1000, 1),
                    "p99_ms": round(percentile(delays, 0.99) * 1000, 1),
                    "max_ms": round(max(delays) * 1000, 1),
                    "kubectl_p50_ms": round(statistics.median(kubectl_runs) * 1000, 1),
                }
        for stack in reversed(stacks):
            await stack.aclose()
        stacks.clear()
        # Every session ended: its subscriptions and watches go at once; their worker threads go back to the
        # pool, which stops the ones idle for 10 s at its next use (one resource read here).
        await asyncio.sleep(11)
        distinct = servers["distinct"]
        async with sessions(distinct.url, 1) as one:
            await one[0][0].read_resource(f"k8s://current/{namespace}/configmaps/{names[0]}")
            await asyncio.sleep(1)
            results["distinct_after_close"] = {"threads": threads(distinct.pid), "rss_mb": round(distinct.rss_mb(), 1)}
        results["load_avg_at_end"] = os.getloadavg()
    finally:
        for stack in reversed(stacks):
            with contextlib.suppress(Exception):
                await stack.aclose()
        for running in servers.values():
            running.stop()
        delete_namespace(kubectl, namespace)

    out = ROOT / "bench" / "results" / f"subscriptions-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    base = results["baseline"]
    print(f"| server ({SESSIONS} sessions) | watches | subscriptions | RSS | vs baseline | threads |")
    print("|---|---|---|---|---|---|")
    for label in layouts:
        r = results[label]
        delta = r["rss_mb"] - base["rss_mb"]
        print(
            f"| {label} | {r.get('k8s_mcp_resource_watches', 0):.0f} "
            f"| {r.get('k8s_mcp_resource_subscriptions', 0):.0f} "
            f"| {r['rss_mb']} MB | {delta:+.1f} MB ({r['rss_mb'] / base['rss_mb']:.2f}x) | {r['threads']} |"
        )
    after = results["distinct_after_close"]
    print(f"| distinct, all sessions closed | 0 | 0 | {after['rss_mb']} MB | | {after['threads']} |")
    d = results["delay"]
    print(
        f"\nkubectl patch -> notifications/resources/updated, {d['patches']} patches with 200 watches open: "
        f"p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms, max {d['max_ms']} ms "
        f"(kubectl patch alone: p50 {d['kubectl_p50_ms']} ms)"
    )
    print(f"raw: {out}")


if __name__ == "__main__":
    asyncio.run(main())
