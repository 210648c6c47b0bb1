"""Pod logs, exec, delete, run and top against the real control plane, in both protocol eras.

kwok pods really run: their logs are the rig's fixed lines "k8s-mcp test log line N" (1..1000) and
exec runs the command on the host, so exit codes and stderr are real.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Kubectl, ServerProcess, connect, start_server, text_of
from tests.integration.test_bad_input import assert_one_clean_line

pytestmark = pytest.mark.anyio

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec: {containers: [{name: main, image: busybox}]}\n"
DUO = """apiVersion: v1
kind: Pod
metadata: {name: duo}
spec:
  containers:
  - {name: app, image: busybox}
  - {name: sidecar, image: busybox}
"""


@pytest.fixture(scope="module")
def destructive_server(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(
        tmp_path_factory.mktemp("destructive"),
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--approval",
        "none",  # these tests are about the tools; approval is tested in test_approval.py
    )
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def solo_namespace(kubectl: Kubectl) -> Iterator[str]:
    """One namespace with a Running pod 'solo', shared by the bad-input cases (they change nothing)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    kubectl.wait_until("default service account", lambda: kubectl("get", "sa", "default", "-n", name, check=False))
    running(kubectl, name, POD, "solo")
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def phase(kubectl: Kubectl, namespace: str, name: str) -> str:
    return kubectl("get", "pod", name, "-n", namespace, "-o", "jsonpath={.status.phase}", check=False).strip()


def running(kubectl: Kubectl, namespace: str, manifest: str, name: str) -> None:
    kubectl.apply(manifest, namespace)
    kubectl.wait_until(f"pod {name} Running", lambda: phase(kubectl, namespace, name) == "Running")


