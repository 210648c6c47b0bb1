"""Latency, throughput, memory and start-up of k8s-mcp against its peers, on the same control plane, in one run.

    uv run python bench/perf.py            # the standard run (about 20 minutes on 2 cores)
    uv run python bench/perf.py --scale    # plus 5,000 pods cluster-wide (adds about 10 minutes)

It installs the peers into a cache outside the repository (bench/peers.py), makes its own namespace
with 200 running pods, a Deployment and their events (bench/perf_fixture.py), starts every server on
loopback, drives each with the same ``mcp`` Python client over streamable HTTP, times the same request
made directly to the API server (the floor), removes what it made, and writes docs/perf.md and
docs/perf.png. Raw numbers go to bench/results/perf.json. Environment: K8S_MCP_BENCH_KUBECONFIG
(default: .cluster/kubeconfig of this checkout, where `make cluster-up` writes it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
import perf_report
from perf_fixture import (
    DirectApi,
    Fixture,
    Kubectl,
    create_fixture,
    create_namespace,
    create_pods,
    delete_namespace,
    wait_until,
)

ROOT = peers.ROOT
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
LOG_LINE = re.compile(r"k8s-mcp test log line (\d+)")
POD_NAME = re.compile(r"bench-pod-\d{3}\b")
# The client's default cap on one SSE event is 1 MiB; an unpaged list of 5,000 pods is larger. Raised so
# the scale test measures such answers instead of failing on them (the report says how large they were).
MAX_EVENT = 64 * 1024 * 1024


def default_kubeconfig() -> Path:
    env = os.environ.get("K8S_MCP_BENCH_KUBECONFIG")
    if env:
        return Path(env)
    return ROOT / ".cluster" / "kubeconfig"


# ---------------------------------------------------------------- workloads

Args = dict[str, Any]
CallFn = Callable[[Fixture, str, int, int], tuple[str, Args]]  # (fixture, server key, client, i) -> tool, args


@dataclass(frozen=True)
class Floor:
    method: str
    path: str
    params: dict[str, str] | None = None
    accept: str = "application/json"
    body: Any = None


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    read: bool
    ours: str  # our tool; absent from the catalog = "missing"
    calls: dict[str, CallFn]  # by server family: ours (ours and Go share names), flux, kubectl-mcp
    floor: Callable[[Fixture, int, int], Floor]
    items: Callable[[str], int]  # what the answer shows, to check that servers return comparable things


def _configmap(fx: Fixture, server: str, client: int, i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"bench-cm-{server}-{client}", "namespace": fx.namespace, "labels": {"app": "bench"}},
        "data": {"round": str(i), "owner": server, "settings.yaml": "replicas: 3\nlogLevel: info\n"},
    }


def _count_pods(text: str) -> int:
    return len(set(POD_NAME.findall(text)))


def _count_log_lines(text: str) -> int:
    return len(set(LOG_LINE.findall(text)))


def _count_events(text: str) -> int:
    return text.count("Scheduled")


def _has(*needles: str) -> Callable[[str], int]:
    return lambda text: int(all(n in text for n in needles))


WORKLOADS: list[Workload] = [
    Workload(
        "pods_list_ns",
        "pods_list, one namespace (200 pods)",
        True,
        "pods_list_in_namespace",
        {
            "ours": lambda fx, s, c, i: ("pods_list_in_namespace", {"namespace": fx.namespace}),
            "flux": lambda fx, s, c, i: ("kubectl_get", {"resourceType": "pods", "namespace": fx.namespace}),
            "kubectl-mcp": lambda fx, s, c, i: ("kubectl_get", {"resource_type": "pods", "namespace": fx.namespace}),
        },
        lambda fx, c, i: Floor(
            "GET", f"/api/v1/namespaces/{fx.namespace}/pods", {"limit": "500", "includeObject": "None"}, TABLE
        ),
        _count_pods,
    ),
    Workload(
        "pods_list_all",
        "pods_list, all namespaces",
        True,
        "pods_list",
        {
            "ours": lambda fx, s, c, i: ("pods_list", {}),
            "flux": lambda fx, s, c, i: ("kubectl_get", {"resourceType": "pods", "allNamespaces": True}),
            "kubectl-mcp": lambda fx, s, c, i: ("kubectl_get", {"resource_type": "pods", "all_namespaces": True}),
        },
        lambda fx, c, i: Floor("GET", "/api/v1/pods", {"limit": "500", "includeObject": "Metadata"}, TABLE),
        _count_pods,
    ),
    Workload(
        "pods_get",
        "pods_get",
        True,
        "pods_get",
        {
            "ours": lambda fx, s, c, i: ("pods_get", {"name": fx.pod, "namespace": fx.namespace}),
            "flux": lambda fx, s, c, i: (
                "kubectl_get",
                {"resourceType": "pods", "name": fx.pod, "namespace": fx.namespace},
            ),
            "kubectl-mcp": lambda fx, s, c, i: (
                "kubectl_get",
                {"resource_type": "pods", "name": fx.pod, "namespace": fx.namespace, "output": "yaml"},
            ),
        },
        lambda fx, c, i: Floor("GET", f"/api/v1/namespaces/{fx.namespace}/pods/{fx.pod}"),
        _has("bench-pod-000", "busybox"),
    ),
    Workload(
        "resources_get",
        "resources_get of a Deployment",
        True,
        "resources_get",
        {
            "ours": lambda fx, s, c, i: (
                "resources_get",
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": fx.deployment, "namespace": fx.namespace},
            ),
            "flux": lambda fx, s, c, i: (
                "kubectl_get",
                {"resourceType": "deployments", "name": fx.deployment, "namespace": fx.namespace},
            ),
            "kubectl-mcp": lambda fx, s, c, i: (
                "kubectl_get",
                {"resource_type": "deployments", "name": fx.deployment, "namespace": fx.namespace, "output": "yaml"},
            ),
        },
        lambda fx, c, i: Floor("GET", f"/apis/apps/v1/namespaces/{fx.namespace}/deployments/{fx.deployment}"),
        _has("bench-web", "nginx"),
    ),
    Workload(
        "events_list",
        "events_list, one namespace",
        True,
        "events_list",
        {
            "ours": lambda fx, s, c, i: ("events_list", {"namespace": fx.namespace}),
            "flux": lambda fx, s, c, i: ("kubectl_get", {"resourceType": "events", "namespace": fx.namespace}),
            "kubectl-mcp": lambda fx, s, c, i: ("kubectl_get", {"resource_type": "events", "namespace": fx.namespace}),
        },
        lambda fx, c, i: Floor("GET", f"/api/v1/namespaces/{fx.namespace}/events", {"limit": "500"}, TABLE),
        _count_events,
    ),
    Workload(
        "pods_log",
        "pods_log, 1,000 lines",
        True,
        "pods_log",
        {
            "ours": lambda fx, s, c, i: ("pods_log", {"name": fx.pod, "namespace": fx.namespace, "tail": 1000}),
            "flux": lambda fx, s, c, i: (
                "kubectl_logs",
                {"resourceType": "pod", "name": fx.pod, "namespace": fx.namespace, "tail": 1000},
            ),
            "kubectl-mcp": lambda fx, s, c, i: (
                "kubectl_logs",
                {"pod_name": fx.pod, "namespace": fx.namespace, "tail": 1000},
            ),
        },
        lambda fx, c, i: Floor(
            "GET", f"/api/v1/namespaces/{fx.namespace}/pods/{fx.pod}/log", {"tailLines": "1000"}, "*/*"
        ),
        _count_log_lines,
    ),
    Workload(
        "create_or_update",
        "resources_create_or_update of a ConfigMap",
        False,
        "resources_create_or_update",
        {
            "ours": lambda fx, s, c, i: (
                "resources_create_or_update",
                {"resource": json.dumps(_configmap(fx, s, c, i))},
            ),
            "flux": lambda fx, s, c, i: (
                "kubectl_apply",
                {"manifest": json.dumps(_configmap(fx, s, c, i)), "namespace": fx.namespace},
            ),
            "kubectl-mcp": lambda fx, s, c, i: (
                "kubectl_apply",
                {"manifest": json.dumps(_configmap(fx, s, c, i)), "namespace": fx.namespace},
            ),
        },
        lambda fx, c, i: Floor(
            "PATCH",
            f"/api/v1/namespaces/{fx.namespace}/configmaps/bench-cm-floor-{c}",
            {"fieldManager": "bench-floor", "force": "true"},
            body=_configmap(fx, "floor", c, i),
        ),
        lambda text: 1,
    ),
]
READ_WORKLOADS = [w.key for w in WORKLOADS if w.read]


# ---------------------------------------------------------------- targets and results


@dataclass
class Target:
    """One server driven in one protocol era (ours runs twice: 2025 sessions and 2026-07-28 stateless)."""

    key: str
    label: str
    family: str  # which mapping of WORKLOADS.calls applies
    server: peers.Running
    mode: str = "legacy"
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> inputSchema properties

    def call_for(self, workload: Workload, fx: Fixture, client: int, i: int) -> tuple[str, Args] | None:
        fn = workload.calls.get(self.family)
        if fn is None:
            return None
        tool, args = fn(fx, self.server.spec.key, client, i)
        if tool not in self.tools:
            return None
        props = self.tools[tool]
        if props:  # pass only what this server's version of the tool accepts
            args = {k: v for k, v in args.items() if k in props}
        return tool, args


@dataclass
class Batch:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    wall: float = 0.0
    chars: list[int] = field(default_factory=list)
    structured_chars: list[int] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    server_cpu: float = 0.0
    rss_peak: float = 0.0

    @property
    def calls(self) -> int:
        return len(self.latencies)

    def add(self, other: Batch) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error
        self.wall += other.wall
        self.chars += other.chars
        self.structured_chars += other.structured_chars
        self.items += other.items
        self.server_cpu += other.server_cpu
        self.rss_peak = max(self.rss_peak, other.rss_peak)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Cell:
    """Numbers for one target x workload (None = not measured; status says why)."""

    status: str = "ok"  # ok | missing | n/a | errors
    p50_ms: float | None = None
    p99_ms: float | None = None
    seq_rate: float | None = None
    conc_rate: float | None = None
    conc_p50_ms: float | None = None
    conc_p99_ms: float | None = None
    cpu_ms_per_call: float | None = None
    rss_peak_mb: float | None = None
    chars: int | None = None
    structured_chars: int | None = None
    items: int | None = None
    errors: int = 0
    first_error: str | None = None
    calls: int = 0


# ---------------------------------------------------------------- the client side


@contextlib.asynccontextmanager
async def connect(url: str, mode: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(timeout=httpx2.Timeout(120, connect=10)) as http,
        Client(
            streamable_http_client(url, http_client=http, max_sse_event_size=MAX_EVENT),
            mode=mode,
            read_timeout_seconds=120,
        ) as client,
    ):
        yield client


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def timed_call(client: Client, tool: str, args: Args, batch: Batch, items: Callable[[str], int]) -> None:
    started = time.perf_counter()
    try:
        result = await client.call_tool(tool, args)
    except Exception as e:  # noqa: BLE001 - a protocol error counts as an error, never stops the run
        batch.latencies.append(time.perf_counter() - started)
        batch.errors += 1
        batch.first_error = batch.first_error or f"{type(e).__name__}: {e}"[:300]
        return
    batch.latencies.append(time.perf_counter() - started)
    text = text_of(result)
    if result.is_error:
        batch.errors += 1
        batch.first_error = batch.first_error or text[:300]
    batch.chars.append(len(text))
    structured = result.structured_content
    batch.structured_chars.append(len(json.dumps(structured)) if structured is not None else 0)
    batch.items.append(items(text))


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process, its reaped children and its live descendants (kubectl forks included)."""
    tick = os.sysconf("SC_CLK_TCK")
    kids = peers._children()
    total = 0.0
    todo = [(pid, True)]
    while todo:
        current, root = todo.pop()
        todo.extend((k, False) for k in kids.get(current, []))
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        total += (utime + stime + (cutime + cstime if root else 0)) / tick
    return total


