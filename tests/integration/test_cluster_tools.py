"""Nodes (logs, stats), the kubeconfig view, API resources, explain and version, on the real control plane."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import Kubectl, ServerProcess, connect, start_server, text_of
from tests.integration.test_bad_input import assert_one_clean_line
from tests.integration.test_read_tools import CRD

pytestmark = pytest.mark.anyio


async def test_node_logs_of_a_fake_kwok_node_fail_with_one_clear_line(server: ServerProcess, era: str) -> None:
    async with connect(server.url, era) as client:
        kubelet = await client.call_tool("nodes_log", {"name": "kwok-node-0", "query": "kubelet"})
        as_file = await client.call_tool("nodes_log", {"name": "kwok-node-0", "query": "/var/log/kubelet.log"})
        ghost = await client.call_tool("nodes_log", {"name": "ghost", "query": "kubelet"})
        escape = await client.call_tool("nodes_log", {"name": "kwok-node-0", "query": "/var/log/../../etc/passwd"})
    for result in (kubelet, as_file):
        assert_one_clean_line(result, "failed to get logs of node kwok-node-0", "cannot proxy to node kwok-node-0")
    assert_one_clean_line(ghost, 'nodes "ghost" not found')
    assert_one_clean_line(escape, "'..' is not allowed")


async def test_node_stats_summary_of_a_fake_kwok_node_fails_with_one_clear_line(
    server: ServerProcess, era: str
) -> None:
    async with connect(server.url, era) as client:
        result = await client.call_tool("nodes_stats_summary", {"name": "kwok-node-1"})
        ghost = await client.call_tool("nodes_stats_summary", {"name": "ghost"})
    assert_one_clean_line(result, "failed to get stats summary of node kwok-node-1", "no reachable kubelet address")
    assert_one_clean_line(ghost, 'nodes "ghost" not found')


async def test_cluster_version_names_the_version_endpoint_and_ready_nodes(
    server: ServerProcess, kubectl: Kubectl, era: str
) -> None:
    version = json.loads(kubectl("get", "--raw", "/version"))["gitVersion"]
    nodes = len(kubectl("get", "nodes", "-o", "name").split())
    async with connect(server.url, era) as client:
        result = await client.call_tool("cluster_version", {})
    first, second = text_of(result).splitlines()
    assert first.startswith(f"Kubernetes {version} (") and "https://127.0.0.1:" in first
    assert second == f"{nodes} nodes, {nodes} Ready"
    assert result.structured_content["version"] == version and result.structured_content["ready_nodes"] == nodes


async def test_api_resources_lists_built_in_kinds_and_crds_with_their_short_names(
    server: ServerProcess, kubectl: Kubectl, era: str
) -> None:
    kubectl.apply(CRD)
    kubectl.wait_until("CRD established", lambda: "widgets" in kubectl("api-resources", "--api-group=example.com"))
    async with connect(server.url, era) as client:
        everything = await client.call_tool("api_resources_list", {})
        apps = await client.call_tool("api_resources_list", {"apiGroup": "apps"})
        cluster_scoped_core = await client.call_tool("api_resources_list", {"apiGroup": "core", "namespaced": False})
        unknown = await client.call_tool("api_resources_list", {"apiGroup": "nope.example.com"})
    rows = {(row[0], row[2]): row for row in everything.structured_content["rows"]}
    assert everything.structured_content["columns"] == [
        "NAME",
        "SHORTNAMES",
        "APIVERSION",
        "NAMESPACED",
        "KIND",
        "VERBS",
    ]
    assert rows[("pods", "v1")][1:5] == ["po", "v1", True, "Pod"] and "list" in rows[("pods", "v1")][5]
    assert rows[("widgets", "example.com/v1")][1:5] == ["wd", "example.com/v1", True, "Widget"]
    assert ("pods", "metrics.k8s.io/v1beta1") in rows
    assert {row[2] for row in apps.structured_content["rows"]} == {"apps/v1"}
    assert "nodes" in {row[0] for row in cluster_scoped_core.structured_content["rows"]}
    assert not any(row[3] for row in cluster_scoped_core.structured_content["rows"])
    assert text_of(unknown).startswith("No API resources found in API group nope.example.com;")
    assert "apps" in text_of(unknown)


async def test_explain_documents_a_field_of_a_built_in_kind_and_of_a_crd(
    server: ServerProcess, kubectl: Kubectl, era: str
) -> None:
    kubectl.apply(CRD)
    kubectl.wait_until("CRD established", lambda: "widgets" in kubectl("api-resources", "--api-group=example.com"))
    # The API server publishes a new CRD's OpenAPI a moment after the CRD is established.
    kubectl.wait_until("CRD schema published", lambda: "KIND:" in kubectl("explain", "widgets", check=False))
    async with connect(server.url, era) as client:
        replicas = await client.call_tool(
            "resources_explain", {"apiVersion": "apps/v1", "kind": "Deployment", "field": "spec.replicas"}
        )
        containers = await client.call_tool(
            "resources_explain", {"apiVersion": "v1", "kind": "pods", "field": "spec.containers"}
        )
        widget = await client.call_tool("resources_explain", {"apiVersion": "example.com/v1", "kind": "Widget"})
        bogus = await client.call_tool(
            "resources_explain", {"apiVersion": "apps/v1", "kind": "Deployment", "field": "spec.replicaz"}
        )
    text = text_of(replicas)
    assert "KIND:       Deployment" in text and "FIELD: replicas <integer>" in text and "desired pods" in text
    assert containers.structured_content["type"] == "[]Container"
    names = {f["name"]: f for f in containers.structured_content["fields"]}
    assert names["name"]["required"] is True and names["image"]["type"] == "string"
    assert "  name\t<string> -required-" in text_of(containers)
    assert {f["name"] for f in widget.structured_content["fields"]} >= {"apiVersion", "kind", "metadata", "spec"}
    assert_one_clean_line(bogus, "field 'replicaz' does not exist in spec", "replicas")


# -- configuration_view never shows a credential (plant and assert) -----------------------------


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlLXBsYW50ZWQ"
PLANTED = [
    "planted-bearer-token-7f3a9c",
    "planted-password-42",
    "planted-refresh-token",
    "planted-client-secret",
    JWT,
    "planted-exec-arg-secret",
    "planted-exec-arg-2",
    "planted-exec-env-secret",
    "planted-proxy-pass",
]


@pytest.fixture(scope="module")
def planted_kubeconfig(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The rig's kubeconfig with its real client key and certificate inlined as *-data, plus users
    carrying every other kind of credential; returns the file and every secret string in it."""
    real = yaml.safe_load(kubeconfig.read_text())
    user = real["users"][0]["user"]
    cluster = real["clusters"][0]["cluster"]
    key, cert = Path(user["client-key"]).read_text(), Path(user["client-certificate"]).read_text()
    ca = Path(cluster["certificate-authority"]).read_text()
    server = cluster["server"]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "planted",
        "clusters": [
            {"name": "real", "cluster": {"server": server, "certificate-authority-data": _b64(ca)}},
            {
                "name": "proxied",
                "cluster": {"server": server, "proxy-url": "http://proxyuser:planted-proxy-pass@proxy.example:3128"},
            },
        ],
        "users": [
            {"name": "planted", "user": {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}},
            {"name": "bearer", "user": {"token": PLANTED[0]}},
            {"name": "basic", "user": {"username": "alice", "password": PLANTED[1]}},
            {
                "name": "oidc",
                "user": {
                    "auth-provider": {
                        "name": "oidc",
                        "config": {
                            "client-id": "kubectl",
                            "idp-issuer-url": "https://issuer.example",
                            "refresh-token": PLANTED[2],
                            "client-secret": PLANTED[3],
                            "id-token": JWT,
                        },
                    }
                },
            },
            {
                "name": "exec",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": "aws",
                        "args": ["eks", "get-token", f"--token={PLANTED[5]}", "--password", PLANTED[6]],
                        "env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": PLANTED[7]}],
                    }
                },
            },
        ],
        "contexts": [
            {"name": "planted", "context": {"cluster": "real", "user": "planted", "namespace": "default"}},
            *({"name": u, "context": {"cluster": "proxied", "user": u}} for u in ("bearer", "basic", "oidc", "exec")),
        ],
    }
    path = tmp_path_factory.mktemp("planted") / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    secrets = [*PLANTED, _b64(key), _b64(cert), *(line for line in key.splitlines() if len(line) > 20)]
    return path, secrets


