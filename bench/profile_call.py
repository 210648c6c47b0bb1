"""Where the time of one pods_get and one resources_get call goes, server side, stage by stage.

    uv run python bench/profile_call.py                 # in process and over HTTP, against the test cluster
    uv run python bench/profile_call.py --write-doc     # and put the tables into docs/perf.md

In process, the real server's parts (``app.server.assemble`` with the bench's flags) against the real
control plane: every stage of a call timed on its own, ``--calls`` times, medians reported:
validation, the policy check, the API call (the whole ``Kube.request``, and the same request sent
synchronously without the hop to a worker thread), JSON decode, redaction, YAML rendering, the
structured content, the text scrub, the SDK's encoding of the result; then the handler and the
whole pipeline (``ToolRunner.run``: validation, handler, scrub, metrics, audit line).

Over HTTP, the same calls from the bench's client (``mcp`` Python SDK, one session, back to back)
to the server started as bench/perf.py starts it, in the default SSE mode and with
``--json-response``; and the same client calling a trivial tool on a bare SDK server
(bench/trivial_server.py: one tool answering "ok", the same uvicorn): the SDK's own per-request
cost, the floor under any tool. "Transport" is the HTTP p50 minus the in-process pipeline. Ready time
(start to the first successful tools/call) and idle RSS of both servers, for the same reason.

Environment: K8S_MCP_BENCH_KUBECONFIG (default: .cluster/kubeconfig of this checkout). The script
makes a namespace with one pod and one Deployment and removes it at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import peers
import startup_profile
from perf import connect, default_kubeconfig, start_and_wait, text_of
from perf_fixture import DirectApi, Fixture, Kubectl, create_fixture, delete_namespace

ROOT = peers.ROOT
BENCH_FLAGS = ["--rate-limit", "", "--enable-destructive-operations", "--approval", "none"]


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def time_sync(fn: Callable[[], Any], calls: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


async def time_async(fn: Callable[[], Awaitable[Any]], calls: int) -> list[float]:
    await fn()
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - started)
    return out


# ---------------------------------------------------------------- in process


async def in_process(kubeconfig: Path, fx: Fixture, calls: int) -> dict[str, Any]:
    """Each stage of pods_get and resources_get timed on its own with the real parts and the real cluster."""
    from app import redaction
    from app.config import load_settings
    from app.observability import configure_logging
    from app.server import assemble

    settings = load_settings(["--kubeconfig", str(kubeconfig), *BENCH_FLAGS])
    # The server's own log set-up, writing where the bench's servers write theirs (a file, not a terminal).
    log_file = open(os.devnull, "w")  # noqa: SIM115 - open for the whole run
    configure_logging(settings.log_level, stream=log_file, scrub=redaction.scrub_json)
    parts = assemble(settings)
    server: Any = parts.mcp
    results: dict[str, Any] = {}
    for tool, arguments in fx.small_gets().items():
        results[tool] = await profile_tool(server, tool, arguments, fx.namespace, calls)
    log_file.close()
    return results


async def profile_tool(server: Any, tool: str, arguments: dict[str, Any], namespace: str, calls: int) -> dict[str, Any]:
    """The stages of one tool's call, each timed ``calls`` times (medians, µs)."""
    from app import redaction
    from app.kube.client import _send
    from app.kube.gate import judge_request
    from app.output import cap_text, to_yaml
    from app.redaction import redact_object
    from app.shapes import ObjectOutput
    from app.transport.calls import validate_args

    runner = server._runner
    deps = runner.deps
    kube = deps.kube
    settings = deps.settings
    spec = server._specs[tool]
    stages: dict[str, list[float]] = {}
    args = validate_args(spec, arguments)
    stages["validation (arguments model)"] = time_sync(lambda: validate_args(spec, arguments), calls)
    if tool == "resources_get":
        resource = await deps.discovery.resolve("apps/v1", "Deployment")
        stages["kind resolution (discovery, cached)"] = await time_async(
            lambda: deps.discovery.resolve("apps/v1", "Deployment"), calls
        )
    else:
        from app.tools.pods.pods import PODS

        resource = PODS
    name = arguments["name"]
    path = resource.path(namespace, name)
    stages["policy (verb, namespace, kind; approval rules)"] = time_sync(
        lambda: (kube.policy.check_request("GET", path, None), judge_request("GET", path, None)), calls
    )
    stages["API call (Kube.request, worker thread)"] = await time_async(lambda: kube.request("GET", path), calls)
    ctx = kube.contexts.resolve(None)
    client = kube.contexts.client(ctx)
    stages["of which: the HTTPS request itself, no thread hop"] = time_sync(
        lambda: _send(client, "GET", path, [], {"Accept": "application/json"}, (), None, 10.0), calls
    )
    response = await kube.request("GET", path)
    stages["JSON decode"] = time_sync(response.json, calls)
    obj = response.json()
    stages["redaction (redact_object)"] = time_sync(lambda: redact_object(obj), calls)
    shown = redact_object(obj)
    stages["rendering (YAML, cap)"] = time_sync(
        lambda: cap_text(to_yaml(shown), settings.output_max_chars, hint="h"), calls
    )
    text = to_yaml(shown)

    def structured() -> Any:
        data = ObjectOutput(
            apiVersion=str(obj.get("apiVersion")), kind=resource.kind, name=name, namespace=namespace, object=shown
        )
        return redaction.scrub_json(data.model_dump(mode="json", by_alias=True))

    stages["structured content (model, dump, scrub)"] = time_sync(structured, calls)
    stages["text scrub (scrub_text)"] = time_sync(lambda: redaction.scrub_text(text), calls)
    stages["handler (all of the above but validation)"] = await time_async(lambda: spec.handler(args, deps), calls)
    stages["pipeline (ToolRunner.run: handler, scrub, metrics, audit)"] = await time_async(
        lambda: runner.run(spec, arguments), calls
    )
    result = await runner.run(spec, arguments)
    stages["result encoding (SDK: dump, check, JSON)"] = time_sync(lambda: sdk_encode(result), calls)
    wire = sdk_encode(result)
    check = client_check(spec)
    stages["client: parse the answer, check it against the output schema (SDK client)"] = time_sync(
        lambda: check(wire), calls
    )
    out: dict[str, Any] = {k: median_us(v) for k, v in stages.items()}
    out["_sizes"] = {
        "api_bytes": len(response.body),
        "text_chars": len(text_of(result)),
        "structured_chars": len(json.dumps(result.structured_content)),
    }
    return out