class RssSampler:
    """Peak RSS of a server's process tree while a batch runs (a thread, so the event loop is not taxed)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, peers.tree_rss_mb(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, peers.tree_rss_mb(self.pid))


async def sequential(
    client: Client, target: Target, workload: Workload, fx: Fixture, calls: int, warmup: int, gap: float = 0.0
) -> Batch | None:
    """``calls`` calls one after the other on one session; ``gap`` seconds of idle after each (0: back to back)."""
    batch = Batch()
    first = target.call_for(workload, fx, 0, 0)
    if first is None:
        return None
    for i in range(warmup):
        tool, args = target.call_for(workload, fx, 0, i) or first
        await timed_call(client, tool, args, Batch(), workload.items)
    cpu0 = tree_cpu_seconds(target.server.pid)
    started = time.perf_counter()
    for i in range(calls):
        tool, args = target.call_for(workload, fx, 0, warmup + i) or first
        await timed_call(client, tool, args, batch, workload.items)
        if gap:
            await anyio.sleep(gap)
    batch.wall = time.perf_counter() - started - gap * calls
    batch.server_cpu = tree_cpu_seconds(target.server.pid) - cpu0
    return batch


async def concurrent(target: Target, workload: Workload, fx: Fixture, clients: int, calls: int) -> Batch | None:
    """``clients`` sessions opened first (not timed), then released together for ``calls`` calls each."""
    if target.call_for(workload, fx, 0, 0) is None:
        return None
    batch = Batch()
    go = anyio.Event()
    ready = 0
    done = anyio.Event()
    finished = 0

    async def one(index: int) -> None:
        nonlocal ready, finished
        try:
            async with connect(target.server.url, target.mode) as client:
                tool, args = target.call_for(workload, fx, index + 1, 0) or ("", {})
                await timed_call(client, tool, args, Batch(), workload.items)  # warm the session
                ready += 1
                await go.wait()
                for i in range(calls):
                    tool, args = target.call_for(workload, fx, index + 1, i + 1) or ("", {})
                    await timed_call(client, tool, args, batch, workload.items)
        except Exception as e:  # noqa: BLE001 - a broken session is counted, not fatal
            batch.errors += 1
            batch.first_error = batch.first_error or f"session: {type(e).__name__}: {e}"[:300]
            ready += 1
        finally:
            finished += 1
            if finished == clients:
                done.set()

    with RssSampler(target.server.pid) as sampler:
        async with anyio.create_task_group() as tg:
            for index in range(clients):
                tg.start_soon(one, index)
            with anyio.fail_after(300):
                while ready < clients:
                    await anyio.sleep(0.02)
            cpu0 = tree_cpu_seconds(target.server.pid)
            started = time.perf_counter()
            go.set()
            await done.wait()
            batch.wall = time.perf_counter() - started
            batch.server_cpu = tree_cpu_seconds(target.server.pid) - cpu0
    batch.rss_peak = sampler.peak
    return batch


async def floor_batch(
    api: DirectApi, workload: Workload, fx: Fixture, calls: int, warmup: int, gap: float = 0.0
) -> list[float]:
    for i in range(warmup):
        f = workload.floor(fx, 0, i)
        await api.request(f.method, f.path, params=f.params, accept=f.accept, body=f.body)
    out = []
    for i in range(calls):
        f = workload.floor(fx, 0, warmup + i)
        started = time.perf_counter()
        await api.request(f.method, f.path, params=f.params, accept=f.accept, body=f.body)
        out.append(time.perf_counter() - started)
        if gap:
            await anyio.sleep(gap)
    return out


# ---------------------------------------------------------------- start-up


@dataclass
class StartStats:
    ready_s: list[float] = field(default_factory=list)
    ready_cpu_s: list[float] = field(default_factory=list)
    rss_idle_mb: list[float] = field(default_factory=list)
    rss_peak_mb: float = 0.0
    failure: str | None = None


async def start_and_wait(
    spec: peers.ServerSpec, kubeconfig: Path, log_dir: Path, probe: tuple[str, Args], timeout: float = 60
) -> tuple[peers.Running, float]:
    """Start a server and time it until the first tools/call succeeds (session set-up included)."""
    run = peers.start(spec, kubeconfig, log_dir)
    deadline = time.perf_counter() + timeout
    last = "no answer"
    while time.perf_counter() < deadline:
        if not run.alive():
            raise RuntimeError(f"{spec.label} exited with {run.process.returncode}: {run.logs()[-800:]}")
        if peers.port_open(run.port):
            try:
                async with connect(run.url, "legacy") as client:
                    result = await client.call_tool(*probe)
                    if not result.is_error:
                        ready = time.perf_counter() - run.started
                        run.ready_cpu = tree_cpu_seconds(run.pid)
                        return run, ready
                    last = text_of(result)[:200]
            except Exception as e:  # noqa: BLE001 - not up yet: try again
                last = f"{type(e).__name__}: {e}"[:200]
        await anyio.sleep(0.01)
    run.stop()
    raise RuntimeError(f"{spec.label} was not ready within {timeout:.0f}s: {last}")


# ---------------------------------------------------------------- the run


@dataclass
class Options:
    kubeconfig: Path
    repeat: int
    conc_repeat: int
    gap: float
    seq_calls: int
    seq_calls_slow: int
    clients: int
    conc_calls: int
    conc_calls_slow: int
    starts: int
    servers: list[str]
    scale: bool
    scale_pods: int
    scale_only: bool
    pods: int
    out: Path
    png: Path


@dataclass
class Results:
    started: str
    options: dict[str, Any]
    environment: dict[str, Any]
    fixture: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, str]] = field(default_factory=list)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    cells: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # target -> workload -> Cell
    floor: dict[str, dict[str, float]] = field(default_factory=dict)
    scale: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def environment(kubectl: Kubectl) -> dict[str, Any]:
    version = json.loads(kubectl("version", "-o", "json", check=False) or "{}")
    tokens = "tiktoken o200k_base" if _tokenizer() else "characters only (tiktoken cannot load offline)"
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "kernel": platform.release(),
        "kubernetes": (version.get("serverVersion") or {}).get("gitVersion", "?"),
        "node": os.popen("node --version").read().strip(),  # noqa: S605
        "tokens": tokens,
        "loadavg_start": os.getloadavg(),
    }


_ENCODER: Any = None


def _tokenizer() -> Any:
    """tiktoken's o200k_base if it is installed and its vocabulary is cached; None otherwise (no network)."""
    global _ENCODER
    if _ENCODER is None:
        try:
            import tiktoken  # type: ignore[import-not-found]

            _ENCODER = tiktoken.get_encoding("o200k_base")
        except Exception:  # noqa: BLE001 - not installed, or its vocabulary cannot be fetched offline
            _ENCODER = False
    return _ENCODER or None


