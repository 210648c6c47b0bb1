"""What running as a replicated, traced service costs, as ratios against a baseline in the same run.

1. Tracing: ``pods_get`` p50 on a server exporting every span over OTLP/HTTP to the rig's Jaeger,
   against the same server with no ``OTEL_*`` settings (tracing off).
2. The approval ledger: one confirmed change (``resources_delete`` of a ConfigMap: the preview call
   plus the call with its token) with the ledger on (one Lease ``create`` per redemption) against
   ``--no-approval-ledger`` (this process's memory only).

Both servers of a pair run side by side and are called in alternating blocks, so drift on a shared
machine hits both alike. Needs the test control plane (``make cluster-up``); starts Jaeger itself
(``rig/jaeger.sh up``).

    uv run python bench/replicas.py [--calls 300] [--changes 60] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).parent))
import peers
from perf_fixture import Kubectl, wait_until

ROOT = Path(__file__).resolve().parents[1]


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


@asynccontextmanager
async def client(url: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(timeout=httpx2.Timeout(120, connect=10)) as http,
        Client(streamable_http_client(url, http_client=http), mode="auto") as session,
    ):
        yield session


def start(label: str, kubeconfig: Path, log_dir: Path, *args: str, env: dict[str, str] | None = None) -> peers.Running:
    spec = peers.ours(tuple(args), key=label, label=label, env=env)
    running = peers.start(spec, kubeconfig, log_dir)
    wait_until(f"{label} /healthz", lambda: peers.port_open(running.port), timeout=60, interval=0.2)
    return running


def jaeger_up() -> dict[str, str]:
    up = subprocess.run([str(ROOT / "rig" / "jaeger.sh"), "up"], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in up.stdout.splitlines() if "=" in line)


async def tracing_overhead(
    kubectl: Kubectl, kubeconfig: Path, log_dir: Path, opts: argparse.Namespace
) -> dict[str, Any]:
    namespace = f"bench-trace-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", namespace)
    jaeger = jaeger_up()
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": jaeger["OTEL_EXPORTER_OTLP_ENDPOINT"]}
    on = start("tracing-on", kubeconfig, log_dir, env=otel)
    off = start("tracing-off", kubeconfig, log_dir, env={"OTEL_SDK_DISABLED": "true"})
    try:
        wait_until("default service account", lambda: kubectl("get", "sa", "default", "-n", namespace, check=False), 60)
        kubectl(
            "apply",
            "-n",
            namespace,
            "-f",
            "-",
            stdin="apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\n"
            "spec: {containers: [{name: main, image: busybox}]}\n",
        )
        wait_until(
            "pod Running",
            lambda: kubectl("get", "pod", "solo", "-n", namespace, "-o", "jsonpath={.status.phase}") == "Running",
            120,
        )
        latencies: dict[str, list[float]] = {"on": [], "off": []}
        block = 50
        async with client(on.url) as c_on, client(off.url) as c_off:
            for c in (c_on, c_off):  # warm-up: imports, connections, discovery caches
                for _ in range(20):
                    await c.call_tool("pods_get", {"name": "solo", "namespace": namespace})
            for _ in range(opts.rounds):
                for _ in range(max(1, opts.calls // block)):
                    for key, c in (("on", c_on), ("off", c_off)):
                        for _ in range(block):
                            started = time.perf_counter()
                            result = await c.call_tool("pods_get", {"name": "solo", "namespace": namespace})
                            latencies[key].append(time.perf_counter() - started)
                            assert not result.is_error
        exported = "tracing on: otlp exporter" in on.logs(tail=10**7)
    finally:
        on.stop()
        off.stop()
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    return {
        "calls_each": len(latencies["on"]),
        "p50_on_ms": round(p50(latencies["on"]), 2),
        "p50_off_ms": round(p50(latencies["off"]), 2),
        "ratio": round(p50(latencies["on"]) / p50(latencies["off"]), 3),
        "exporter_confirmed": exported,
    }


def token_of(text: str) -> str:
    return text.split('approvalToken: "')[1].split('"')[0]


async def ledger_cost(kubectl: Kubectl, kubeconfig: Path, log_dir: Path, opts: argparse.Namespace) -> dict[str, Any]:
    namespace = f"bench-ledger-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", namespace)
    common = ("--approval", "confirm", "--state-namespace", namespace)
    with_ledger = start("ledger-on", kubeconfig, log_dir, *common)
    without = start("ledger-off", kubeconfig, log_dir, *common, "--no-approval-ledger")
    total = opts.changes * opts.rounds
    names = {key: [f"cm-{key}-{i}" for i in range(total)] for key in ("on", "off")}
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}} for ns in names.values() for n in ns]
    kubectl(
        "create", "-n", namespace, "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    )
    latencies: dict[str, list[float]] = {"on": [], "off": []}
    try:
        async with client(with_ledger.url) as c_on, client(without.url) as c_off:
            for c in (c_on, c_off):
                await c.call_tool("namespaces_list", {})
            index = {"on": 0, "off": 0}
            for _ in range(opts.rounds):
                for key, c in (("on", c_on), ("off", c_off)):
                    for _ in range(opts.changes):
                        target = {"apiVersion": "v1", "kind": "ConfigMap", "namespace": namespace}
                        target["name"] = names[key][index[key]]
                        index[key] += 1
                        started = time.perf_counter()
                        preview = await c.call_tool("resources_delete", target)
                        done = await c.call_tool(
                            "resources_delete", {**target, "approvalToken": token_of(preview.content[0].text)}
                        )
                        latencies[key].append(time.perf_counter() - started)
                        assert not done.is_error, done.content[0].text
        leases = len(kubectl("get", "leases", "-n", namespace, "-o", "name").split())
    finally:
        with_ledger.stop()
        without.stop()
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    return {
        "changes_each": len(latencies["on"]),
        "p50_on_ms": round(p50(latencies["on"]), 2),
        "p50_off_ms": round(p50(latencies["off"]), 2),
        "added_ms": round(p50(latencies["on"]) - p50(latencies["off"]), 2),
        "ratio": round(p50(latencies["on"]) / p50(latencies["off"]), 3),
        "ledger_records": leases,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="pods_get calls per server per round")
    parser.add_argument("--changes", type=int, default=60, help="confirmed changes per server per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kubeconfig", default=os.environ.get("K8S_MCP_TEST_KUBECONFIG", ROOT / ".cluster/kubeconfig"))
    opts = parser.parse_args()
    kubeconfig = Path(opts.kubeconfig)
    kubectl = Kubectl(kubeconfig)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    results = {
        "tracing": await tracing_overhead(kubectl, kubeconfig, log_dir, opts),
        "ledger": await ledger_cost(kubectl, kubeconfig, log_dir, opts),
        "cpus": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
    }
    out = ROOT / "bench" / "results" / f"replicas-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    t, ledger = results["tracing"], results["ledger"]
    print("| measure | baseline (same run) | p50 | ratio |")
    print("|---|---|---|---|")
    print(
        f"| pods_get, tracing on (OTLP/HTTP to Jaeger), {t['calls_each']} calls | tracing off: {t['p50_off_ms']} ms "
        f"| {t['p50_on_ms']} ms | {t['ratio']}x |"
    )
    print(
        f"| confirmed change (preview + token call), ledger on, {ledger['changes_each']} changes "
        f"| ledger off: {ledger['p50_off_ms']} ms | {ledger['p50_on_ms']} ms (+{ledger['added_ms']} ms) "
        f"| {ledger['ratio']}x |"
    )
    print(f"raw: {out}")


if __name__ == "__main__":
    asyncio.run(main())