def sdk_encode(result: Any) -> str:
    """What the SDK does with a tools/call result before it is written: dump, check against the spec, encode."""
    from mcp.types import JSONRPCResponse
    from mcp_types import methods

    dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    dumped = methods.serialize_server_result("tools/call", "2025-11-25", dumped)
    return JSONRPCResponse(jsonrpc="2.0", id=1, result=dumped).model_dump_json(by_alias=True, exclude_unset=True)


def client_check(spec: Any) -> Callable[[str], Any]:
    """What the SDK client does with a tools/call answer: parse the JSON-RPC response and the result, then
    check the structured content against the tool's output schema (with a compiled validator, as it does)."""
    from jsonschema.validators import validator_for
    from mcp.types import CallToolResult, JSONRPCResponse

    from app.transport.schemas import tool_definition

    schema = tool_definition(spec, with_token=False).output_schema
    validator = validator_for(schema)(schema)

    def check(wire: str) -> Any:
        result = CallToolResult.model_validate(JSONRPCResponse.model_validate_json(wire).result)
        return list(validator.iter_errors(result.structured_content))

    return check


# ---------------------------------------------------------------- over HTTP


async def timed(call: Callable[[], Awaitable[Any]], calls: int, samples: list[float]) -> None:
    """``calls`` timed calls, appended to ``samples`` (seconds); a tool error stops the run."""
    for _ in range(calls):
        started = time.perf_counter()
        result = await call()
        samples.append(time.perf_counter() - started)
        if getattr(result, "is_error", False):
            raise RuntimeError(text_of(result)[:300])


def trivial_spec(extra: tuple[str, ...]) -> peers.ServerSpec:
    def argv(port: int, kubeconfig: Path) -> list[str]:
        return [sys.executable, str(ROOT / "bench" / "trivial_server.py"), str(port), *extra]

    return peers.ServerSpec("trivial", "bare SDK, one trivial tool", "", argv, cwd=ROOT)


def noop_spec(extra: tuple[str, ...]) -> peers.ServerSpec:
    """Ours, started as bench/perf.py starts it, with the bench-only ``bench_noop`` tool (bench/noop_server.py)."""
    ours = peers.ours(extra)

    def argv(port: int, kubeconfig: Path) -> list[str]:
        command = ours.argv(port, kubeconfig)
        at = command.index("-m")
        return [*command[:at], str(ROOT / "bench" / "noop_server.py"), *command[at + 2 :]]

    return peers.ServerSpec("noop", "k8s-mcp, a tool that does nothing", "", argv, ours.env, cwd=ROOT)