def specs_for(names: list[str]) -> list[peers.ServerSpec]:
    chosen: list[peers.ServerSpec] = []
    if {"k8s-mcp", "k8s-mcp-json"} & set(names):
        peers.compile_bytecode(sys.executable, ROOT / "app", *peers.site_packages(Path(sys.prefix)))
    if "k8s-mcp" in names:
        chosen.append(peers.ours())
    if "k8s-mcp-json" in names:
        chosen.append(peers.ours(("--json-response",), "k8s-mcp-json", "k8s-mcp --json-response"))
    if {"go", "flux"} & set(names):
        peers.install_npm_peers()
    if "go" in names:
        chosen.append(peers.go_server())
    if "flux" in names:
        chosen.append(peers.flux_server())
    if "kubectl-mcp" in names and peers.install_kubectl_mcp():
        venv = peers.kubectl_mcp_venv()
        peers.compile_bytecode(str(venv / "bin" / "python"), *peers.site_packages(venv))
        chosen.append(peers.kubectl_mcp_server())
    return chosen


FAMILY = {"k8s-mcp": "ours", "k8s-mcp-json": "ours", "go": "ours", "flux": "flux", "kubectl-mcp": "kubectl-mcp"}


def probe_call(spec: peers.ServerSpec, fx: Fixture) -> tuple[str, Args]:
    workload = next(w for w in WORKLOADS if w.key == "pods_get")
    return workload.calls[FAMILY[spec.key]](fx, spec.key, 0, 0)


