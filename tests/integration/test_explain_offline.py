"""Documentation with and without a cluster: resources_explain and its search form, templates, /readyz.

Offline: a server whose kubeconfig points at a closed port on 127.0.0.1 (nothing listens there).
Online: the session's server against the real control plane, whose own OpenAPI stays the source,
CRDs included.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import anyio
import httpx2
import kubernetes
import pytest
import yaml

from tests.integration.conftest import Kubectl, ServerProcess, connect, free_port, start_server, text_of

pytestmark = pytest.mark.anyio
RELEASE = f"1.{kubernetes.__version__.split('.')[0]}"  # the client's major version follows the Kubernetes minor


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, int]]:
    tmp = tmp_path_factory.mktemp("offline")
    port = free_port()  # bound and released: nothing listens there
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "gone", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
        "users": [{"name": "someone", "user": {"token": "not-a-real-token-0123456789"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "someone"}}],
        "current-context": "gone",
    }
    path = tmp / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    proc = start_server(tmp, "--kubeconfig", str(path))
    yield proc, port
    proc.stop()


async def test_without_a_cluster_built_in_kinds_are_explained_from_the_clients_docs(
    offline: tuple[ServerProcess, int], era: str
) -> None:
    proc, port = offline
    async with connect(proc.url, era) as client:
        replicas = await client.call_tool(
            "resources_explain", {"apiVersion": "apps/v1", "kind": "deployments", "field": "spec.replicas"}
        )
        pod = await client.call_tool("resources_explain", {"apiVersion": "v1", "kind": "Pod", "field": "spec"})
    text = text_of(replicas)
    assert not replicas.is_error, text
    assert "KIND:       Deployment" in text and "FIELD: replicas <integer>" in text and "desired pods" in text
    source = (
        f"Kubernetes {RELEASE} field documentation from the kubernetes Python client {kubernetes.__version__}; "
        f"no cluster reachable (cannot reach the API server at https://127.0.0.1:{port}: connection refused)"
    )
    assert text.endswith(f"[source: {source}]")
    assert replicas.structured_content["source"] == source
    fields = {f["name"]: f for f in pod.structured_content["fields"]}
    assert fields["containers"]["type"] == "[]Container" and fields["containers"]["required"] is True


async def test_without_a_cluster_custom_and_unknown_kinds_get_one_line(offline: tuple[ServerProcess, int]) -> None:
    proc, _ = offline
    async with connect(proc.url, "auto") as client:
        crd = await client.call_tool("resources_explain", {"apiVersion": "example.com/v1", "kind": "Widget"})
        typo = await client.call_tool("resources_explain", {"apiVersion": "apps/v1", "kind": "Deploymint"})
        neither = await client.call_tool("resources_explain", {"kind": "Deployment"})
    for result, expected in (
        (crd, f"apiVersion 'example.com/v1' is not built into Kubernetes {RELEASE}"),
        (typo, "unknown kind 'Deploymint' in apiVersion apps/v1"),
        (neither, "give apiVersion and kind"),
    ):
        assert result.is_error and "\n" not in text_of(result) and expected in text_of(result), text_of(result)


async def test_the_search_form_works_without_a_cluster(offline: tuple[ServerProcess, int]) -> None:
    proc, _ = offline
    async with connect(proc.url, "auto") as client:
        found = await client.call_tool("resources_explain", {"search": "liveness probe"})
        narrowed = await client.call_tool("resources_explain", {"search": "replicas", "kind": "StatefulSet"})
        mixed = await client.call_tool("resources_explain", {"search": "probe", "field": "spec"})
    assert not found.is_error, text_of(found)
    first = found.structured_content["matches"][0]
    assert (first["kind"], first["field"], first["type"]) == ("Pod", "spec.containers.livenessProbe", "Probe")
    assert first["alsoIn"] >= 5
    assert text_of(found).splitlines()[0].split() == ["KIND", "APIVERSION", "FIELD", "TYPE", "DESCRIPTION"]
    assert "no cluster reachable" in found.structured_content["source"]
    assert {m["kind"] for m in narrowed.structured_content["matches"]} == {"StatefulSet"}
    assert "spec.replicas" in {m["field"] for m in narrowed.structured_content["matches"]}
    assert mixed.is_error and "field cannot be combined with search" in text_of(mixed)


async def test_templates_stay_available_and_readyz_says_why_the_cluster_is_unreachable(
    offline: tuple[ServerProcess, int],
) -> None:
    proc, port = offline
    async with connect(proc.url, "auto") as client:
        index = await client.read_resource("k8s-template://index")
        deployment = await client.read_resource("k8s-template://deployment")
        pods = await client.call_tool("pods_list", {})
    assert "k8s-template://deployment" in index.contents[0].text
    assert "kind: Deployment" in deployment.contents[0].text
    assert pods.is_error and f"127.0.0.1:{port}: connection refused" in text_of(pods)
    ready = httpx2.get(f"{proc.base}/readyz", timeout=30)
    assert ready.status_code == 503 and "connection refused" in ready.json()["reason"], ready.text


def crd(group: str, field: str) -> str:
    return json.dumps(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"gizmos.{group}"},
            "spec": {
                "group": group,
                "names": {"kind": "Gizmo", "plural": "gizmos", "singular": "gizmo", "listKind": "GizmoList"},
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "spec": {
                                        "type": "object",
                                        "properties": {
                                            field: {"type": "integer", "description": "How many sprockets turn."}
                                        },
                                    }
                                },
                            }
                        },
                    }
                ],
            },
        }
    )


async def test_with_a_cluster_its_openapi_is_the_source_of_explain_and_search(
    server: ServerProcess, kubectl: Kubectl
) -> None:
    suffix = uuid.uuid4().hex[:6]
    group, field = f"t{suffix}.example.com", f"sprocketCount{suffix}"
    kubectl.apply(crd(group, field))
    try:
        kubectl.wait_until(
            "CRD schema published", lambda: "KIND:" in kubectl("explain", f"gizmos.{group}", check=False)
        )
        async with connect(server.url, "auto") as client:
            explained = await client.call_tool("resources_explain", {"apiVersion": "apps/v1", "kind": "Deployment"})
            assert explained.structured_content["source"].startswith("the cluster's OpenAPI v3 (context ")
            found = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # the aggregated OpenAPI index may lag the CRD a little
                started = time.perf_counter()
                found = await client.call_tool("resources_explain", {"search": field.lower()})
                elapsed = time.perf_counter() - started
                if found.structured_content and found.structured_content["matches"]:
                    break
                await anyio.sleep(1)
            assert found is not None and not found.is_error, text_of(found)
            narrowed = await client.call_tool("resources_explain", {"search": field, "apiVersion": f"{group}/v1"})
    finally:
        kubectl("delete", "crd", f"gizmos.{group}", "--wait=false", check=False)
    match = found.structured_content["matches"][0]
    assert (match["kind"], match["apiVersion"], match["field"]) == ("Gizmo", f"{group}/v1", f"spec.{field}")
    assert match["description"] == "How many sprockets turn."
    assert found.structured_content["source"].startswith("the cluster's OpenAPI v3")
    assert [m["field"] for m in narrowed.structured_content["matches"]] == [f"spec.{field}"]
    print(f"search over every group/version of the cluster's OpenAPI: {elapsed:.2f}s")
