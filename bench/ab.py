"""Before/after: our server at a git revision against the working tree, interleaved, as ratios.

    uv run python bench/ab.py HEAD~1                  # pods_get and resources_get, SSE and --json-response
    uv run python bench/ab.py HEAD~1 --rounds 6 --calls 40 --starts 5

Each variant is our server as bench/perf.py starts it: "before" is ``git archive REV`` unpacked in a
temporary directory, "after" the working tree; both with this checkout's environment, except that a
revision whose pyproject.toml does not name uvloop/httptools runs with those two imports blocked (so
uvicorn falls back to asyncio and h11, as that revision's install would). Rounds alternate the
variants so a change in the machine's load hits both alike; the figures are medians over all rounds,
and the ratios before ÷ after (above 1: the working tree is faster or lighter).

Measured: one-client p50 of pods_get and resources_get (back to back on one session, or with
``--gap`` seconds between calls), ready time (start to first successful pods_get) and idle RSS.
Environment: K8S_MCP_BENCH_KUBECONFIG (default: .cluster/kubeconfig of this checkout).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
from perf import connect, default_kubeconfig, start_and_wait
from perf_fixture import Kubectl, create_fixture, delete_namespace

ROOT = peers.ROOT
BLOCK = "import sys; sys.modules['uvloop'] = None; sys.modules['httptools'] = None; "


def variant(name: str, tree: Path, block: bool, extra: tuple[str, ...]) -> peers.ServerSpec:
    base = peers.ours(extra)

    def argv(port: int, kubeconfig: Path) -> list[str]:
        args = base.argv(port, kubeconfig)[3:]  # after: python -m app
        code = (BLOCK if block else "") + f"sys.argv = ['k8s-mcp', *{args!r}]; from app.__main__ import main; main()"
        if not block:
            code = "import sys; " + code
        return [sys.executable, "-c", code]

    return peers.ServerSpec(name, name, base.version, argv, lambda p, k: {"PYTHONPATH": str(tree)}, cwd=tree)


def unpack(rev: str, into: Path) -> bool:
    """``rev``'s tree in ``into``; True when its dependencies include uvloop (else the import is blocked)."""
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    peers.compile_bytecode(sys.executable, into / "app")
    return "uvloop" in (into / "pyproject.toml").read_text()


async def p50s(url: str, cases: dict[str, dict[str, Any]], calls: int, gap: float) -> dict[str, float]:
    out: dict[str, float] = {}
    async with connect(url, "legacy") as client:
        for tool, args in cases.items():
            for _ in range(3):
                await client.call_tool(tool, args)
            samples = []
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool(tool, args)
                samples.append(time.perf_counter() - started)
                if result.is_error:
                    raise RuntimeError(f"{tool}: {result.content}")
                if gap:
                    await anyio.sleep(gap)
            out[tool] = statistics.median(samples) * 1000
    return out


async def amain(opts: argparse.Namespace) -> None:
    kubectl = Kubectl(opts.kubeconfig)
    load0 = os.getloadavg()[0]
    fx = create_fixture(kubectl, 2)
    cases = fx.small_gets()
    log_dir = ROOT / "bench" / "results" / "logs"
    peers.compile_bytecode(sys.executable, ROOT / "app", *peers.site_packages(Path(sys.prefix)))
    samples: dict[tuple[str, str, str], list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
            before_has = unpack(opts.rev, Path(tmp))
            trees = {"before": (Path(tmp), not before_has), "after": (ROOT, False)}
            for round_ in range(opts.rounds):
                order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
                for mode, extra in (("sse", ()), ("json", ("--json-response",))):
                    for name in order:
                        tree, block = trees[name]
                        spec = variant(name, tree, block, extra)
                        run, ready = await start_and_wait(
                            spec, opts.kubeconfig, log_dir, ("pods_get", cases["pods_get"])
                        )
                        try:
                            await anyio.sleep(1)
                            samples.setdefault((name, mode, "ready_s"), []).append(ready)
                            samples.setdefault((name, mode, "rss_idle_mb"), []).append(run.rss_mb())
                            for tool, p50 in (await p50s(run.url, cases, opts.calls, opts.gap)).items():
                                samples.setdefault((name, mode, tool), []).append(p50)
                        finally:
                            run.stop()
                print(f"[ab] round {round_ + 1}/{opts.rounds} done", file=sys.stderr)
    finally:
        delete_namespace(kubectl, fx.namespace)
    print(
        f"\n{opts.rev} (before) vs working tree (after); {opts.rounds} rounds, {opts.calls} calls each; "
        f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f}\n"
    )
    print("| measure | mode | before | after | before / after |")
    print("|---|---|---|---|---|")
    for measure in ("pods_get", "resources_get", "ready_s", "rss_idle_mb"):
        for mode in ("sse", "json"):
            b = statistics.median(samples[("before", mode, measure)])
            a = statistics.median(samples[("after", mode, measure)])
            print(f"| {measure} | {mode} | {b:.2f} | {a:.2f} | {b / a:.2f} |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rev", help="the git revision to compare the working tree with")
    p.add_argument("--kubeconfig", type=Path, default=default_kubeconfig())
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--calls", type=int, default=40, help="timed calls per tool per round (default 40)")
    p.add_argument("--gap", type=float, default=0.0, help="idle seconds after each call (default 0)")
    anyio.run(amain, p.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