async def measure_servers(opts: Options, fx: Fixture, results: Results, log_dir: Path) -> dict[str, peers.Running]:
    """Start each server ``opts.starts`` times (timing each to its first call); keep the last one running."""
    running: dict[str, peers.Running] = {}
    for spec in specs_for(opts.servers):
        stats = StartStats()
        for attempt in range(opts.starts):
            try:
                run, ready = await start_and_wait(spec, opts.kubeconfig, log_dir, probe_call(spec, fx))
            except RuntimeError as e:
                stats.failure = str(e)
                print(f"[bench] {spec.label}: {e}", file=sys.stderr)
                break
            await anyio.sleep(2)
            stats.ready_s.append(ready)
            stats.ready_cpu_s.append(run.ready_cpu)
            stats.rss_idle_mb.append(run.rss_mb())
            print(f"[bench] {spec.label}: ready in {ready:.2f}s, {stats.rss_idle_mb[-1]:.0f} MB idle", file=sys.stderr)
            if attempt < opts.starts - 1:
                run.stop()
            else:
                running[spec.key] = run
        cold: list[float] = []
        if spec.key == "k8s-mcp" and stats.failure is None:
            # once more with no bytecode cache at all, as a plain `uv sync` install on this machine starts
            with tempfile.TemporaryDirectory(prefix="bench-nopyc-") as empty:
                cold_spec = peers.ours(env={"PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"})
                run, ready = await start_and_wait(cold_spec, opts.kubeconfig, log_dir, probe_call(spec, fx))
                run.stop()
                cold.append(ready)
                print(f"[bench] {spec.label}: ready in {ready:.2f}s without bytecode", file=sys.stderr)
        results.servers[spec.key] = {
            "ready_nopyc_s": cold,
            "label": spec.label,
            "version": spec.version,
            "kubectl_based": spec.kubectl_based,
            "ready_s": stats.ready_s,
            "ready_cpu_s": stats.ready_cpu_s,
            "rss_idle_mb": stats.rss_idle_mb,
            "failure": stats.failure,
        }
    return running


