"""What resumable SSE streams cost per request: the per-session event store on against off.

    uv run python bench/resumable.py [--calls 200] [--rounds 5]

Starts two servers on loopback (no cluster needed: the request is MCP ``tools/list``, answered from
memory, about 40 kB of JSON, so the store's work of sizing and keeping each response shows): one with
the default event store, one with ``--sse-replay-events 0`` (no store: no ids, no retry field). Each
round sends ``--calls`` sequential ``tools/list`` requests on one 2025-11-25 session with SSE responses
to each server in turn, so load on a shared machine hits both alike. Printed: the median latency of
each, their ratio (the figure to quote), and what the store held at the end (from /metrics).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], workdir: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_MCP_", "KUBECONFIG", "MCP_PORT"))}
    log = (workdir / f"{name}.log").open("wb")
    command = [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--kubeconfig", str(workdir / "none"), "--rate-limit", "", *args]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx2.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{name} server did not start; see {workdir / name}.log")


def session(http: httpx2.Client, url: str) -> dict[str, str]:
    opened = http.post(url, json=INIT, headers=ACCEPT)
    opened.raise_for_status()
    common = {**ACCEPT, "mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=common)
    return common


def timed(http: httpx2.Client, url: str, headers: dict[str, str], calls: int) -> list[float]:
    out = []
    for n in range(calls):
        started = time.perf_counter()
        response = http.post(url, json={"jsonrpc": "2.0", "id": 10 + n, "method": "tools/list"}, headers=headers)
        out.append(time.perf_counter() - started)
        if response.status_code != 200 or '"tools"' not in response.text:
            raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")
    return out


def metric(base: str, name: str) -> str:
    found = re.search(rf"^{name} (\S+)$", httpx2.get(f"{base}/metrics").text, re.M)
    return found.group(1) if found else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="resumable-bench-") as tmp:
        workdir = Path(tmp)
        processes = []
        try:
            on_proc, on_base = start([], workdir, "store")
            off_proc, off_base = start(["--sse-replay-events", "0"], workdir, "nostore")
            processes = [on_proc, off_proc]
            kinds = {"store": on_base, "no store": off_base}
            samples: dict[str, list[float]] = {kind: [] for kind in kinds}
            with httpx2.Client(timeout=30) as http:
                headers = {kind: session(http, f"{base}/mcp") for kind, base in kinds.items()}
                for kind, base in kinds.items():
                    timed(http, f"{base}/mcp", headers[kind], 20)  # warm-up
                for _ in range(options.rounds):
                    for kind, base in kinds.items():
                        samples[kind] += timed(http, f"{base}/mcp", headers[kind], options.calls)
                held = (
                    metric(on_base, "k8s_mcp_stream_events_stored"),
                    metric(on_base, "k8s_mcp_stream_event_bytes_stored"),
                )
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=15)
    medians = {kind: statistics.median(values) * 1000 for kind, values in samples.items()}
    print(f"tools/list, {options.rounds} rounds x {options.calls} calls each, sequential, one 2025-11-25 session, SSE")
    for kind, value in medians.items():
        print(f"  {kind:<8} median {value:6.2f} ms")
    print(f"  store/no store {medians['store'] / medians['no store']:.2f}x")
    print(f"  kept at the end: {held[0]} events, {held[1]} bytes (the per-session limits bound both)")


if __name__ == "__main__":
    main()