async def over_http(kubeconfig: Path, fx: Fixture, calls: int, log_dir: Path, pace: float) -> dict[str, Any]:
    """Client-side p50 of ours, of bench_noop, of the trivial tool (in both response modes), of the Go
    server and of the direct API call; ready time and idle RSS of our server and the trivial one.

    The servers of one mode run side by side, each with its client session open, and the calls are
    interleaved: ``calls`` rounds, each calling every case once, ``pace`` seconds of idle after every
    call (an agent's pace, as in bench/perf.py; it also keeps the Go server under its client-side rate
    limit), so a slow spell of the shared machine falls on every case alike.
    """
    cases = fx.small_gets()
    paths = {
        "pods_get": f"/api/v1/namespaces/{fx.namespace}/pods/{fx.pod}",
        "resources_get": f"/apis/apps/v1/namespaces/{fx.namespace}/deployments/{fx.deployment}",
    }
    if not peers.go_binary().exists():
        peers.install_npm_peers()
    out: dict[str, Any] = {}
    samples: dict[str, list[float]] = {}
    api = DirectApi(kubeconfig)
    go, _ = await start_and_wait(peers.go_server(), kubeconfig, log_dir, ("pods_get", cases["pods_get"]))
    try:
        for key, extra in (("sse", ()), ("json", ("--json-response",))):
            row: dict[str, Any] = {}
            servers = (
                ("ours", peers.ours(extra), ("pods_get", cases["pods_get"])),
                ("noop", noop_spec(extra), ("bench_noop", {})),
                ("trivial", trivial_spec(extra), ("ok", {})),
            )
            runs = []
            try:
                for who, spec, probe in servers:
                    run, ready = await start_and_wait(spec, kubeconfig, log_dir, probe)
                    runs.append(run)
                    row[f"{who}_ready_s"] = ready
                await anyio.sleep(2)
                for (who, _, _), run in zip(servers, runs, strict=True):
                    row[f"{who}_rss_mb"] = run.rss_mb()
                async with (
                    connect(runs[0].url, "legacy") as ours,
                    connect(runs[1].url, "legacy") as noop,
                    connect(runs[2].url, "legacy") as trivial,
                    connect(go.url, "legacy") as go_client,
                ):
                    plan: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
                        ("noop", lambda: noop.call_tool("bench_noop", {})),
                        ("trivial", lambda: trivial.call_tool("ok", {})),
                    ]
                    for tool, args in cases.items():
                        plan += [
                            (tool, lambda tool=tool, args=args: ours.call_tool(tool, args)),
                            (f"go:{tool}", lambda tool=tool, args=args: go_client.call_tool(tool, args)),
                            (f"floor:{tool}", lambda tool=tool: api.request("GET", paths[tool])),
                        ]
                    mode: dict[str, list[float]] = {name: [] for name, _ in plan}
                    for _, call in plan:  # warm-up
                        await timed(call, 3, [])
                        await anyio.sleep(pace)
                    for _ in range(calls):
                        for name, call in plan:
                            await timed(call, 1, mode[name])
                            await anyio.sleep(pace)
                for name, values in mode.items():
                    if ":" in name:  # the Go server and the direct call: the same in both modes
                        samples.setdefault(name, []).extend(values)
                    else:
                        row[name] = statistics.median(values) * 1000
            finally:
                for run in runs:
                    run.stop()
            out[key] = row
    finally:
        go.stop()
        await api.close()
    for who in ("floor", "go"):
        out[who] = {tool: statistics.median(samples[f"{who}:{tool}"]) * 1000 for tool in cases}
    return out


# ---------------------------------------------------------------- report

HANDLER = "handler (all of the above but validation)"
PROFILE_BEGIN = "<!-- profile:begin -->"
PROFILE_END = "<!-- profile:end -->"