async def list_tools(target: Target) -> None:
    async with connect(target.server.url, target.mode) as client:
        listed = await client.list_tools()
    target.tools = {t.name: dict((t.input_schema or {}).get("properties") or {}) for t in listed.tools}


def make_targets(running: dict[str, peers.Running]) -> list[Target]:
    targets: list[Target] = []
    for key, run in running.items():
        targets.append(Target(key, run.spec.label, FAMILY[key], run))
        if key == "k8s-mcp":
            targets.append(Target("k8s-mcp-2026", "k8s-mcp, 2026-07-28 stateless", "ours", run, mode="auto"))
    return targets


def slow(target: Target) -> bool:
    return target.server.spec.kubectl_based


async def run_benchmark(opts: Options, fx: Fixture, results: Results, log_dir: Path) -> None:
    running = await measure_servers(opts, fx, results, log_dir)
    targets = make_targets(running)
    try:
        for target in targets:
            await list_tools(target)
        results.targets = [{"key": t.key, "label": t.label, "server": t.server.spec.key} for t in targets]
        seq: dict[tuple[str, str], Batch] = {}
        conc: dict[tuple[str, str], Batch] = {}
        floors: dict[str, list[float]] = {}
        rates: dict[tuple[str, str], list[float]] = {}
        conc_rates: dict[tuple[str, str], list[float]] = {}
        api = DirectApi(opts.kubeconfig)
        sessions: dict[str, Client] = {}
        try:
            async with contextlib.AsyncExitStack() as stack:
                for target in targets:
                    sessions[target.key] = await stack.enter_async_context(connect(target.server.url, target.mode))
                for round_ in range(opts.repeat):
                    print(f"[bench] round {round_ + 1}/{opts.repeat}: one client", file=sys.stderr)
                    for workload in WORKLOADS:
                        floors.setdefault(workload.key, []).extend(
                            await floor_batch(api, workload, fx, opts.seq_calls, 3 if round_ == 0 else 1, opts.gap)
                        )
                        for target in targets:
                            n = opts.seq_calls_slow if slow(target) else opts.seq_calls
                            session = sessions[target.key]
                            warm = 3 if round_ == 0 else 1
                            paced = await sequential(session, target, workload, fx, n, warm, opts.gap)
                            if paced is None:
                                continue
                            seq.setdefault((target.key, workload.key), Batch()).add(paced)
                            burst = await sequential(session, target, workload, fx, n, 0)
                            assert burst is not None
                            rates.setdefault((target.key, workload.key), []).append(burst.calls / burst.wall)
                            if burst.errors:
                                seq[(target.key, workload.key)].errors += burst.errors
                                seq[(target.key, workload.key)].first_error = (
                                    seq[(target.key, workload.key)].first_error or burst.first_error
                                )
                for round_ in range(opts.conc_repeat):
                    print(f"[bench] round {round_ + 1}/{opts.conc_repeat}: {opts.clients} clients", file=sys.stderr)
                    for workload in WORKLOADS:
                        for target in targets:
                            m = opts.conc_calls_slow if slow(target) else opts.conc_calls
                            batch = await concurrent(target, workload, fx, opts.clients, m)
                            if batch is None:
                                continue
                            conc.setdefault((target.key, workload.key), Batch()).add(batch)
                            conc_rates.setdefault((target.key, workload.key), []).append(batch.calls / batch.wall)
                            peak = results.servers[target.server.spec.key].get("rss_load_mb", 0.0)
                            results.servers[target.server.spec.key]["rss_load_mb"] = max(peak, batch.rss_peak)
        finally:
            await api.close()
        for workload in WORKLOADS:
            results.floor[workload.key] = {
                "p50_ms": percentile(floors[workload.key], 50) * 1000,
                "p99_ms": percentile(floors[workload.key], 99) * 1000,
            }
        for target in targets:
            row: dict[str, dict[str, Any]] = {}
            for workload in WORKLOADS:
                row[workload.key] = asdict(
                    summarize(
                        target,
                        workload,
                        seq.get((target.key, workload.key)),
                        conc.get((target.key, workload.key)),
                        rates.get((target.key, workload.key), []),
                        conc_rates.get((target.key, workload.key), []),
                    )
                )
            results.cells[target.key] = row
    finally:
        for run in running.values():
            run.stop()


