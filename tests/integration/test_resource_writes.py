"""Writing through the resources tools: apply (with dry-run diffs), patch, delete, scale, describe and
rollouts, on the real control plane, in both protocol eras, with destructive tools enabled."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Kubectl, ServerProcess, connect, start_server, text_of
from tests.integration.test_rig import DEPLOYMENT, running_pods

pytestmark = pytest.mark.anyio

PEERS = Path(__file__).parent / "peers" / "kubernetes-mcp-server.all-toolsets.interface.json"


@pytest.fixture(scope="module")
def writer(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with destructive tools enabled (writes are hidden otherwise), approval off and Secrets allowed:
    these tests are about what the tools do; approval and the Secret deny rule are tested on their own."""
    proc = start_server(
        tmp_path_factory.mktemp("writer"),
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--approval",
        "none",
        "--denied-resources",
        "",
    )
    yield proc
    proc.stop()


def assert_one_line_error(result: Any, *fragments: str) -> None:
    text = text_of(result)
    assert result.is_error, text
    assert "\n" not in text and "Traceback" not in text, text
    for fragment in fragments:
        assert fragment in text, text


def ok(result: Any) -> str:
    assert not result.is_error, text_of(result)
    return text_of(result)


def deployment_json(kubectl: Kubectl, namespace: str, name: str = "web") -> dict[str, Any]:
    return json.loads(kubectl("get", "deployment", name, "-n", namespace, "-o", "json"))


async def test_a_deployment_scaled_up_gets_new_running_pods(
    writer: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    async with connect(writer.url, era) as client:
        ok(await client.call_tool("resources_create_or_update", {"resource": DEPLOYMENT, "namespace": namespace}))
        kubectl.wait_until("2 running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": namespace}
        read = await client.call_tool("resources_scale", target)
        scaled = await client.call_tool("resources_scale", {**target, "scale": 4})
    assert ok(read) == f"Deployment/web in namespace {namespace}: 2 desired replicas, 2 current (selector app=web)"
    assert read.structured_content["replicas"] == 2 and read.structured_content["previous"] is None
    assert ok(scaled) == f"Deployment/web in namespace {namespace} scaled from 2 to 4 replicas"
    assert scaled.structured_content["previous"] == 2 and scaled.structured_content["replicas"] == 4
    kubectl.wait_until("4 running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 4)


async def test_a_rollout_restart_then_undo_shows_in_the_history(
    writer: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    target = {"kind": "Deployment", "name": "web", "namespace": namespace}
    async with connect(writer.url, era) as client:
        first = await client.call_tool("resources_rollout_status", {**target, "timeoutSeconds": 60})
        assert first.structured_content["done"], text_of(first)
        assert ok(first) == 'deployment "web" successfully rolled out'

        ok(await client.call_tool("resources_rollout_restart", target))
        restarted = deployment_json(kubectl, namespace)["spec"]["template"]["metadata"]["annotations"]
        assert "kubectl.kubernetes.io/restartedAt" in restarted
        after = await client.call_tool("resources_rollout_status", {**target, "timeoutSeconds": 60})
        assert after.structured_content["done"], text_of(after)
        history = await client.call_tool("resources_rollout_history", target)
        assert [r["revision"] for r in history.structured_content["revisions"]] == [1, 2]
        assert ok(history).endswith("current revision: 2")

        undo = await client.call_tool("resources_rollout_undo", target)
        assert ok(undo) == f"Deployment/web in namespace {namespace} rolled back from revision 2 to revision 1"
        settled = await client.call_tool("resources_rollout_status", {**target, "timeoutSeconds": 60})
        assert settled.structured_content["done"], text_of(settled)
        again = await client.call_tool("resources_rollout_history", target)
        again_ours = await client.call_tool("resources_rollout_undo", {**target, "toRevision": 3})
        missing = await client.call_tool("resources_rollout_undo", {**target, "toRevision": 9})

    template = deployment_json(kubectl, namespace)["spec"]["template"]["metadata"]
    assert "kubectl.kubernetes.io/restartedAt" not in (template.get("annotations") or {})
    revisions = again.structured_content["revisions"]
    assert [(r["revision"], r["current"]) for r in revisions] == [(2, False), (3, True)]
    lines = ok(again).splitlines()
    assert lines[0].split() == ["REVISION", "IMAGES", "CHANGE-CAUSE"] and lines[2].split()[:2] == ["3", "nginx:1.27"]
    assert "skipped rollback" in ok(again_ours) and again_ours.structured_content["changed"] is False
    assert_one_line_error(missing, "revision 9 not found in the history (revisions: 2, 3)")


STATEFUL_AND_DAEMON = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:16}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: fluent-bit:3}]
"""


async def test_statefulsets_and_daemonsets_roll_back_through_their_controller_revisions(
    writer: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    sts = {"kind": "StatefulSet", "name": "db", "namespace": namespace}
    ds = {"kind": "ds", "name": "agent", "namespace": namespace}
    bump = {"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "postgres:17"}]}}}}
    async with connect(writer.url, era) as client:
        ok(
            await client.call_tool(
                "resources_create_or_update", {"resource": STATEFUL_AND_DAEMON, "namespace": namespace}
            )
        )
        for target in (sts, ds):
            status = await client.call_tool("resources_rollout_status", {**target, "timeoutSeconds": 90})
            assert status.structured_content["done"], text_of(status)
        ok(await client.call_tool("resources_patch", {"apiVersion": "apps/v1", **sts, "patch": bump}))
        ok(await client.call_tool("resources_rollout_restart", ds))
        for target in (sts, ds):
            status = await client.call_tool("resources_rollout_status", {**target, "timeoutSeconds": 90})
            assert status.structured_content["done"], text_of(status)
        before = await client.call_tool("resources_rollout_history", sts)
        undo_sts = await client.call_tool("resources_rollout_undo", sts)
        undo_ds = await client.call_tool("resources_rollout_undo", ds)
        settled = await client.call_tool("resources_rollout_status", {**sts, "timeoutSeconds": 90})
        assert settled.structured_content["done"], text_of(settled)
        after = await client.call_tool("resources_rollout_history", sts)
    assert [(r["revision"], r["images"]) for r in before.structured_content["revisions"]] == [
        (1, ["postgres:16"]),
        (2, ["postgres:17"]),
    ]
    assert ok(undo_sts) == f"StatefulSet/db in namespace {namespace} rolled back from revision 2 to revision 1"
    assert ok(undo_ds) == f"DaemonSet/agent in namespace {namespace} rolled back from revision 2 to revision 1"
    assert [r["revision"] for r in after.structured_content["revisions"]] == [2, 3]
    live = json.loads(kubectl("get", "statefulset", "db", "-n", namespace, "-o", "json"))
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "postgres:16"
    agent = json.loads(kubectl("get", "daemonset", "agent", "-n", namespace, "-o", "json"))
    assert "kubectl.kubernetes.io/restartedAt" not in (agent["spec"]["template"]["metadata"].get("annotations") or {})


def crd(group: str) -> str:
    return f"""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: gadgets.{group}}}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: gadgets, singular: gadget, kind: Gadget}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {{type: integer}}
              tags: {{type: array, items: {{type: string}}}}
    additionalPrinterColumns:
    - {{name: Size, type: integer, jsonPath: .spec.size}}