def report(
    inproc: dict[str, Any],
    http: dict[str, Any] | None,
    ladder: list[tuple[str, float, float]] | None,
    calls: int,
    http_calls: int,
    load: tuple[float, float],
) -> str:
    tools = list(inproc)
    lines = [
        "### Where one small get spends its time (bench/profile_call.py)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')}, load average {load[0]:.1f} at the start and "
        f"{load[1]:.1f} at the end. Reproduce with `uv run python bench/profile_call.py --write-doc`.",
        "",
        f"In process, the real server's parts against the test control plane, each stage timed on its own, "
        f"median of {calls} calls (µs):",
        "",
        "| stage | " + " | ".join(tools) + " |",
        "|---|" + "---|" * len(tools),
    ]
    stages: list[str] = []
    for tool in tools:
        stages += [s for s in inproc[tool] if s not in stages and not s.startswith("_")]
    for stage in stages:
        cells = [f"{inproc[t][stage]:,.0f}" if stage in inproc[t] else "" for t in tools]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    sizes = [inproc[t]["_sizes"] for t in tools]
    lines.append(
        "| sizes: API body bytes / text chars / structured chars | "
        + " | ".join(f"{s['api_bytes']:,} / {s['text_chars']:,} / {s['structured_chars']:,}" for s in sizes)
        + " |"
    )
    if http:
        lines += [
            "",
            f"Over HTTP, client-side p50 (ms) of {http_calls} calls per case with the bench's client (`mcp` Python "
            "SDK, one session per server, 2025-11-25 protocol), all cases interleaved call by call with 50 ms of "
            "idle after each, so the shared machine's slow spells fall on all of them alike; the Go server and the "
            "direct API call ran in both passes and are pooled. The trivial tool is a bare SDK server "
            "(bench/trivial_server.py: one tool answering \"ok\", the same uvicorn): the SDK's and the client's "
            "own cost per call, the floor under any tool. `bench_noop` is our whole server with one bench-only "
            "tool whose handler does nothing (bench/noop_server.py): every layer a real call crosses with the bench's "
            "flags (middleware, request scope, validation, policy, metrics, audit line, scrub, structured content, "
            "encoding; no authentication and no rate limit, as in bench/perf.py) except the handler's own work.",
            "",
            "| | " + " | ".join(tools) + " |",
            "|---|" + "---|" * len(tools),
            "| direct API call (async httpx) | " + " | ".join(f"{http['floor'][t]:.2f}" for t in tools) + " |",
            "| Go server | " + " | ".join(f"{http['go'][t]:.2f}" for t in tools) + " |",
        ]
        for key, label in (("sse", "SSE (default)"), ("json", "--json-response")):
            row = http[key]
            parts = {
                f"**ours, {label}**": {t: row[t] for t in tools},
                "= trivial tool on a bare SDK server (SDK and client)": {t: row["trivial"] for t in tools},
                "+ our layers around any handler (bench_noop - trivial)": {
                    t: row["noop"] - row["trivial"] for t in tools
                },
                "+ the handler (ours - bench_noop)": {t: row[t] - row["noop"] for t in tools},
                "of which the API call (direct)": {t: http["floor"][t] for t in tools},
                "of which the rest (our stages, thread hop, larger result)": {
                    t: row[t] - row["noop"] - http["floor"][t] for t in tools
                },
                "bare SDK + direct API call (the floor under a get)": {
                    t: row["trivial"] + http["floor"][t] for t in tools
                },
            }
            for name, values in parts.items():
                lines.append(f"| {name} | " + " | ".join(f"{values[t]:.2f}" for t in tools) + " |")
        lines += [
            "",
            "Start-up and idle memory of one start each, the same way bench/perf.py measures them (ready: start to "
            "the first successful tools/call; RSS 2 s after it):",
            "",
            "| server | ready, SSE (s) | ready, JSON (s) | idle RSS (MB) |",
            "|---|---|---|---|",
        ]
        for who, label in (("ours", "k8s-mcp"), ("trivial", "bare SDK, one trivial tool")):
            lines.append(
                f"| {label} | {http['sse'][who + '_ready_s']:.2f} | {http['json'][who + '_ready_s']:.2f} | "
                f"{http['sse'][who + '_rss_mb']:.0f} |"
            )
        lines += reading(inproc, http)
    if ladder:
        lines += [
            "",
            "Start-up, layer by layer (bench/startup_profile.py: each layer imported in fresh interpreters on top "
            "of the ones above it, medians; a module two layers share is charged to the first). These are plain "
            "imports with the garbage collector on; the server pauses it for its start-up (app/__main__.py), "
            "so its own start is shorter than the total:",
            "",
            *startup_profile.table(ladder),
        ]
    return "\n".join(lines)


