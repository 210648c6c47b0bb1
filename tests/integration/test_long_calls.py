"""Long calls on the real control plane: progress, log lines, log levels and cancellation, in both eras.

Work that takes a while on kwok: a command that sleeps in a pod (pods_exec), a Deployment whose pods
ask for a node that does not exist (its rollout never finishes), a chart whose Deployment never gets
ready (helm --wait), a drain that a PodDisruptionBudget blocks. The client is the real SDK client;
what the server did is read back from its /metrics, its audit lines and the rig's kubectl and helm.
No assertion is about timing: the heartbeat's "at least every few seconds" shows as a count of
notifications during a call that lasts several heartbeats.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import LoggingLevel

from tests.integration.conftest import (
    ACCEPT,
    INIT,
    ROOT,
    Kubectl,
    ServerProcess,
    jsonrpc_message,
    rig_bin,
    start_unguarded_server,
    text_of,
)
from tests.integration.test_interop_ts import INTEROP
from tests.integration.test_node_maintenance import deployment, node, placement  # noqa: F401 - node is a fixture
from tests.integration.test_rig import running_pods

pytestmark = pytest.mark.anyio

UNREADY_CHART = str(ROOT / "tests" / "charts" / "unready")
NOWHERE = {"k8s-mcp.test/no-such-node": "true"}


@pytest.fixture(scope="module")
def worker(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Destructive tools on and approval off: these tests are about long calls, not approval."""
    proc = start_unguarded_server(tmp_path_factory.mktemp("long"), kubeconfig)
    yield proc
    proc.stop()


@dataclass
class Heard:
    """What a client heard besides results: progress (value, total, message) and log lines (level, text)."""

    progress: list[tuple[float, float | None, str | None]] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.progress.append((progress, total, message))

    async def on_log(self, params: Any) -> None:
        self.logs.append((str(params.level), str(params.data)))

    def messages(self) -> list[str]:
        return [m for _, _, m in self.progress if m]


@contextlib.asynccontextmanager
async def listening(url: str, era: str, heard: Heard, level: LoggingLevel | None = "info") -> AsyncIterator[Client]:
    """A client that hears log lines at ``level`` and above: set per session (2025) or per request (2026)."""
    async with (
        httpx2.AsyncClient(timeout=60) as http,
        Client(
            streamable_http_client(url, http_client=http),
            mode=era,
            logging_callback=heard.on_log,
            log_level=level if era == "auto" else None,
        ) as client,
    ):
        if era == "legacy" and level is not None:
            await client.set_logging_level(level)
        yield client