def summarize(
    target: Target,
    workload: Workload,
    seq: Batch | None,
    conc: Batch | None,
    rates: list[float],
    conc_rates: list[float],
) -> Cell:
    if seq is None:
        mine = target.server.spec.key.startswith("k8s-mcp")
        return Cell(status="missing" if mine else "n/a")
    cell = Cell(
        p50_ms=percentile(seq.latencies, 50) * 1000,
        p99_ms=percentile(seq.latencies, 99) * 1000,
        seq_rate=statistics.median(rates),
        chars=int(statistics.median(seq.chars)) if seq.chars else None,
        structured_chars=int(statistics.median(seq.structured_chars)) if seq.structured_chars else None,
        items=int(statistics.median(seq.items)) if seq.items else None,
        errors=seq.errors,
        first_error=seq.first_error,
        calls=seq.calls,
    )
    if conc is not None and conc.calls:
        cell.conc_rate = statistics.median(conc_rates)
        cell.conc_p50_ms = percentile(conc.latencies, 50) * 1000
        cell.conc_p99_ms = percentile(conc.latencies, 99) * 1000
        cell.cpu_ms_per_call = conc.server_cpu / conc.calls * 1000
        cell.rss_peak_mb = conc.rss_peak
        cell.errors += conc.errors
        cell.first_error = cell.first_error or conc.first_error
        cell.calls += conc.calls
    if cell.errors:
        cell.status = "errors"
    return cell


