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
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import session, start


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
