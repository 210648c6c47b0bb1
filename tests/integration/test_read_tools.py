"""The first read-only tools, driven over HTTP by the MCP SDK client in both protocol eras."""

from __future__ import annotations

import pytest
import yaml

from tests.integration.conftest import Kubectl, ServerProcess, connect, text_of
from tests.integration.test_rig import DEPLOYMENT, running_pods

pytestmark = pytest.mark.anyio

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
"""


async def test_pods_of_a_deployment_are_listed_running(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.wait_until("2 running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)
    async with connect(server.url, era) as client:
        result = await client.call_tool("pods_list_in_namespace", {"namespace": namespace, "labelSelector": "app=web"})
    assert not result.is_error, text_of(result)
    lines = text_of(result).splitlines()
    assert lines[0].split()[:3] == ["NAME", "READY", "STATUS"]
    assert len(lines) == 3 and all("Running" in line for line in lines[1:])
    data = result.structured_content
    assert data["count"] == 2 and data["namespace"] == namespace and data["columns"][0] == "NAME"


async def test_pods_list_spans_namespaces_with_a_namespace_column(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.wait_until("running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)
    async with connect(server.url, era) as client:
        result = await client.call_tool(
            "pods_list", {"labelSelector": "app=web", "fieldSelector": f"metadata.namespace={namespace}"}
        )
    assert not result.is_error, text_of(result)
    lines = text_of(result).splitlines()
    assert lines[0].split()[0] == "NAMESPACE"
    assert sum(line.startswith(namespace) for line in lines) == 2


async def test_pods_get_returns_yaml_without_managed_fields(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl("run", "solo", "--image", "busybox", "-n", namespace)
    async with connect(server.url, era) as client:
        result = await client.call_tool("pods_get", {"name": "solo", "namespace": namespace})
    assert not result.is_error, text_of(result)
    parsed = yaml.safe_load(text_of(result))
    assert parsed["metadata"]["name"] == "solo"
    assert "managedFields" not in parsed["metadata"]
    assert result.structured_content["kind"] == "Pod" and result.structured_content["object"]["spec"]


async def test_a_crd_and_its_objects_are_listed_and_fetched(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(CRD)
    kubectl.wait_until("CRD established", lambda: "widgets" in kubectl("api-resources", "--api-group=example.com"))
    kubectl.apply("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: gear}\nspec: {size: 7}\n", namespace)
    async with connect(server.url, era) as client:
        listed = await client.call_tool(
            "resources_list", {"apiVersion": "example.com/v1", "kind": "Widget", "namespace": namespace}
        )
        fetched = await client.call_tool(
            "resources_get", {"apiVersion": "example.com/v1", "kind": "wd", "name": "gear", "namespace": namespace}
        )
    assert not listed.is_error, text_of(listed)
    assert text_of(listed).splitlines()[0].split()[:2] == ["NAME", "SIZE"]
    assert "gear" in text_of(listed) and " 7" in text_of(listed)
    assert yaml.safe_load(text_of(fetched))["spec"] == {"size": 7}


async def test_namespaces_events_and_contexts(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl("run", "evented", "--image", "busybox", "-n", namespace)
    kubectl.wait_until("an event", lambda: "evented" in kubectl("get", "events", "-n", namespace))
    async with connect(server.url, era) as client:
        namespaces = await client.call_tool("namespaces_list", {})
        events = await client.call_tool("events_list", {"namespace": namespace})
        contexts = await client.call_tool("configuration_contexts_list", {})
    assert namespace in text_of(namespaces)
    assert "pod/evented" in text_of(events).lower() or "evented" in text_of(events)
    assert contexts.structured_content["current"] and contexts.structured_content["contexts"][0]["server"]
    assert "token" not in text_of(contexts).lower()


async def test_an_empty_namespace_is_said_in_words(server: ServerProcess, namespace: str, era: str) -> None:
    async with connect(server.url, era) as client:
        result = await client.call_tool("pods_list_in_namespace", {"namespace": namespace})
    assert not result.is_error
    assert text_of(result) == f"No pods found in namespace {namespace}."


async def test_a_list_beyond_the_page_size_offers_a_continue_token(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    for i in range(3):
        kubectl("create", "configmap", f"cm-{i}", "-n", namespace)
    async with connect(server.url, era) as client:
        first = await client.call_tool(
            "resources_list", {"apiVersion": "v1", "kind": "ConfigMap", "namespace": namespace, "limit": 2}
        )
        token = first.structured_content["continue"]
        assert token and f'continue="{token}"' in text_of(first)
        second = await client.call_tool(
            "resources_list",
            {"apiVersion": "v1", "kind": "ConfigMap", "namespace": namespace, "limit": 2, "continue": token},
        )
    names = [row[0] for row in first.structured_content["rows"] + second.structured_content["rows"]]
    assert {"cm-0", "cm-1", "cm-2"} <= set(names)


async def test_a_capped_list_fits_its_cap_with_the_notes_that_say_what_was_left_out(
    kubeconfig, tmp_path, kubectl: Kubectl, namespace: str
) -> None:
    from tests.integration.conftest import start_server

    manifest = "\n---\n".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings-with-a-long-name-{i:03d}}}" for i in range(80)
    )
    kubectl.apply(manifest, namespace)
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--output-max-chars", "1000", "--rate-limit", "")
    try:
        async with connect(proc.url, "auto") as client:
            result = await client.call_tool(
                "resources_list", {"apiVersion": "v1", "kind": "ConfigMap", "namespace": namespace, "limit": 60}
            )
    finally:
        proc.stop()
    text = text_of(result)
    shown = len(result.structured_content["rows"])
    assert len(text) <= 1000, len(text)
    assert 0 < shown < 60
    assert f"[output capped: {60 - shown} more configmaps fetched but not shown" in text
    assert 'call again with continue="' in text