# ---------------------------------------------------------------- scale: 5,000 pods


async def run_scale(opts: Options, kubectl: Kubectl, fx: Fixture, results: Results, log_dir: Path) -> None:
    """A cluster-wide pods_list with ``opts.scale_pods`` more pods: first-page latency and memory, ours vs Go."""
    from app.config import Settings

    baseline = results.cells.get("k8s-mcp", {}).get("pods_list_all", {}).get("rss_peak_mb")
    scale: dict[str, Any] = {
        "pods": opts.scale_pods,
        "servers": {},
        "output_cap": Settings.model_fields["output_max_chars"].default,
        "baseline_rss_peak_mb": baseline,
    }
    results.scale = scale
    namespace = create_namespace(kubectl, "bench-scale")
    scale["namespace"] = namespace
    try:
        started = time.monotonic()
        create_pods(kubectl, namespace, opts.scale_pods, chunk=500, prefix="scale-pod-")
        scale["create_s"] = time.monotonic() - started
        wait_until(
            f"{opts.scale_pods} pods in {namespace}",
            lambda: kubectl.count("pods", "-n", namespace) >= opts.scale_pods,
            600,
            3,
        )
        scale["cluster_pods"] = kubectl.count("pods", "-A")
        print(f"[bench] scale: {scale['cluster_pods']} pods in the cluster", file=sys.stderr)
        workload = next(w for w in WORKLOADS if w.key == "pods_list_all")
        api = DirectApi(opts.kubeconfig)
        try:
            floor = await floor_batch(api, workload, fx, 10, 1)
        finally:
            await api.close()
        scale["floor_p50_ms"] = percentile(floor, 50) * 1000
        for spec in specs_for([s for s in opts.servers if s in ("k8s-mcp", "go")]):
            try:
                scale["servers"][spec.key] = await scale_one(spec, opts, fx, workload, log_dir)
            except Exception as e:  # noqa: BLE001 - one server failing must not lose the others' numbers
                scale["servers"][spec.key] = {"label": spec.label, "failure": f"{type(e).__name__}: {e}"[:300]}
            print(f"[bench] scale {spec.label}: {scale['servers'][spec.key]}", file=sys.stderr)
    finally:
        started = time.monotonic()
        delete_namespace(kubectl, namespace, wait=600)
        scale["cleanup_s"] = time.monotonic() - started


async def scale_one(
    spec: peers.ServerSpec, opts: Options, fx: Fixture, workload: Workload, log_dir: Path
) -> dict[str, Any]:
    run, _ = await start_and_wait(spec, opts.kubeconfig, log_dir, probe_call(spec, fx), timeout=120)
    try:
        target = Target(spec.key, spec.label, FAMILY[spec.key], run)
        await list_tools(target)
        idle = run.rss_mb()
        async with connect(run.url, "legacy") as client:
            first = Batch()
            tool, args = target.call_for(workload, fx, 0, 0) or ("", {})
            with RssSampler(run.pid) as seq_sampler:
                await timed_call(client, tool, args, first, workload.items)  # the very first call, cold
                seq = await sequential(client, target, workload, fx, 10, 0)
        conc = await concurrent(target, workload, fx, opts.clients, 3)
        assert seq is not None and conc is not None
        return {
            "label": spec.label,
            "first_call_ms": first.latencies[0] * 1000,
            "p50_ms": percentile(seq.latencies, 50) * 1000,
            "max_ms": max(seq.latencies) * 1000,
            "chars": int(statistics.median(seq.chars)) if seq.chars else None,
            "rss_idle_mb": idle,
            "rss_peak_one_client_mb": seq_sampler.peak,
            "rss_peak_20_clients_mb": conc.rss_peak,
            "conc_p50_ms": percentile(conc.latencies, 50) * 1000,
            "errors": seq.errors + conc.errors + first.errors,
            "first_error": seq.first_error or conc.first_error or first.first_error,
        }
    finally:
        run.stop()