@pytest.fixture(scope="module")
def planted_server(
    planted_kubeconfig: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("planted-server"), "--kubeconfig", str(planted_kubeconfig[0]))
    yield proc
    proc.stop()


async def test_configuration_view_never_contains_a_planted_credential(
    planted_server: ServerProcess, planted_kubeconfig: tuple[Path, list[str]], era: str
) -> None:
    _, secrets = planted_kubeconfig
    async with connect(planted_server.url, era) as client:
        works = await client.call_tool("namespaces_list", {})  # the inlined key and certificate are real
        full = await client.call_tool("configuration_view", {"minified": False})
        minified = await client.call_tool("configuration_view", {})
    assert not works.is_error, text_of(works)
    for result in (full, minified):
        assert not result.is_error, text_of(result)
        shown = text_of(result) + json.dumps(result.structured_content)
        leaked = [s for s in secrets if s in shown]
        assert not leaked, f"credentials leaked: {[s[:12] for s in leaked]}"
    view = yaml.safe_load(text_of(full))
    users = {u["name"]: u["user"] for u in view["users"]}
    assert users["planted"] == {"client-certificate-data": "DATA+OMITTED", "client-key-data": "REDACTED"}
    assert users["basic"] == {"username": "alice", "password": "REDACTED"}
    assert users["oidc"]["auth-provider"]["config"]["client-id"] == "kubectl"
    assert users["exec"]["exec"]["command"] == "aws" and users["exec"]["exec"]["args"][:2] == ["eks", "get-token"]
    assert users["exec"]["exec"]["env"] == [{"name": "AWS_SECRET_ACCESS_KEY", "value": "REDACTED"}]
    assert "proxy.example:3128" in text_of(full)
    small = yaml.safe_load(text_of(minified))
    assert [c["name"] for c in small["contexts"]] == ["planted"] and [u["name"] for u in small["users"]] == ["planted"]
    assert all(s not in planted_server.logs() for s in PLANTED)
