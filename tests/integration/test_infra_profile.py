"""The user's infra.k8s catalog (--tool-profile infra) and the toolset / enabled / disabled selection."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import ROOT, Kubectl, ServerProcess, cluster_context, connect, start_server, text_of
from tests.integration.test_bad_input import assert_one_clean_line
from tests.integration.test_rig import DEPLOYMENT, running_pods

pytestmark = pytest.mark.anyio

INFRA_TOOLS = [
    "getContexts",
    "getCurrentContext",
    "switchContext",
    "listPods",
    "getPod",
    "getPodLogs",
    "deletePod",
    "listDeployments",
    "scaleDeployment",
    "applyManifest",
    "getMetrics",
    "listReleases",
    "installChart",
    "upgradeChart",
    "uninstallRelease",
]


@pytest.fixture(scope="module")
def two_contexts(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rig's kubeconfig plus a second context 'other' on the same cluster (namespace set per test)."""
    doc = yaml.safe_load(kubeconfig.read_text())
    other = json.loads(json.dumps(doc["contexts"][0]))
    other["name"] = "other"
    doc["contexts"].append(other)
    path = tmp_path_factory.mktemp("two") / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def infra_server(two_contexts: Path, namespace: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """An infra-profile server whose second context 'other' defaults to this test's namespace."""
    doc = yaml.safe_load(two_contexts.read_text())
    doc["contexts"][1]["context"]["namespace"] = namespace
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    proc = start_server(
        tmp_path,
        "--kubeconfig",
        str(path),
        "--tool-profile",
        "infra",
        "--enable-destructive-operations",
        "--approval",
        "none",
    )
    yield proc
    proc.stop()


async def test_the_infra_profile_exposes_exactly_the_users_catalog(infra_server: ServerProcess, era: str) -> None:
    async with connect(infra_server.url, era) as client:
        tools = (await client.list_tools()).tools
    assert [t.name for t in tools] == INFRA_TOOLS
    by_name = {t.name: t for t in tools}
    assert set(by_name["getPodLogs"].input_schema["properties"]) >= {"name", "namespace", "tail", "follow"}
    assert set(by_name["listPods"].input_schema["properties"]) >= {"namespace", "allNamespaces"}
    assert set(by_name["applyManifest"].input_schema["required"]) == {"yamlContent"}
    assert by_name["deletePod"].annotations.destructive_hint and by_name["getPod"].annotations.read_only_hint


async def test_switch_context_changes_only_the_calling_sessions_default(
    infra_server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    kubectl("run", "marker", "--image", "busybox", "-n", namespace)
    async with connect(infra_server.url, "legacy") as mine, connect(infra_server.url, "legacy") as theirs:
        before = await mine.call_tool("getCurrentContext", {})
        switched = await mine.call_tool("switchContext", {"contextName": "other"})
        after = await mine.call_tool("getCurrentContext", {})
        untouched = await theirs.call_tool("getCurrentContext", {})
        my_pods = await mine.call_tool("listPods", {})
        their_pods = await theirs.call_tool("listPods", {"namespace": namespace})
        listed = await mine.call_tool("getContexts", {})
    assert not switched.is_error, text_of(switched)
    assert before.structured_content["name"] == cluster_context() == untouched.structured_content["name"]
    assert after.structured_content == {**after.structured_content, "name": "other", "namespace": namespace}
    assert "marker" in text_of(my_pods) and "marker" in text_of(their_pods)
    assert listed.structured_content["current"] == "other"
    kubeconfig_file = Path(two_contexts_path(infra_server))
    assert yaml.safe_load(kubeconfig_file.read_text())["current-context"] == cluster_context()  # never rewritten


def two_contexts_path(server: ServerProcess) -> str:
    args = server.process.args
    assert isinstance(args, list)
    return str(args[args.index("--kubeconfig") + 1])


async def test_switch_context_without_a_session_is_refused_and_unknown_names_are_listed(
    infra_server: ServerProcess,
) -> None:
    async with connect(infra_server.url, "auto") as stateless, connect(infra_server.url, "legacy") as session:
        refused = await stateless.call_tool("switchContext", {"contextName": "other"})
        unknown = await session.call_tool("switchContext", {"contextName": "nowhere"})
    assert_one_clean_line(refused, "needs an MCP session", "pass 'context' on each call")
    assert_one_clean_line(unknown, "unknown context 'nowhere'", f"known contexts: {cluster_context()}, other")


async def test_pod_tools_of_the_infra_catalog_use_the_same_handlers(
    infra_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl("run", "solo", "--image", "busybox", "-n", namespace)
    kubectl.wait_until("solo Running", lambda: "Running" in kubectl("get", "pod", "solo", "-n", namespace))
    async with connect(infra_server.url, era) as client:
        listed = await client.call_tool("listPods", {"namespace": namespace})
        everywhere = await client.call_tool("listPods", {"allNamespaces": True})
        got = await client.call_tool("getPod", {"name": "solo", "namespace": namespace})
        logs = await client.call_tool("getPodLogs", {"name": "solo", "namespace": namespace, "tail": 2})
        followed = await client.call_tool("getPodLogs", {"name": "solo", "namespace": namespace, "follow": True})
        deleted = await client.call_tool("deletePod", {"name": "solo", "namespace": namespace})
        ghost = await client.call_tool("getPod", {"name": "ghost", "namespace": namespace})
    assert listed.structured_content["rows"][0][0] == "solo"
    assert everywhere.structured_content["columns"][0] == "NAMESPACE"
    assert got.structured_content["object"]["metadata"]["name"] == "solo"
    assert text_of(logs).splitlines() == ["k8s-mcp test log line 999", "k8s-mcp test log line 1000"]
    assert text_of(followed).splitlines()[-1].startswith("[follow is not streamed over MCP")
    assert "k8s-mcp test log line 1000" in text_of(followed)
    assert text_of(deleted) == f"Deleted pod {namespace}/solo"
    assert_one_clean_line(ghost, 'pods "ghost" not found')


async def test_scale_deployment_brings_new_pods_to_running(
    infra_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.wait_until("2 running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)
    async with connect(infra_server.url, era) as client:
        scaled = await client.call_tool("scaleDeployment", {"name": "web", "namespace": namespace, "replicas": 4})
        listed = await client.call_tool("listDeployments", {"namespace": namespace})
        missing = await client.call_tool("scaleDeployment", {"name": "ghost", "namespace": namespace, "replicas": 1})
    assert text_of(scaled).startswith(f"Deployment/web in namespace {namespace} scaled from 2 to 4 replicas")
    assert scaled.structured_content["previous"] == 2
    assert listed.structured_content["rows"][0][0] == "web"
    assert_one_clean_line(missing, 'deployments.apps "ghost" not found')
    kubectl.wait_until("4 running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 4)


async def test_apply_manifest_server_side_applies_every_document(
    infra_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    manifest = DEPLOYMENT + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n"
    async with connect(infra_server.url, era) as client:
        first = await client.call_tool("applyManifest", {"yamlContent": manifest, "namespace": namespace})
        again = await client.call_tool(
            "applyManifest", {"yamlContent": manifest.replace("fast", "slow"), "namespace": namespace}
        )
        broken = await client.call_tool("applyManifest", {"yamlContent": "kind: [unclosed", "namespace": namespace})
        nameless = await client.call_tool(
            "applyManifest", {"yamlContent": "apiVersion: v1\nkind: ConfigMap\n", "namespace": namespace}
        )
        invalid = await client.call_tool(
            "applyManifest",
            {"yamlContent": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n", "namespace": namespace},
        )
    assert not first.is_error, text_of(first)
    applied = [(o["kind"], o["namespace"], o["name"], o["result"]) for o in first.structured_content["objects"]]
    assert applied == [("Deployment", namespace, "web", "created"), ("ConfigMap", namespace, "settings", "created")]
    assert not again.is_error
    assert kubectl("get", "configmap", "settings", "-n", namespace, "-o", "jsonpath={.data.mode}") == "slow"
    managers = kubectl(
        "get", "configmap", "settings", "-n", namespace, "-o", "jsonpath={.metadata.managedFields[*].manager}"
    )
    assert managers == "k8s-mcp"
    assert_one_clean_line(broken, "not valid YAML")
    assert_one_clean_line(nameless, "document 1, line 1: ConfigMap has no metadata")
    assert_one_clean_line(invalid, "ConfigMap/Bad_Name (document 1, line 1)", "Invalid value")
    kubectl.wait_until("applied pods running", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)


async def test_get_metrics_counts_this_servers_tool_calls_by_outcome(infra_server: ServerProcess, era: str) -> None:
    async with connect(infra_server.url, era) as client:
        await client.call_tool("getContexts", {})
        await client.call_tool("getPod", {"name": "ghost"})
        await client.call_tool("getPod", {})
        result = await client.call_tool("getMetrics", {})
    counts = {
        (i["labels"]["tool"], i["labels"]["outcome"]): i["count"] for i in result.structured_content["tool_calls"]
    }
    assert counts[("getContexts", "ok")] >= 1 and counts[("getPod", "failed")] >= 1
    assert counts[("getPod", "invalid")] >= 1
    header = text_of(result).splitlines()[0].split()
    assert header[0] == "TOOL" and header[-1] == "TOTAL" and "OK" in header
    assert "Kubernetes API calls: GET 200" in text_of(result)


# -- toolsets and enabled / disabled tools ---------------------------------------------------------


async def test_toolsets_and_tool_lists_shape_the_catalog(kubeconfig: Path, tmp_path: Path) -> None:
    core = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--toolsets", "core")
    only = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), env={"K8S_MCP_ENABLED_TOOLS": "pods_list,pods_top,pods_exec"}
    )
    minus = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--disabled-tools", "configuration_view,pods_log")
    try:
        async with connect(core.url, "auto") as a, connect(only.url, "auto") as b, connect(minus.url, "auto") as c:
            core_names = {t.name for t in (await a.list_tools()).tools}
            only_names = [t.name for t in (await b.list_tools()).tools]
            minus_names = {t.name for t in (await c.list_tools()).tools}
    finally:
        for proc in (core, only, minus):
            proc.stop()
    assert "pods_list" in core_names and not {"configuration_view", "pods_top", "nodes_top"} & core_names
    assert only_names == ["pods_list", "pods_top"]  # pods_exec stays hidden: destructive operations are off
    assert "enabled tools hidden by read-only or destructive gating" in only.logs()
    assert "pods_list" in minus_names and not {"configuration_view", "pods_log"} & minus_names


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--toolsets", "core,kitchen"], "unknown toolset 'kitchen'"),
        (["--enabled-tools", "pods_list,pods_fly"], "unknown tool 'pods_fly'"),
        (["--tool-profile", "infra", "--disabled-tools", "pods_list"], "unknown tool 'pods_list' in the 'infra'"),
        (["--tool-profile", "fancy"], "invalid setting tool_profile (K8S_MCP_TOOL_PROFILE)"),
    ],
)
def test_an_unknown_toolset_or_tool_name_stops_the_start_naming_it(
    kubeconfig: Path, args: list[str], fragment: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "--kubeconfig", str(kubeconfig), "--port", "1", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert fragment in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
