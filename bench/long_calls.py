"""What progress and cancellation cost and deliver, measured on one server against the test control plane.

1. Overhead: p50 of a fast call (``pods_get``) with a progress token (a notifier and a heartbeat task run
   beside the call) against the same call without one, in alternating blocks on one server; a ratio.
2. Heartbeat: the gaps between the progress notifications a client receives while ``sleep`` runs
   silently in a pod (``pods_exec``): p50 and max, in seconds (the promise: at most 5).
3. Cancellation: ``helm_install --wait`` of a chart that never gets ready, cancelled at its first
   "not ready yet" message: seconds from the cancel until no helm process of the release is left
   (polled in /proc every 20 ms), and until the server's audit line says ``cancelled``.

    uv run python bench/long_calls.py [--calls 200] [--rounds 3] [--sleep 20] [--cancels 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).parent))
import peers
from perf_fixture import Kubectl, wait_until

ROOT = Path(__file__).resolve().parents[1]
UNREADY_CHART = str(ROOT / "tests" / "charts" / "unready")


@asynccontextmanager
async def client(url: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(timeout=httpx2.Timeout(120, connect=10)) as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy") as session,
    ):
        yield session


async def ignore(progress: float, total: float | None, message: str | None) -> None:
    return None


async def overhead(c: Client, namespace: str, opts: argparse.Namespace) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {"token": [], "none": []}
    arguments = {"name": "solo", "namespace": namespace}
    for _ in range(20):
        await c.call_tool("pods_get", arguments)
    block = 25
    for _ in range(opts.rounds):
        for _ in range(max(1, opts.calls // block)):
            for key, callback in (("token", ignore), ("none", None)):
                for _ in range(block):
                    started = time.perf_counter()
                    result = await c.call_tool("pods_get", arguments, progress_callback=callback)
                    latencies[key].append(time.perf_counter() - started)
                    assert not result.is_error
    on, off = statistics.median(latencies["token"]) * 1000, statistics.median(latencies["none"]) * 1000
    return {
        "calls_each": len(latencies["token"]),
        "p50_token_ms": round(on, 2),
        "p50_none_ms": round(off, 2),
        "ratio": round(on / off, 3),
    }


async def heartbeat(c: Client, namespace: str, opts: argparse.Namespace) -> dict[str, Any]:
    arrivals: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        arrivals.append(time.monotonic())

    started = time.monotonic()
    command = ["sleep", str(opts.sleep)]
    result = await c.call_tool(
        "pods_exec",
        {"name": "solo", "namespace": namespace, "command": command, "timeout": opts.sleep + 30},
        progress_callback=on_progress,
    )
    ended = time.monotonic()
    assert not result.is_error
    marks = [started, *arrivals, ended]
    gaps = [b - a for a, b in itertools.pairwise(marks)]
    return {
        "seconds": round(ended - started, 1),
        "notifications": len(arrivals),
        "gap_p50_s": round(statistics.median(gaps), 2),
        "gap_max_s": round(max(gaps), 2),
    }


def helm_alive(release: str, namespace: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = [w.decode(errors="replace") for w in cmdline.read_bytes().split(b"\0") if w]
        except OSError:
            continue
        if words and words[0].endswith("helm") and release in words and namespace in words:
            return True
    return False


async def cancellation(c: Client, server: peers.Running, namespace: str, opts: argparse.Namespace) -> dict[str, Any]:
    to_gone: list[float] = []
    to_audit: list[float] = []
    for attempt in range(opts.cancels):
        release = f"cut-{attempt}"
        arguments = {"chart": UNREADY_CHART, "name": release, "namespace": namespace, "wait": True, "timeout": 300}
        with anyio.CancelScope() as scope:

            async def on_progress(progress: float, total: float | None, message: str | None, s: Any = scope) -> None:
                if message and "is not ready yet" in message:
                    s.cancel()

            await c.call_tool("helm_install", arguments, progress_callback=on_progress)
        cancelled_at = time.monotonic()
        assert scope.cancelled_caught
        while helm_alive(release, namespace):
            await anyio.sleep(0.02)
        to_gone.append(time.monotonic() - cancelled_at)
        while '"outcome": "cancelled"' not in "".join(
            line for line in server.logs(tail=10**7).splitlines() if release in line and '"tool call"' in line
        ):
            await anyio.sleep(0.02)
        to_audit.append(time.monotonic() - cancelled_at)
    return {
        "cancels": opts.cancels,
        "helm_gone_p50_s": round(statistics.median(to_gone), 2),
        "helm_gone_max_s": round(max(to_gone), 2),
        "audit_p50_s": round(statistics.median(to_audit), 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200, help="pods_get calls per variant per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sleep", type=int, default=20, help="seconds the exec command stays silent")
    parser.add_argument("--cancels", type=int, default=3, help="helm installs to cancel")
    parser.add_argument("--kubeconfig", default=os.environ.get("K8S_MCP_TEST_KUBECONFIG", ROOT / ".cluster/kubeconfig"))
    opts = parser.parse_args()
    kubeconfig = Path(opts.kubeconfig)
    kubectl = Kubectl(kubeconfig)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-long-calls-"))
    spec = peers.ours(("--helm-binary", str(peers.rig_bin() / "helm")), key="long-calls", label="long calls")
    server = peers.start(spec, kubeconfig, log_dir)
    namespace = f"bench-long-{uuid.uuid4().hex[:6]}"
    try:
        wait_until("/healthz", lambda: peers.port_open(server.port), timeout=60, interval=0.2)
        kubectl("create", "namespace", namespace)
        wait_until("default service account", lambda: kubectl("get", "sa", "default", "-n", namespace, check=False), 60)
        kubectl("run", "solo", "--image=busybox", "-n", namespace)
        wait_until(
            "pod Running",
            lambda: kubectl("get", "pod", "solo", "-n", namespace, "-o", "jsonpath={.status.phase}") == "Running",
            120,
        )
        async with client(server.url) as c:
            results = {
                "overhead": await overhead(c, namespace, opts),
                "heartbeat": await heartbeat(c, namespace, opts),
                "cancellation": await cancellation(c, server, namespace, opts),
                "cpus": os.cpu_count(),
                "load_avg_at_end": os.getloadavg(),
            }
    finally:
        server.stop()
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    out = ROOT / "bench" / "results" / f"long-calls-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    o, h, x = results["overhead"], results["heartbeat"], results["cancellation"]
    print("| measure | result |")
    print("|---|---|")
    print(
        f"| pods_get with a progress token vs without, {o['calls_each']} calls each | {o['p50_token_ms']} ms vs "
        f"{o['p50_none_ms']} ms: {o['ratio']}x |"
    )
    print(
        f"| gaps between progress notifications, `sleep {opts.sleep}` in a pod ({h['notifications']} notifications) "
        f"| p50 {h['gap_p50_s']} s, max {h['gap_max_s']} s |"
    )
    print(
        f"| cancelled helm install --wait, {x['cancels']} times: cancel to no helm process left | "
        f"p50 {x['helm_gone_p50_s']} s, max {x['helm_gone_max_s']} s (audit line: p50 {x['audit_p50_s']} s) |"
    )
    print(f"raw: {out}")


if __name__ == "__main__":
    asyncio.run(main())