# ---------------------------------------------------------------- main


def parse(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kubeconfig", type=Path, default=default_kubeconfig())
    p.add_argument("--repeat", type=int, default=3, help="one-client rounds (default 3)")
    p.add_argument("--conc-repeat", type=int, default=2, help="concurrent rounds (default 2)")
    p.add_argument("--gap", type=float, default=0.25, help="idle seconds after each timed one-client call (0.25)")
    p.add_argument("--seq-calls", type=int, default=20, help="calls per round and mode, one client (default 20)")
    p.add_argument("--seq-calls-slow", type=int, default=8, help="the same for kubectl-based servers (default 8)")
    p.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    p.add_argument("--conc-calls", type=int, default=5, help="calls per client per round (default 5)")
    p.add_argument("--conc-calls-slow", type=int, default=2, help="the same for kubectl-based servers (default 2)")
    p.add_argument("--starts", type=int, default=3, help="cold starts per server for start-up time (default 3)")
    p.add_argument(
        "--servers",
        default="k8s-mcp,k8s-mcp-json,go,flux,kubectl-mcp",
        help="comma list of k8s-mcp, k8s-mcp-json (ours with --json-response), go, flux, kubectl-mcp (default all)",
    )
    p.add_argument("--pods", type=int, default=200)
    p.add_argument("--scale", action="store_true", help="also list pods cluster-wide with 5,000 more pods")
    p.add_argument("--scale-pods", type=int, default=5000)
    p.add_argument(
        "--scale-only",
        action="store_true",
        help="run only the scale part; the other numbers are kept from bench/results/perf.json",
    )
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "perf.md")
    p.add_argument("--png", type=Path, default=ROOT / "docs" / "perf.png")
    a = p.parse_args(argv)
    return Options(
        kubeconfig=a.kubeconfig,
        repeat=a.repeat,
        conc_repeat=a.conc_repeat,
        gap=a.gap,
        seq_calls=a.seq_calls,
        seq_calls_slow=a.seq_calls_slow,
        clients=a.clients,
        conc_calls=a.conc_calls,
        conc_calls_slow=a.conc_calls_slow,
        starts=a.starts,
        servers=[s.strip() for s in a.servers.split(",") if s.strip()],
        scale=a.scale or a.scale_only,
        scale_pods=a.scale_pods,
        scale_only=a.scale_only,
        pods=a.pods,
        out=a.out,
        png=a.png,
    )


async def amain(opts: Options, argv: list[str]) -> Results:
    if not opts.kubeconfig.exists():
        raise SystemExit(
            f"no kubeconfig at {opts.kubeconfig}: start the test control plane or set K8S_MCP_BENCH_KUBECONFIG"
        )
    kubectl = Kubectl(opts.kubeconfig)
    results = Results(
        started=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        options={"argv": argv, **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()}},
        environment=environment(kubectl),
    )
    log_dir = ROOT / "bench" / "results" / "logs"
    print(f"[bench] creating {opts.pods} pods", file=sys.stderr)
    fx = create_fixture(kubectl, opts.pods)
    results.fixture = {**asdict(fx), "cluster_pods": kubectl.count("pods", "-A")}
    print(f"[bench] fixture ready: {results.fixture}", file=sys.stderr)
    try:
        if opts.scale_only:
            previous = json.loads((ROOT / "bench" / "results" / "perf.json").read_text())
            for name in ("started", "options", "environment", "fixture", "targets", "servers", "cells", "floor"):
                setattr(results, name, previous[name])
            results.notes.append(f"Scale part rerun alone on {time.strftime('%Y-%m-%d %H:%M %Z')} (--scale-only).")
        else:
            await run_benchmark(opts, fx, results, log_dir)
            save(results)
        if opts.scale:
            try:
                await run_scale(opts, kubectl, fx, results, log_dir)
            except Exception as e:  # noqa: BLE001 - keep the main results; say what failed
                results.notes.append(f"The scale run failed: {type(e).__name__}: {e}"[:400])
    finally:
        delete_namespace(kubectl, fx.namespace, wait=120)
    results.environment["loadavg_end"] = os.getloadavg()
    return results


def save(results: Results) -> Path:
    raw = ROOT / "bench" / "results" / "perf.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(asdict(results), indent=2, default=str))
    return raw


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    opts = parse(argv)
    results = anyio.run(amain, opts, argv)
    raw = save(results)
    perf_report.write(asdict(results), opts.out, opts.png)
    print(f"[bench] wrote {opts.out}, {opts.png} and {raw}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
