"""Helm tools on the real control plane: a release's whole life, bad input, credentials, a missing binary.

The chart is tests/charts/hello (a Deployment with replicas and image from values, a ConfigMap with a
message from values); its pods reach Running through kwok. The rig's kubectl checks every effect
independently of our server.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx2
import pytest
import yaml

from tests.integration.conftest import ROOT, Kubectl, ServerProcess, connect, rig_bin, start_server, text_of
from tests.integration.test_bad_input import assert_one_clean_line
from tests.integration.test_rig import running_pods

pytestmark = pytest.mark.anyio

CHART = str(ROOT / "tests" / "charts" / "hello")
HELM_TOOLS = {
    "helm_list",
    "helm_status",
    "helm_history",
    "helm_get_values",
    "helm_get_manifest",
    "helm_install",
    "helm_upgrade",
    "helm_rollback",
    "helm_uninstall",
}
CHANGES = {"helm_install", "helm_upgrade", "helm_rollback", "helm_uninstall"}


def helm_args() -> list[str]:
    """Destructive tools on and approval off: these tests are about what the tools do.
    Approval of destructive Helm calls is tested in test_approval.py."""
    return ["--enable-destructive-operations", "--approval", "none", "--helm-binary", str(rig_bin() / "helm")]


@pytest.fixture(scope="module")
def helm_server(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("helm"), "--kubeconfig", str(kubeconfig), *helm_args())
    yield proc
    proc.stop()


async def ok(client: Any, tool: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool}: {text_of(result)}"
    return result


def configmap_message(kubectl: Kubectl, namespace: str, name: str) -> str:
    return kubectl("get", "configmap", name, "-n", namespace, "-o", "jsonpath={.data.message}")


def deployment_replicas(kubectl: Kubectl, namespace: str, name: str) -> int:
    return int(kubectl("get", "deployment", name, "-n", namespace, "-o", "jsonpath={.spec.replicas}"))


async def test_a_release_is_installed_upgraded_rolled_back_and_uninstalled(
    helm_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    selector = "app.kubernetes.io/instance=web"
    release = {"name": "web", "namespace": namespace}
    async with connect(helm_server.url, era) as client:
        installed = await ok(
            client,
            "helm_install",
            {"chart": CHART, **release, "values": {"message": "first"}, "wait": True, "timeout": 120},
        )
        data = installed.structured_content
        assert (data["revision"], data["status"], data["chart"]) == (1, "deployed", "hello-0.1.0")
        assert set(data["resources"]) == {"Deployment/web", "ConfigMap/web-config"}
        assert "installed release" in text_of(installed) and "web runs 1 replica(s)" in text_of(installed)
        kubectl.wait_until("1 running pod", lambda: len(running_pods(kubectl, namespace, selector)) == 1)
        assert configmap_message(kubectl, namespace, "web-config") == "first"

        status = (await ok(client, "helm_status", release)).structured_content
        assert (status["revision"], status["status"], status["app_version"]) == (1, "deployed", "1.0")
        values = await ok(client, "helm_get_values", release)
        assert values.structured_content["values"] == {"message": "first"}
        assert yaml.safe_load(text_of(values)) == {"message": "first"}
        listed = await ok(client, "helm_list", {"namespace": namespace})
        assert [r["name"] for r in listed.structured_content["releases"]] == ["web"]
        assert text_of(listed).splitlines()[0].split()[:3] == ["NAME", "REVISION", "STATUS"]

        upgraded = await ok(
            client,
            "helm_upgrade",
            {**release, "chart": CHART, "values": {"replicas": 3, "message": "second"}, "wait": True, "timeout": 120},
        )
        assert (upgraded.structured_content["revision"], upgraded.structured_content["status"]) == (2, "deployed")
        kubectl.wait_until("3 running pods", lambda: len(running_pods(kubectl, namespace, selector)) == 3)
        assert configmap_message(kubectl, namespace, "web-config") == "second"
        now = (await ok(client, "helm_get_values", release)).structured_content["values"]
        assert now == {"replicas": 3, "message": "second"}
        before = await ok(client, "helm_get_values", {**release, "revision": 1})
        assert before.structured_content["values"] == {"message": "first"}
        computed = (await ok(client, "helm_get_values", {**release, "all": True})).structured_content["values"]
        assert computed == {"replicas": 3, "message": "second", "image": "nginx:1.27"}

        rolled = await ok(client, "helm_rollback", {**release, "revision": 1, "wait": True, "timeout": 120})
        assert rolled.structured_content["revision"] == 3
        assert "rolled back release" in text_of(rolled) and "to revision 1" in text_of(rolled)
        assert deployment_replicas(kubectl, namespace, "web") == 1
        assert configmap_message(kubectl, namespace, "web-config") == "first"
        kubectl.wait_until("back to 1 running pod", lambda: len(running_pods(kubectl, namespace, selector)) == 1)
        assert (await ok(client, "helm_get_values", release)).structured_content["values"] == {"message": "first"}

        history = await ok(client, "helm_history", release)
        revisions = history.structured_content["revisions"]
        assert [(r["revision"], r["status"]) for r in revisions] == [
            (1, "superseded"),
            (2, "superseded"),
            (3, "deployed"),
        ]
        assert revisions[2]["description"] == "Rollback to 1"
        assert len(text_of(history).splitlines()) == 4

        manifest = await ok(client, "helm_get_manifest", release)
        docs = [d for d in yaml.safe_load_all(text_of(manifest)) if d]
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        assert deployment["spec"]["replicas"] == 1
        assert manifest.structured_content["resources"] == ["ConfigMap/web-config", "Deployment/web"]

        removed = await ok(client, "helm_uninstall", release)
        assert set(removed.structured_content["resources"]) == {"Deployment/web", "ConfigMap/web-config"}
        assert "uninstalled release" in text_of(removed)
        kubectl.wait_until(
            "the deployment is gone",
            lambda: kubectl("get", "deployment", "web", "-n", namespace, "--ignore-not-found").strip() == "",
        )
        gone = await client.call_tool("helm_status", release)
        assert_one_clean_line(gone, f"release 'web' not found in namespace {namespace}")
        empty = await ok(client, "helm_list", {"namespace": namespace})
        assert text_of(empty) == f"No helm releases found in namespace {namespace}."


async def test_uninstall_with_keep_history_leaves_the_history_readable(
    helm_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    release = {"name": "kept", "namespace": namespace}
    async with connect(helm_server.url, era) as client:
        await ok(client, "helm_install", {"chart": CHART, **release})
        removed = await ok(client, "helm_uninstall", {**release, "keep_history": True})
        assert removed.structured_content["keep_history"] is True and "history kept" in text_of(removed)
        history = (await ok(client, "helm_history", release)).structured_content["revisions"]
        assert [(r["revision"], r["status"]) for r in history] == [(1, "uninstalled")]
        listed = await ok(client, "helm_list", {"namespace": namespace, "status": "uninstalled"})
        assert [r["name"] for r in listed.structured_content["releases"]] == ["kept"]
        assert (await ok(client, "helm_list", {"namespace": namespace})).structured_content["count"] == 0
    assert kubectl("get", "configmap", "kept-config", "-n", namespace, "--ignore-not-found").strip() == ""


async def test_install_of_an_existing_release_name_is_refused_even_as_a_dry_run(
    helm_server: ServerProcess, namespace: str, era: str
) -> None:
    async with connect(helm_server.url, era) as client:
        await ok(client, "helm_install", {"chart": CHART, "name": "twice", "namespace": namespace})
        for dry_run in (False, True):
            again = await client.call_tool(
                "helm_install", {"chart": CHART, "name": "twice", "namespace": namespace, "dry_run": dry_run}
            )
            assert_one_clean_line(again, f"release 'twice' already exists in namespace {namespace}", "helm_upgrade")
        history = (await ok(client, "helm_history", {"name": "twice", "namespace": namespace})).structured_content
        assert history["count"] == 1


async def test_a_dry_run_install_renders_the_manifest_and_changes_nothing(
    helm_server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    async with connect(helm_server.url, era) as client:
        preview = await ok(
            client,
            "helm_install",
            {"chart": CHART, "name": "maybe", "namespace": namespace, "values": {"replicas": 2}, "dry_run": True},
        )
        data = preview.structured_content
        assert data["dry_run"] is True and "would install" in data["message"]
        assert "replicas: 2" in data["manifest"] and "MANIFEST:" in text_of(preview)
        listed = await ok(client, "helm_list", {"namespace": namespace, "status": "all"})
        assert listed.structured_content["count"] == 0
    assert kubectl("get", "deployment", "-n", namespace, "-o", "name").strip() == ""


async def test_secret_like_values_are_redacted_and_the_release_can_be_found_by_filter(
    helm_server: ServerProcess, namespace: str, era: str
) -> None:
    async with connect(helm_server.url, era) as client:
        await ok(
            client,
            "helm_install",
            {"chart": CHART, "name": "db-main", "namespace": namespace, "values": {"auth": {"password": "hunter2"}}},
        )
        values = await ok(client, "helm_get_values", {"name": "db-main", "namespace": namespace})
        assert "hunter2" not in text_of(values) and "<redacted 7 chars>" in text_of(values)
        assert values.structured_content["values"]["auth"]["password"] == "<redacted 7 chars>"
        found = await ok(client, "helm_list", {"all_namespaces": True, "filter": "^db-m"})
        names = {(r["namespace"], r["name"]) for r in found.structured_content["releases"]}
        assert (namespace, "db-main") in names
        assert text_of(found).splitlines()[0].split()[0] == "NAMESPACE"
        none = await ok(client, "helm_list", {"namespace": namespace, "filter": "^nothing$"})
        assert text_of(none) == f"No helm releases found in namespace {namespace} matching '^nothing$'."


@pytest.mark.parametrize(
    ("tool", "arguments", "fragments"),
    [
        ("helm_install", {"chart": "/nonexistent/chart", "name": "x"}, ["chart path '/nonexistent/chart' not found"]),
        ("helm_install", {"chart": CHART, "name": "x", "version": "not a version!!"}, ["improper constraint"]),
        ("helm_install", {"chart": CHART, "name": "x", "version": "^2.0"}, ["is version 0.1.0", "does not satisfy"]),
        (
            "helm_install",
            {"chart": CHART, "name": "x", "values": {"replicas": "two"}},
            ["values don't meet the specifications", "/replicas"],
        ),
        (
            "helm_install",
            {"chart": "hello", "name": "x", "repo": "http://127.0.0.1:1/charts"},
            ["not a valid chart repository or cannot be reached", "connection refused"],
        ),
        ("helm_install", {"chart": "oci://127.0.0.1:1/charts/hello", "name": "x"}, ["connection refused"]),
        ("helm_install", {"chart": CHART, "name": "Bad_Name"}, ["invalid release name"]),
        ("helm_install", {"name": "x"}, ["missing required argument 'chart'"]),
        ("helm_status", {"name": "ghost"}, ["release 'ghost' not found in namespace default"]),
        ("helm_history", {"name": "ghost"}, ["release 'ghost' not found"]),
        ("helm_get_values", {"name": "ghost"}, ["release 'ghost' not found"]),
        ("helm_get_manifest", {"name": "ghost"}, ["release 'ghost' not found"]),
        ("helm_upgrade", {"name": "ghost", "chart": CHART}, ["has no deployed revision", "install=true"]),
        ("helm_rollback", {"name": "ghost", "revision": 1}, ["release 'ghost' not found"]),
        ("helm_uninstall", {"name": "ghost"}, ["failed to uninstall release", "release 'ghost' not found"]),
        ("helm_list", {"filter": "(unclosed"}, ["invalid regular expression"]),
        ("helm_list", {"context": "nowhere"}, ["unknown context 'nowhere'"]),
        ("helm_upgrade", {"name": "x", "chart": CHART, "reuse_values": True, "reset_values": True}, ["exclude"]),
    ],
)
async def test_bad_helm_input_is_one_clear_line(
    helm_server: ServerProcess, era: str, tool: str, arguments: dict[str, Any], fragments: list[str]
) -> None:
    async with connect(helm_server.url, era) as client:
        result = await client.call_tool(tool, {"namespace": "default", **arguments})
    assert_one_clean_line(result, *fragments)


async def test_rollback_to_a_revision_that_does_not_exist_names_the_known_ones(
    helm_server: ServerProcess, namespace: str, era: str
) -> None:
    async with connect(helm_server.url, era) as client:
        await ok(client, "helm_install", {"chart": CHART, "name": "once", "namespace": namespace})
        result = await client.call_tool("helm_rollback", {"name": "once", "namespace": namespace})
        assert_one_clean_line(result, "has no revision 0 (revisions: 1)")
        result = await client.call_tool("helm_rollback", {"name": "once", "namespace": namespace, "revision": 7})
        assert_one_clean_line(result, "has no revision 7 (revisions: 1)")


async def test_helm_calls_are_counted_and_logged_with_the_correlation_id(
    helm_server: ServerProcess, namespace: str, era: str
) -> None:
    cid = f"helm-{namespace}-{era}"
    async with connect(helm_server.url, era, headers={"x-correlation-id": cid}) as client:
        await ok(client, "helm_list", {"namespace": namespace})
    metrics = httpx2.get(f"{helm_server.base}/metrics").text
    assert 'k8s_mcp_helm_calls_total{command="list",outcome="ok"}' in metrics
    assert "k8s_mcp_helm_duration_seconds_bucket" in metrics
    lines = [json.loads(line) for line in helm_server.logs().splitlines() if line.startswith("{")]
    calls = [line for line in lines if line.get("message") == "helm call" and line.get("correlation_id") == cid]
    assert calls and calls[0]["command"] == "list" and calls[0]["namespace"] == namespace


async def test_the_catalog_has_every_helm_tool_with_the_go_servers_arguments(helm_server: ServerProcess) -> None:
    peers = json.loads(
        (Path(__file__).parent / "peers" / "kubernetes-mcp-server.all-toolsets.interface.json").read_text()
    )
    async with connect(helm_server.url, "auto") as client:
        ours = {t.name: t for t in (await client.list_tools()).tools}
    assert set(ours) >= HELM_TOOLS
    for peer in (p for p in peers if p["name"].startswith("helm_")):
        schema = ours[peer["name"]].input_schema
        assert set(peer["params"]) <= set(schema["properties"]), peer["name"]
        assert set(schema.get("required", [])) <= set(peer["required"]), peer["name"]
    for name in HELM_TOOLS:
        hints = ours[name].annotations
        assert hints.read_only_hint is (name not in CHANGES), name
        assert hints.destructive_hint is (name in {"helm_rollback", "helm_uninstall"}), name


async def test_a_read_only_server_offers_only_the_helm_reads(kubeconfig: Path, tmp_path: Path, era: str) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--read-only", *helm_args())
    try:
        async with connect(proc.url, era) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            listed = await client.call_tool("helm_list", {"all_namespaces": True})
        assert names & HELM_TOOLS == HELM_TOOLS - CHANGES
        assert not listed.is_error, text_of(listed)
    finally:
        proc.stop()


async def test_a_missing_helm_binary_is_reported_by_readiness_and_each_helm_tool(
    kubeconfig: Path, tmp_path: Path, era: str
) -> None:
    proc = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--helm-binary", "/no/helm"
    )
    try:
        ready = httpx2.get(f"{proc.base}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
        assert ready.json()["helm"] == {
            "ready": False,
            "detail": "the helm binary '/no/helm' does not exist or is not executable; install helm v3 or set "
            "K8S_MCP_HELM_BINARY",
        }
        async with connect(proc.url, era) as client:
            for tool, arguments in [
                ("helm_list", {}),
                ("helm_install", {"chart": CHART, "name": "x"}),
                ("helm_uninstall", {"name": "x"}),
            ]:
                result = await client.call_tool(tool, arguments)
                assert_one_clean_line(result, "the helm binary '/no/helm' does not exist")
            assert not (await client.call_tool("namespaces_list", {})).is_error
        assert "helm binary not found" in proc.logs()
    finally:
        proc.stop()


def _service_account_dir(kubectl: Kubectl, kubeconfig: Path, namespace: str, tmp_path: Path) -> Path:
    """What a pod in ``namespace`` would have mounted: a token of its default service account, the CA, the namespace."""
    config = yaml.safe_load(kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    sa_dir = tmp_path / "serviceaccount"
    sa_dir.mkdir()
    (sa_dir / "token").write_text(kubectl("create", "token", "default", "-n", namespace, "--duration", "1h").strip())
    shutil.copy(cluster["certificate-authority"], sa_dir / "ca.crt")
    (sa_dir / "namespace").write_text(namespace)
    return sa_dir


async def test_in_cluster_helm_uses_the_service_account_of_the_pod(
    kubectl: Kubectl, kubeconfig: Path, namespace: str, tmp_path: Path, era: str
) -> None:
    kubectl(
        "create", "rolebinding", "sa-admin", "--clusterrole=admin", f"--serviceaccount={namespace}:default",
        "-n", namespace,
    )  # fmt: skip
    sa_dir = _service_account_dir(kubectl, kubeconfig, namespace, tmp_path)
    server = urlparse(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])
    proc = start_server(
        tmp_path,
        "--in-cluster", "true", "--service-account-dir", str(sa_dir), *helm_args(),
        env={"KUBERNETES_SERVICE_HOST": str(server.hostname), "KUBERNETES_SERVICE_PORT": str(server.port)},
    )  # fmt: skip
    try:
        async with connect(proc.url, era) as client:
            installed = await ok(client, "helm_install", {"chart": CHART, "name": "from-pod"})
            assert installed.structured_content["namespace"] == namespace
            listed = await ok(client, "helm_list", {})
            assert [r["name"] for r in listed.structured_content["releases"]] == ["from-pod"]
            everywhere = await client.call_tool("helm_list", {"all_namespaces": True})
            assert_one_clean_line(everywhere, f"system:serviceaccount:{namespace}:default", "forbidden")
        assert configmap_message(kubectl, namespace, "from-pod-config") == "hello"
    finally:
        proc.stop()