def reading(inproc: dict[str, Any], http: dict[str, Any]) -> list[str]:
    """What the tables say about each missed target, with the floor it hits."""
    p = inproc["pods_get"]
    own = sum(p[k] for k in OWN_STAGES) / 1000
    choke = (
        p["API call (Kube.request, worker thread)"] - p["of which: the HTTPS request itself, no thread hop"]
    ) / 1000
    lines = ["", "Reading it:", ""]
    for key, label in (("sse", "SSE"), ("json", "--json-response")):
        row = http[key]
        for tool in inproc:
            floor = row["trivial"] + http["floor"][tool]
            go = http["go"][tool]
            verdict = "above" if floor > go else "below"
            lines.append(
                f"- `{tool}`, {label}: the Go server {go:.2f} ms; the floor under any get on this SDK (a bare SDK "
                f"tool {row['trivial']:.2f} + the API call {http['floor'][tool]:.2f}) is {floor:.2f} ms, "
                f"{abs(floor - go):.2f} ms {verdict} the Go server's p50; ours {row[tool]:.2f} ms is "
                f"{row[tool] - floor:.2f} ms over that floor: {row['noop'] - row['trivial']:.2f} in our layers "
                f"around every handler and {row[tool] - row['noop'] - http['floor'][tool]:.2f} in the handler "
                "beyond the API call."
            )
    lines += [
        "",
        f"In process, our own stages of `pods_get` (validation, policy, decode, redaction, YAML, structured content, "
        f"scrub, encoding) take {own:.2f} ms, YAML rendering the largest at "
        f"{p['rendering (YAML, cap)'] / 1000:.2f} ms; the API call through our choke point "
        f"(policy, worker thread, metrics, log line) takes "
        f"{choke:.2f} ms more than the bare request. In SSE mode the SDK client closes each answer's stream "
        "as soon as the result arrives, before the end of the response, so its connection cannot be reused "
        "and every call opens a new TCP connection (one client port per call; two in all with "
        "--json-response): that is most of the difference between the two modes, and it is the same for the bare SDK.",
        "",
        f"Start-up: the bare SDK server alone needs {http['sse']['trivial_ready_s']:.2f} s (SSE) and "
        f"{http['json']['trivial_ready_s']:.2f} s (JSON) to its first answered call, and "
        f"{http['sse']['trivial_rss_mb']:.0f} MB idle; the layer table below charges the rest of ours to the "
        "Kubernetes client package and our own modules.",
    ]
    return lines


OWN_STAGES = (
    "validation (arguments model)",
    "policy (verb, namespace, kind; approval rules)",
    "JSON decode",
    "redaction (redact_object)",
    "rendering (YAML, cap)",
    "structured content (model, dump, scrub)",
    "text scrub (scrub_text)",
    "result encoding (SDK: dump, check, JSON)",
)


def write_doc(text: str, doc: Path) -> None:
    """Put the report between the profile markers of docs/perf.md (bench/perf_report.py keeps it there)."""
    block = f"{PROFILE_BEGIN}\n{text}\n{PROFILE_END}\n"
    current = doc.read_text(encoding="utf-8")
    if PROFILE_BEGIN in current:
        before, rest = current.split(PROFILE_BEGIN, 1)
        after = rest.split(PROFILE_END, 1)[1].lstrip("\n")
        doc.write_text(before + block + ("\n" + after if after else ""), encoding="utf-8")
    else:
        doc.write_text(current.rstrip("\n") + "\n\n" + block, encoding="utf-8")


async def amain(opts: argparse.Namespace) -> str:
    kubeconfig: Path = opts.kubeconfig
    kubectl = Kubectl(kubeconfig)
    load0 = os.getloadavg()[0]
    fx = create_fixture(kubectl, 2)
    try:
        inproc = await in_process(kubeconfig, fx, opts.calls)
        logging.getLogger().handlers[:] = []
        log_dir = ROOT / "bench" / "results" / "logs"
        http = None if opts.no_http else await over_http(kubeconfig, fx, opts.http_calls, log_dir, opts.pace)
    finally:
        delete_namespace(kubectl, fx.namespace)
    ladder = None if opts.no_http else startup_profile.layers(kubeconfig, runs=3)
    text = report(inproc, http, ladder, opts.calls, opts.http_calls, (load0, os.getloadavg()[0]))
    raw = ROOT / "bench" / "results" / "profile_call.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({"in_process": inproc, "http": http, "start_up": ladder}, indent=2))
    return text


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kubeconfig", type=Path, default=default_kubeconfig())
    p.add_argument("--calls", type=int, default=200, help="timed calls per in-process stage (default 200)")
    p.add_argument("--http-calls", type=int, default=100, help="timed calls per case over HTTP (default 100)")
    p.add_argument("--pace", type=float, default=0.05, help="idle seconds after each call over HTTP (default 0.05)")
    p.add_argument("--no-http", action="store_true", help="only the in-process stages")
    p.add_argument("--write-doc", action="store_true", help="also put the tables into docs/perf.md")
    opts = p.parse_args()
    peers.compile_bytecode(sys.executable, ROOT / "app", *peers.site_packages(Path(sys.prefix)))
    text = anyio.run(amain, opts)
    print(text)
    if opts.write_doc:
        write_doc(text, ROOT / "docs" / "perf.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