def metric(server: ServerProcess, name: str, **labels: str) -> float:
    """One sample of the server's /metrics (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in httpx2.get(f"{server.base}/metrics", timeout=10).text.splitlines():
        if line.startswith(f"{name}{{") or line.startswith(f"{name} "):
            sample, _, value = line.rpartition(" ")
            got = ",".join(sorted(re.findall(r'(\w+="[^"]*")', sample)))
            if got == wanted:
                return float(value)
    return 0.0


def audit_lines(server: ServerProcess, tool: str, marker: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in server.logs().splitlines() if '"tool call"' in line]
    return [a for a in lines if a.get("tool") == tool and marker in json.dumps(a.get("arguments"))]


async def wait_for(what: str, predicate: Any, timeout: float = 60) -> None:
    with anyio.fail_after(timeout):
        while not await anyio.to_thread.run_sync(predicate):
            await anyio.sleep(0.2)


def stuck_deployment(kubectl: Kubectl, namespace: str, name: str, replicas: int = 2) -> None:
    """A Deployment whose pods are never scheduled: its rollout never finishes."""
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"nodeSelector": NOWHERE, "containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
        },
    }
    kubectl.apply(json.dumps(manifest), namespace)


def solo_pod(kubectl: Kubectl, namespace: str) -> None:
    kubectl("run", "solo", "--image=busybox", "-n", namespace)
    kubectl.wait_until("the pod runs", lambda: len(running_pods(kubectl, namespace, "run=solo")) == 1)


# --- progress ------------------------------------------------------------------------------------


async def test_a_long_exec_reports_progress_while_the_command_is_silent(
    worker: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    solo_pod(kubectl, namespace)
    heard = Heard()
    async with listening(worker.url, era, heard) as client:
        command = ["sh", "-c", "sleep 10; echo done"]
        result = await client.call_tool(
            "pods_exec",
            {"name": "solo", "namespace": namespace, "command": command, "timeout": 60},
            progress_callback=heard.on_progress,
        )
    assert not result.is_error and text_of(result).startswith("done"), text_of(result)
    messages = heard.messages()
    # The command says nothing for 10 s: the first message, then the heartbeat every few seconds.
    assert len(heard.progress) >= 3, heard.progress
    assert messages[0] == f"running `sh -c sleep 10; echo done` in pod {namespace}/solo"
    assert all(m.startswith(messages[0]) for m in messages) and "s elapsed)" in messages[-1]
    values = [p for p, _, _ in heard.progress]
    assert values == sorted(values) and len(set(values)) == len(values)  # strictly increasing
    assert {total for _, total, _ in heard.progress} == {60}


async def test_a_rollout_that_never_finishes_reports_counts_and_its_conditions(
    worker: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    stuck_deployment(kubectl, namespace, "stuck")
    heard = Heard()
    async with listening(worker.url, era, heard) as client:
        result = await client.call_tool(
            "resources_rollout_status",
            {"kind": "Deployment", "name": "stuck", "namespace": namespace, "timeoutSeconds": 8},
            progress_callback=heard.on_progress,
        )
    assert not result.is_error and "(still not done after 8s)" in text_of(result), text_of(result)
    assert result.structured_content["done"] is False
    counted = [(p, total, m) for p, total, m in heard.progress if m and "rolled out:" in m]
    assert counted and all(total == 2 for _, total, _ in counted), heard.progress
    assert counted[0][2].startswith("0/2 rolled out: Waiting for deployment")
    assert len(heard.progress) >= 2
    warnings = [text for level, text in heard.logs if level == "warning"]
    assert any(f"Deployment {namespace}/stuck: condition Available=False" in w for w in warnings), heard.logs
    assert any(w.startswith("Pod stuck-") and ": FailedScheduling: " in w for w in warnings), heard.logs  # why


async def test_helm_install_and_uninstall_with_wait_say_what_they_wait_for(
    worker: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    heard = Heard()
    async with listening(worker.url, era, heard, level="debug") as client:
        result = await client.call_tool(
            "helm_install",
            {"chart": UNREADY_CHART, "name": "slow", "namespace": namespace, "wait": True, "timeout": 8},
            progress_callback=heard.on_progress,
        )
        removed = Heard()
        uninstalled = await client.call_tool(
            "helm_uninstall",
            {"name": "slow", "namespace": namespace, "wait": True, "timeout": 60},
            progress_callback=removed.on_progress,
        )
    text = text_of(result)
    assert result.is_error and "\n" not in text and "[debug]" not in text, text
    messages = heard.messages()
    assert "helm: waiting for 2 resources to be ready" in messages, messages
    assert any(
        m.startswith(f"helm: waiting for 2 resources; Deployment {namespace}/slow is not ready yet") for m in messages
    ), messages
    assert any(level == "info" and text.startswith("helm install: ") for level, text in heard.logs), heard.logs
    assert any(level == "debug" for level, _ in heard.logs)  # every helm line, at the level asked for
    assert not uninstalled.is_error, text_of(uninstalled)
    gone = removed.messages()
    assert "helm uninstall: deleting Deployment slow" in gone and "helm: waiting for 2 resources to be deleted" in gone


async def test_a_drain_blocked_by_a_budget_reports_progress_and_warns(
    worker: ServerProcess,
    kubectl: Kubectl,
    namespace: str,
    node: str,  # noqa: F811 - the fixture
) -> None:
    objects = [
        deployment("web", node, 2),
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web-pdb"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
        },
    ]
    kubectl.apply("\n---\n".join(json.dumps(o) for o in objects), namespace)
    kubectl.wait_until(
        "the budget to count its healthy pods",
        lambda: kubectl("get", "pdb", "web-pdb", "-n", namespace, "-o", "jsonpath={.status.currentHealthy}") == "2",
    )
    assert placement(node)["nodeSelector"]  # the pods are on this test's own node
    heard = Heard()
    async with listening(worker.url, "legacy", heard) as client:
        result = await client.call_tool(
            "nodes_drain", {"name": node, "timeoutSeconds": 6}, progress_callback=heard.on_progress
        )
    assert result.is_error and "timed out after 6s" in text_of(result), text_of(result)
    messages = heard.messages()
    assert messages[0] == f"drain {node}: 0/2 pods done; node {node} cordoned; evicting 2 pods", messages
    assert any("blocked: PodDisruptionBudget" in m for m in messages)
    assert {total for _, total, _ in heard.progress} == {2}
    assert any(level == "warning" and "refused: PodDisruptionBudget" in text for level, text in heard.logs)


# --- log levels ----------------------------------------------------------------------------------


async def test_the_log_level_filters_what_the_client_receives(
    worker: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    stuck_deployment(kubectl, namespace, "quiet", replicas=1)
    arguments = {"kind": "Deployment", "name": "quiet", "namespace": namespace, "timeoutSeconds": 3}
    errors_only = Heard()
    async with listening(worker.url, era, errors_only, level="error") as client:
        await client.call_tool("resources_rollout_status", arguments)
    nothing_asked = Heard()
    async with listening(worker.url, era, nothing_asked, level=None) as client:
        await client.call_tool("resources_rollout_status", arguments)
    assert errors_only.logs == []  # the conditions are info and warning lines
    if era == "auto":
        assert nothing_asked.logs == []  # 2026-07-28: nothing unless the request asks
    else:
        assert any("condition Available=False" in text for _, text in nothing_asked.logs)  # the default: info


def sse_messages(body: str) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:") and line[5:].strip()]


async def test_without_a_token_nothing_but_the_result_is_sent(
    worker: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    solo_pod(kubectl, namespace)
    arguments = {"name": "solo", "namespace": namespace, "command": ["sleep", "7"]}
    with httpx2.Client(timeout=60) as http:
        init = http.post(worker.url, json=INIT, headers=ACCEPT)
        session = {**ACCEPT, "mcp-session-id": init.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        http.post(worker.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        silent = http.post(
            worker.url,
            json={
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "pods_exec", "arguments": arguments},
            },
            headers=session,
        )
        talking = http.post(
            worker.url,
            json={
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "pods_exec", "arguments": arguments, "_meta": {"progressToken": "t-3"}},
            },
            headers=session,
        )
    quiet = sse_messages(silent.text)
    assert [m.get("id") for m in quiet] == [2] and quiet[0]["result"]["isError"] is False, quiet
    heard = sse_messages(talking.text)
    progress = [m["params"] for m in heard if m.get("method") == "notifications/progress"]
    assert len(progress) >= 2 and all(p["progressToken"] == "t-3" for p in progress), heard
    assert heard[-1]["id"] == 3 and heard[-1]["result"]["isError"] is False


async def test_set_level_answers_an_empty_result_and_the_capability_is_declared(worker: ServerProcess) -> None:
    with httpx2.Client(timeout=30) as http:
        init = http.post(worker.url, json=INIT, headers=ACCEPT)
        assert "logging" in jsonrpc_message(init.text)["result"]["capabilities"]
        session = {**ACCEPT, "mcp-session-id": init.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        http.post(worker.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        answer = http.post(
            worker.url,
            json={"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "warning"}},
            headers=session,
        )
        assert jsonrpc_message(answer.text) == {"jsonrpc": "2.0", "id": 2, "result": {}}
        # A progress token nobody else knows, then a cancel for the finished call: both harmless.
        call = http.post(
            worker.url,
            json={
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "namespaces_list", "arguments": {}, "_meta": {"progressToken": "no-such-token"}},
            },
            headers=session,
        )
        assert jsonrpc_message(call.text)["result"]["isError"] is False
        late = http.post(
            worker.url,
            json={"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}},
            headers=session,
        )
        assert late.status_code == 202
        unknown = http.post(
            worker.url,
            json={"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 999}},
            headers=session,
        )
        assert unknown.status_code == 202
        after = http.post(
            worker.url,
            json={"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "namespaces_list"}},
            headers=session,
        )
        assert jsonrpc_message(after.text)["result"]["isError"] is False


# --- cancellation --------------------------------------------------------------------------------


async def cancel_on(client: Client, tool: str, arguments: dict[str, Any], cue: str) -> Heard:
    """Call ``tool`` and cancel it as soon as a progress message contains ``cue``; no result may come back."""
    heard = Heard()
    results: list[Any] = []
    with anyio.CancelScope() as scope:

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            await heard.on_progress(progress, total, message)
            if message and cue in message:
                scope.cancel()

        with anyio.fail_after(120):
            results.append(await client.call_tool(tool, arguments, progress_callback=on_progress))
    assert scope.cancelled_caught and not results, (results, heard.progress)
    return heard


async def test_a_cancelled_exec_ends_with_outcome_cancelled(
    worker: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    solo_pod(kubectl, namespace)
    before = metric(worker, "k8s_mcp_tool_calls_total", tool="pods_exec", outcome="cancelled")
    marker = f"sleep 3{uuid.uuid4().int % 1000:03d}"
    async with listening(worker.url, era, Heard()) as client:
        await cancel_on(
            client,
            "pods_exec",
            {"name": "solo", "namespace": namespace, "command": ["sh", "-c", marker], "timeout": 600},
            cue="running",
        )
        # The session goes on: the next call is answered.
        assert not (await client.call_tool("namespaces_list", {})).is_error
    await wait_for(
        "the cancelled outcome",
        lambda: metric(worker, "k8s_mcp_tool_calls_total", tool="pods_exec", outcome="cancelled") == before + 1,
    )
    audited = audit_lines(worker, "pods_exec", marker)
    assert [a["outcome"] for a in audited] == ["cancelled"], audited
    assert "result" not in audited[0] and "partly applied" in audited[0]["detail"]
    assert metric(worker, "k8s_mcp_inflight_tool_calls") == 0


def helm_processes(release: str, namespace: str) -> list[str]:
    """Command lines of running helm processes working on this release (from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if words and words[0].endswith("helm") and release in words and namespace in words:
            found.append(" ".join(words))
    return found


def release_status(kubectl: Kubectl, release: str, namespace: str) -> str:
    done = subprocess.run(
        [str(rig_bin() / "helm"), "status", release, "-n", namespace, "-o", "json"],
        capture_output=True,
        text=True,
        env={"KUBECONFIG": str(kubectl.kubeconfig), "HOME": str(Path.home()), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    return str(json.loads(done.stdout)["info"]["status"]) if done.returncode == 0 else done.stderr.strip()


async def test_a_cancelled_helm_install_stops_helm_and_is_never_reported_installed(
    worker: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    release = f"cut-{era}"
    arguments = {"chart": UNREADY_CHART, "name": release, "namespace": namespace, "wait": True, "timeout": 300}
    async with listening(worker.url, era, Heard()) as client:
        heard = await cancel_on(client, "helm_install", arguments, cue="is not ready yet")
    assert any("helm: waiting for 2 resources" in m for m in heard.messages())
    await wait_for("the audit line", lambda: audit_lines(worker, "helm_install", release) != [])
    audited = audit_lines(worker, "helm_install", release)
    assert [a["outcome"] for a in audited] == ["cancelled"] and "result" not in audited[0], audited
    # The call ended only once helm's process group was gone: no helm is left working on the release.
    assert helm_processes(release, namespace) == []
    assert release_status(kubectl, release, namespace) != "deployed"


# --- the TypeScript SDK client ---------------------------------------------------------------------


async def test_the_typescript_client_keeps_waiting_while_progress_comes(
    worker: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    node_binary = shutil.which("node")
    assert node_binary, "node is required for the interoperability test (the README lists it)"
    assert (INTEROP / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir(), "run: npm ci --prefix tests/interop"
    solo_pod(kubectl, namespace)
    before = metric(worker, "k8s_mcp_tool_calls_total", tool="pods_exec", outcome="cancelled")
    # The command sleeps 14 s; the client's request timeout is 7 s.
    completed = await anyio.run_process(
        [node_binary, str(INTEROP / "progress.mjs"), worker.url, namespace, "solo", "14", "7000"], check=False
    )
    assert completed.returncode == 0, completed.stderr.decode()
    report = json.loads(completed.stdout)
    reset, no_reset = report["reset"], report["noReset"]
    assert reset["outcome"] == "ok" and reset["text"].startswith("finished"), reset
    assert reset["seconds"] > 7 and len(reset["progress"]) >= 3, reset  # outlived its timeout thanks to progress
    assert reset["progress"][0]["message"].startswith("running `sh -c sleep 14; echo finished` in pod")
    assert no_reset["outcome"] == "threw" and no_reset["code"] == -32001, no_reset  # RequestTimeout
    # The client that gave up sent notifications/cancelled: the server stopped the call.
    await wait_for(
        "the cancelled outcome",
        lambda: metric(worker, "k8s_mcp_tool_calls_total", tool="pods_exec", outcome="cancelled") == before + 1,
    )