"""


async def test_a_crd_and_its_objects_are_created_listed_patched_and_deleted(
    writer: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    group = f"{namespace}.example.com"
    gadget = {"apiVersion": f"{group}/v1", "kind": "Gadget", "namespace": namespace}
    objects = f"apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g1}}\nspec: {{size: 1, tags: [a]}}\n"
    try:
        async with connect(writer.url, era) as client:
            created = await client.call_tool(
                "resources_create_or_update", {"resource": crd(group) + "---\n" + objects, "namespace": namespace}
            )
            assert ok(created) == f"CustomResourceDefinition/gadgets.{group} created\nGadget/g1 created"
            second = objects.replace("g1", "g2").replace("size: 1", "size: 2")
            ok(await client.call_tool("resources_create_or_update", {"resource": second, "namespace": namespace}))
            listed = await client.call_tool("resources_list", gadget)
            merged = await client.call_tool(
                "resources_patch", {**gadget, "name": "g1", "type": "merge", "patch": {"spec": {"size": 5}}}
            )
            add_tag = '[{"op": "add", "path": "/spec/tags/-", "value": "b"}]'
            jsoned = await client.call_tool(
                "resources_patch", {**gadget, "name": "g1", "type": "json", "patch": add_tag}
            )
            strategic = await client.call_tool(
                "resources_patch", {**gadget, "name": "g1", "patch": {"spec": {"size": 6}}}
            )
            deleted = await client.call_tool("resources_delete", {**gadget, "name": "g2"})
            gone = await client.call_tool("resources_delete", {**gadget, "name": "g2"})
            after = await client.call_tool("resources_list", gadget)
        stored = json.loads(kubectl("get", f"gadgets.{group}", "g1", "-n", namespace, "-o", "json"))
    finally:
        kubectl("delete", "crd", f"gadgets.{group}", "--wait=false", check=False)

    rows = ok(listed).splitlines()
    assert rows[0].split() == ["NAME", "SIZE"]
    assert [r.split()[:2] for r in rows[1:]] == [["g1", "1"], ["g2", "2"]]
    assert "-  size: 1" in ok(merged) and "+  size: 5" in ok(merged)
    assert merged.structured_content["result"] == "patched"
    assert "+  - b" in ok(jsoned)
    assert_one_line_error(strategic, "strategic merge patch is not supported for Gadget", "use type 'merge' or 'json'")
    assert ok(deleted) == f"Gadget/g2 in namespace {namespace} deleted"
    assert_one_line_error(gone, f'gadgets.{group} "g2" not found')
    assert [r.split()[0] for r in ok(after).splitlines()[1:]] == ["g1"]
    assert stored["spec"] == {"size": 5, "tags": ["a", "b"]}


async def test_a_dry_run_shows_a_diff_and_changes_nothing(
    writer: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 5").replace("nginx:1.27", "nginx:1.28")
    fresh = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh}\ndata: {k: v}\n"
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": namespace}
    async with connect(writer.url, era) as client:
        both = changed + "---\n" + fresh
        preview = await client.call_tool(
            "resources_create_or_update", {"resource": both, "namespace": namespace, "dryRun": True}
        )
        same = await client.call_tool(
            "resources_create_or_update", {"resource": DEPLOYMENT, "namespace": namespace, "dryRun": True}
        )
        scale = await client.call_tool("resources_scale", {**target, "scale": 0, "dryRun": True})
        label = {"metadata": {"labels": {"x": "y"}}}
        patch = await client.call_tool("resources_patch", {**target, "type": "merge", "patch": label, "dryRun": True})
        delete = await client.call_tool("resources_delete", {**target, "dryRun": True})

    text = ok(preview)
    assert text.startswith("Deployment/web configured (dry run)\n--- live/Deployment/web\n+++ new/Deployment/web")
    for line in ("-  replicas: 2", "+  replicas: 5", "-        image: nginx:1.27", "+        image: nginx:1.28"):
        assert line in text, text
    assert "ConfigMap/fresh created (dry run)" in text and "+  k: v" in text
    assert "managedFields" not in text and "resourceVersion" not in text
    assert preview.structured_content["dryRun"] is True
    assert [o["result"] for o in preview.structured_content["objects"]] == ["configured", "created"]
    assert ok(same) == "Deployment/web unchanged (dry run)"
    assert "would be scaled from 2 to 0 replicas (dry run)" in ok(scale)
    assert "would be patched (dry run)" in ok(patch) and "+    x: y" in ok(patch)
    assert ok(delete) == f"Deployment/web in namespace {namespace} would be deleted (dry run)"

    live = deployment_json(kubectl, namespace)
    assert live["spec"]["replicas"] == 2 and live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert "x" not in (live["metadata"].get("labels") or {})
    assert kubectl("get", "configmap", "fresh", "-n", namespace, check=False).strip() == ""


async def test_invalid_objects_conflicts_and_unknown_kinds_are_one_line_errors(
    writer: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl("create", "deployment", "owned", "--image", "nginx:1.27", "-n", namespace)
    invalid = DEPLOYMENT.replace("replicas: 2", "replicas: -1")
    taken = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: owned}\nspec: {replicas: 3}\n"
    cases = [
        ({"resource": invalid}, ["Deployment/web (document 1, line 2)", "spec.replicas: Invalid value: -1"]),
        ({"resource": "apiVersion: v1\nkind: Gizmo\nmetadata: {name: g}"}, ["unknown kind 'Gizmo' in apiVersion v1"]),
        ({"resource": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  bad"}, ["not valid YAML or JSON: line"]),
        ({"resource": "kind: ConfigMap\nmetadata: {name: x}"}, ["document 1, line 1: missing apiVersion"]),
        ({"resource": "apiVersion: v9\nkind: Pod\nmetadata: {name: x}"}, ["unknown apiVersion 'v9'"]),
        ({"resource": taken, "force": False}, ["Apply failed with 1 conflict", ".spec.replicas"]),
        (
            {"resource": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n" + invalid},
            ["Deployment/web (document 2, line 6)", "already applied: ConfigMap/a created"],
        ),
    ]
    async with connect(writer.url, era) as client:
        for arguments, fragments in cases:
            result = await client.call_tool("resources_create_or_update", {**arguments, "namespace": namespace})
            assert_one_line_error(result, "failed to create or update resources: ", *fragments)
        missing = await client.call_tool(
            "resources_delete", {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ghost", "namespace": namespace}
        )
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "namespace": namespace}
        no_scale = await client.call_tool("resources_scale", {**cm, "scale": 1})
        bad_patch = await client.call_tool("resources_patch", {**cm, "type": "json", "patch": {}})
        not_json = await client.call_tool("resources_patch", {**cm, "patch": "{"})
        bad_kind = await client.call_tool("resources_rollout_status", {"kind": "Job", "name": "x"})
    assert_one_line_error(missing, f"failed to delete Deployment {namespace}/ghost", '"ghost" not found')
    assert_one_line_error(no_scale, "ConfigMap has no scale subresource")
    assert_one_line_error(bad_patch, "a json patch is a non-empty list of operations")
    assert_one_line_error(not_json, "patch is not valid JSON: line 1, column 2")
    assert_one_line_error(bad_kind, "rollouts exist for Deployment, StatefulSet and DaemonSet")
    assert deployment_json(kubectl, namespace, "owned")["spec"]["replicas"] == 1


async def test_describe_shows_the_owner_chain_and_events_of_a_deployments_pod(
    writer: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.wait_until("running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)
    pod = running_pods(kubectl, namespace, "app=web")[0]
    kubectl.wait_until("a Scheduled event", lambda: pod in kubectl("get", "events", "-n", namespace))
    async with connect(writer.url, era) as client:
        described = await client.call_tool(
            "resources_describe", {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": namespace}
        )
        deployment = await client.call_tool(
            "resources_describe", {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": namespace}
        )
    text = ok(described)
    rs = pod.rsplit("-", 1)[0]
    assert text.splitlines()[0] == f"Pod {namespace}/{pod} (v1)"
    assert f"Owners: ReplicaSet/{rs} -> Deployment/web" in text
    assert "Status: Running" in text and "web: nginx:1.27 | Running" in text
    assert "Events:" in text and "Scheduled" in text and f"Successfully assigned {namespace}/{pod}" in text
    data = described.structured_content
    assert [(o["kind"], o["found"]) for o in data["owners"]] == [("ReplicaSet", True), ("Deployment", True)]
    assert any(e["reason"] == "Scheduled" for e in data["events"])
    assert "managedFields" not in text and len(text) < 3000
    assert "Replicas: 2 desired | 2 updated | 2 total | 2 ready | 2 available" in ok(deployment)
    assert "ScalingReplicaSet" in ok(deployment)


async def test_a_planted_secret_value_appears_in_no_tool_output(
    writer: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    planted = f"planted-{namespace}-value"
    encoded = base64.b64encode(planted.encode()).decode()
    secret = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\nstringData: {{password: {planted}}}\n"
    changed = secret.replace(planted, planted + "-2")
    broken = secret.replace("creds", "tls").replace("stringData", "type: kubernetes.io/tls\nstringData")
    ref = {"apiVersion": "v1", "kind": "Secret", "namespace": namespace}
    outputs = []
    async with connect(writer.url, era) as client:
        calls = [
            ("resources_create_or_update", {"resource": secret, "namespace": namespace}),
            ("resources_create_or_update", {"resource": changed, "namespace": namespace, "dryRun": True}),
            ("resources_create_or_update", {"resource": broken, "namespace": namespace}),
            ("resources_get", {**ref, "name": "creds"}),
            ("resources_describe", {**ref, "name": "creds"}),
            ("resources_list", ref),
            ("resources_patch", {**ref, "name": "creds", "type": "merge", "patch": {"stringData": {"x": planted}}}),
        ]
        for name, arguments in calls:
            outputs.append((name, await client.call_tool(name, arguments)))
    assert kubectl("get", "secret", "creds", "-n", namespace, "-o", "jsonpath={.data.password}") == encoded
    assert "<redacted" in text_of(outputs[1][1]) and "changed>" in text_of(outputs[1][1])
    assert outputs[2][1].is_error
    for name, result in outputs:
        seen = text_of(result) + json.dumps(result.structured_content)
        assert planted not in seen and encoded not in seen, (name, seen)
    assert planted not in writer.logs() and encoded not in writer.logs()


async def test_the_write_tools_keep_the_go_servers_names_arguments_and_hints(writer: ServerProcess) -> None:
    peers = {t["name"]: t for t in json.loads(PEERS.read_text())}
    async with connect(writer.url, "auto") as client:
        ours = {t.name: t for t in (await client.list_tools()).tools}
    for name in ("resources_create_or_update", "resources_delete", "resources_scale"):
        peer, tool = peers[name], ours[name]
        assert set(peer["params"]) <= set(tool.input_schema["properties"]), name
        assert set(tool.input_schema.get("required", [])) == set(peer["required"]), name
        assert tool.annotations.destructive_hint is True and tool.annotations.read_only_hint is False
    for name in ("resources_describe", "resources_rollout_status", "resources_rollout_history"):
        assert ours[name].annotations.read_only_hint is True
    for name in ("resources_patch", "resources_rollout_restart", "resources_rollout_undo"):
        assert ours[name].annotations.destructive_hint is True