async def test_pod_logs_are_the_newest_lines_of_a_kwok_pod(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    async with connect(server.url, era) as client:
        three = await client.call_tool("pods_log", {"name": "solo", "namespace": namespace, "tail": 3})
        default = await client.call_tool("pods_log", {"name": "solo", "namespace": namespace})
    assert not three.is_error, text_of(three)
    assert text_of(three).splitlines() == [f"k8s-mcp test log line {n}" for n in (998, 999, 1000)]
    assert three.structured_content["lines"] == 3 and three.structured_content["truncated"] is False
    lines = text_of(default).splitlines()
    assert len(lines) == 100 and lines[0] == "k8s-mcp test log line 901"


async def test_pod_logs_beyond_the_output_cap_keep_the_newest_lines_and_say_so(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    async with connect(server.url, era) as client:
        result = await client.call_tool("pods_log", {"name": "solo", "namespace": namespace, "tail": 0})
    text = text_of(result)
    assert len(text) <= 20_000 + 200
    lines = text.splitlines()
    assert lines[-2] == "k8s-mcp test log line 1000"
    assert lines[-1].startswith("[output capped:") and "earlier lines" in lines[-1] and "since" in lines[-1]
    assert result.structured_content["truncated"] is True


async def test_a_pod_with_two_containers_shows_its_default_container_and_says_which(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    running(kubectl, namespace, DUO, "duo")
    async with connect(server.url, era) as client:
        unnamed = await client.call_tool("pods_log", {"name": "duo", "namespace": namespace, "tail": 1})
        named = await client.call_tool(
            "pods_log", {"name": "duo", "namespace": namespace, "tail": 1, "container": "sidecar"}
        )
    first, *rest = text_of(unnamed).splitlines()
    assert "has containers app, sidecar" in first and "showing app" in first and "pass container" in first
    assert rest == ["k8s-mcp test log line 1000"]
    assert unnamed.structured_content["container"] == "app"
    assert text_of(named) == "k8s-mcp test log line 1000"


async def test_logs_since_a_recent_time_say_there_are_none_in_words(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    async with connect(server.url, era) as client:
        result = await client.call_tool("pods_log", {"name": "solo", "namespace": namespace, "since": "10m"})
    # the rig's log lines are stamped 2026-01-01, long before the last ten minutes
    assert not result.is_error
    assert text_of(result) == f"Pod {namespace}/solo has no log lines in the last 10m."


async def test_exec_reports_stdout_stderr_and_the_exit_code(
    destructive_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    command = ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"]
    async with connect(destructive_server.url, era) as client:
        failed = await client.call_tool("pods_exec", {"name": "solo", "namespace": namespace, "command": command})
        ok = await client.call_tool("pods_exec", {"name": "solo", "namespace": namespace, "command": ["echo", "hi"]})
    assert not failed.is_error, text_of(failed)
    assert text_of(failed).splitlines() == ["to-stdout", "[stderr]", "to-stderr", "[exit code 3]"]
    data = failed.structured_content
    assert (data["exit_code"], data["stdout"], data["stderr"]) == (3, "to-stdout\n", "to-stderr\n")
    assert text_of(ok) == "hi\n[exit code 0]" and ok.structured_content["exit_code"] == 0


async def test_exec_picks_the_default_container_or_the_named_one(
    destructive_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    running(kubectl, namespace, DUO, "duo")
    async with connect(destructive_server.url, era) as client:
        unnamed = await client.call_tool("pods_exec", {"name": "duo", "namespace": namespace, "command": ["true"]})
        named = await client.call_tool(
            "pods_exec", {"name": "duo", "namespace": namespace, "command": ["true"], "container": "sidecar"}
        )
    assert text_of(unnamed).splitlines()[0].startswith(f"[pod {namespace}/duo has containers app, sidecar")
    assert unnamed.structured_content["container"] == "app"
    assert named.structured_content["container"] == "sidecar" and named.structured_content["exit_code"] == 0


async def test_exec_that_outlives_its_timeout_is_abandoned_and_says_so(
    destructive_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    started = time.monotonic()
    async with connect(destructive_server.url, era) as client:
        result = await client.call_tool(
            "pods_exec", {"name": "solo", "namespace": namespace, "command": ["sleep", "20"], "timeout": 1}
        )
    assert time.monotonic() - started < 15
    assert not result.is_error
    assert "[timed out after 1s" in text_of(result) and result.structured_content["timed_out"] is True


async def test_destructive_pod_tools_are_hidden_by_default(server: ServerProcess) -> None:
    async with connect(server.url, "auto") as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert {"pods_log", "pods_top", "pods_run"} <= names
    assert not {"pods_exec", "pods_delete"} & names


async def test_pods_delete_removes_the_pod(
    destructive_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    async with connect(destructive_server.url, era) as client:
        result = await client.call_tool("pods_delete", {"name": "solo", "namespace": namespace})
    assert not result.is_error, text_of(result)
    assert text_of(result) == f"Deleted pod {namespace}/solo"
    assert result.structured_content["objects"] == [f"pod/{namespace}/solo"]
    kubectl.wait_until("pod gone", lambda: kubectl("get", "pods", "-n", namespace, "-o", "name").strip() == "")


async def test_pods_run_creates_a_pod_that_reaches_running_and_a_service_for_its_port(
    destructive_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    async with connect(destructive_server.url, era) as client:
        result = await client.call_tool("pods_run", {"image": "nginx:1.27", "namespace": namespace, "port": 8080})
        assert not result.is_error, text_of(result)
        pod_ref, service_ref = result.structured_content["objects"]
        name = pod_ref.rsplit("/", 1)[1]
        assert name.startswith("k8s-mcp-run-") and service_ref == f"service/{namespace}/{name}"
        kubectl.wait_until("the run pod Running", lambda: phase(kubectl, namespace, name) == "Running")
        service = json.loads(kubectl("get", "service", name, "-n", namespace, "-o", "json"))
        assert service["spec"]["ports"][0]["port"] == 8080
        assert service["spec"]["selector"]["app.kubernetes.io/name"] == name
        deleted = await client.call_tool("pods_delete", {"name": name, "namespace": namespace})
    assert deleted.structured_content["objects"] == [f"pod/{namespace}/{name}", f"service/{namespace}/{name}"]
    assert kubectl("get", "services", "-n", namespace, "-o", "name").strip() == ""


async def test_pods_top_shows_a_new_pod_once_metrics_server_has_scraped_it(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    running(kubectl, namespace, POD, "solo")
    async with connect(server.url, era) as client:
        deadline = time.monotonic() + 90
        while True:
            result = await client.call_tool("pods_top", {"namespace": namespace})
            assert not result.is_error, text_of(result)
            if result.structured_content["count"]:
                break
            assert "No pod metrics found" in text_of(result) and "within about a minute" in text_of(result)
            assert time.monotonic() < deadline, "no pod metrics within 90s"
            time.sleep(2)
        across = await client.call_tool("pods_top", {"label_selector": "never=matches"})
        one = await client.call_tool("pods_top", {"namespace": namespace, "name": "solo", "containers": True})
    lines = text_of(result).splitlines()
    assert lines[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    name, cpu, memory = lines[1].split()
    assert name == "solo" and cpu.endswith("m") and memory.endswith("Mi")
    assert text_of(across).startswith("No pod metrics found in any namespace matching never=matches")
    assert one.structured_content["columns"] == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert one.structured_content["rows"][0][:2] == ["solo", "main"]


async def test_nodes_top_lists_every_node_with_its_share_of_allocatable(
    server: ServerProcess, kubectl: Kubectl, era: str
) -> None:
    # metrics-server drops a kwok node's sample now and then, so the tool is checked against the cluster's
    # nodes (a non-empty subset, each line well formed) rather than against a snapshot that may move.
    nodes = {n.split("/", 1)[1] for n in kubectl("get", "nodes", "-o", "name").split()}
    kubectl.wait_until(
        "node metrics", lambda: "kwok-node" in kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes")
    )
    async with connect(server.url, era) as client:
        everything = await client.call_tool("nodes_top", {})
        assert not everything.is_error, text_of(everything)
        listed = [line.split()[0] for line in text_of(everything).splitlines()[1:]]
        labelled = await client.call_tool("nodes_top", {"label_selector": "type=kwok"})
        one = await client.call_tool("nodes_top", {"name": listed[0]})
    lines = text_of(everything).splitlines()
    assert lines[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert listed and set(listed) <= nodes
    assert all(line.split()[2].endswith("%") for line in lines[1:])
    assert 1 <= labelled.structured_content["count"] <= len(nodes)
    assert [row[0] for row in one.structured_content["rows"]] == [listed[0]]


@pytest.mark.parametrize(
    ("tool", "arguments", "fragments"),
    [
        ("pods_log", {"name": "ghost"}, ["failed to get logs of pod", 'pods "ghost" not found']),
        ("pods_log", {"name": "solo", "container": "nope"}, ["container nope is not valid for pod solo"]),
        ("pods_log", {"name": "solo", "since": "ten minutes"}, ["invalid argument 'since'", "10m"]),
        ("pods_log", {"name": "solo", "tail": -5}, ["invalid argument 'tail'"]),
        ("pods_exec", {"name": "solo", "command": []}, ["invalid argument 'command'", "at least 1 item"]),
        ("pods_exec", {"name": "solo", "command": [""]}, ["invalid argument 'command.0'"]),
        ("pods_exec", {"name": "solo", "command": ["true"], "container": "nope"}, ["container nope is not valid"]),
        ("pods_exec", {"name": "ghost", "command": ["true"]}, ['pods "ghost" not found']),
        ("pods_exec", {"name": "solo", "command": ["no-such-program-zz"]}, ["executable file not found"]),
        ("pods_delete", {"name": "ghost"}, ["failed to delete pod", 'pods "ghost" not found']),
        ("pods_run", {"image": "nginx", "port": 70000}, ["invalid argument 'port'"]),
        ("pods_run", {"image": "bad image"}, ["invalid argument 'image'"]),
        ("pods_top", {"name": "ghost"}, ['pods "ghost" not found']),
    ],
)
async def test_bad_pod_tool_input_is_one_clear_line(
    destructive_server: ServerProcess, solo_namespace: str, era: str, tool: str, arguments: dict, fragments: list[str]
) -> None:
    async with connect(destructive_server.url, era) as client:
        result = await client.call_tool(tool, {"namespace": solo_namespace, **arguments})
    assert_one_clean_line(result, *fragments)
