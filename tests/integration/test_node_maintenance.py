"""Node maintenance on the real control plane: cordon, uncordon and a drain with every kind of pod.

Each test gets a fresh kwok node, tainted so that only this test's pods (which tolerate the taint
and select the node) land on it: a drain evicts every pod of its node, and other tests' pods must
not be among them. On the node: a Deployment whose PodDisruptionBudget allows no disruption, a
Deployment without one, a DaemonSet, a pod without a controller and a pod using emptyDir. The
rig's kubectl checks every effect independently of the server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Kubectl, ServerProcess, connect, start_server, text_of
from tests.integration.test_approval import token_of

pytestmark = pytest.mark.anyio
TAINT = "k8s-mcp-test/drain"


@pytest.fixture(scope="module")
def operator(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Destructive tools on, approval at its default (confirm: a drain previews first)."""
    proc = start_server(
        tmp_path_factory.mktemp("operator"),
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--rate-limit",
        "",
    )
    yield proc
    proc.stop()


@pytest.fixture
def node(kubectl: Kubectl) -> Iterator[str]:
    name = f"kwok-drain-{uuid.uuid4().hex[:6]}"
    kubectl.apply(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": {"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
                    "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                },
                "spec": {"taints": [{"key": TAINT, "value": name, "effect": "NoSchedule"}]},
            }
        )
    )
    kubectl.wait_until(
        f"node {name} Ready",
        lambda: (
            "True"
            in kubectl(
                "get", "node", name, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}", check=False
            )
        ),
    )
    yield name
    kubectl("delete", "node", name, "--wait=false", check=False)


def placement(node: str) -> dict[str, Any]:
    return {
        "nodeSelector": {"kubernetes.io/hostname": node},
        "tolerations": [{"key": TAINT, "operator": "Exists", "effect": "NoSchedule"}],
    }


def deployment(name: str, node: str, replicas: int, **pod_spec: Any) -> dict[str, Any]:
    container = {"name": "app", "image": "registry.example/app:1"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {**placement(node), "containers": [container], **pod_spec},
            },
        },
    }


def arrange(kubectl: Kubectl, namespace: str, node: str) -> None:
    """web x2 (a budget that allows no disruption), api x1, cache x1 (emptyDir), agent (DaemonSet), lonely (bare)."""
    objects = [
        deployment("web", node, 2),
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web-pdb"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
        },
        deployment("api", node, 1),
        deployment("cache", node, 1, volumes=[{"name": "scratch", "emptyDir": {}}]),
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {**placement(node), "containers": [{"name": "agent", "image": "registry.example/a:1"}]},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "lonely", "labels": {"app": "lonely"}},
            "spec": {
                "nodeName": node,
                "tolerations": placement(node)["tolerations"],
                "containers": [{"name": "app", "image": "registry.example/app:1"}],
            },
        },
    ]
    kubectl.apply("\n---\n".join(json.dumps(o) for o in objects), namespace)
    kubectl.wait_until("6 pods running on the node", lambda: len(running_on(kubectl, namespace, node)) == 6)
    kubectl.wait_until(
        "the budget to count its healthy pods",
        lambda: kubectl("get", "pdb", "web-pdb", "-n", namespace, "-o", "jsonpath={.status.currentHealthy}") == "2",
    )


def running_on(kubectl: Kubectl, namespace: str, node: str) -> dict[str, str]:
    """Pod name -> app label, for this namespace's Running pods on the node."""
    listed = json.loads(
        kubectl("get", "pods", "-n", namespace, "--field-selector", f"spec.nodeName={node}", "-o", "json")
    )
    return {
        p["metadata"]["name"]: p["metadata"]["labels"]["app"]
        for p in listed["items"]
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    }


def cordoned(kubectl: Kubectl, node: str) -> bool:
    return kubectl("get", "node", node, "-o", "jsonpath={.spec.unschedulable}") == "true"


def outcomes(result: Any) -> dict[str, tuple[str, str | None]]:
    """App label (or pod name for lonely/agent) -> (outcome, budget), from structuredContent."""
    return {
        p["name"].rsplit("-", 2)[0] if p["name"].count("-") >= 2 else p["name"].rsplit("-", 1)[0]: (
            p["outcome"],
            p.get("budget"),
        )
        for p in result.structured_content["pods"]
    }


async def test_cordon_and_uncordon_say_what_changed(
    operator: ServerProcess, kubectl: Kubectl, node: str, era: str
) -> None:
    async with connect(operator.url, era) as client:
        first = await client.call_tool("nodes_cordon", {"name": node})
        again = await client.call_tool("nodes_cordon", {"name": node})
        assert cordoned(kubectl, node)
        fields = json.loads(kubectl("get", "node", node, "-o", "json", "--show-managed-fields"))["metadata"]
        assert "k8s-mcp" in {entry["manager"] for entry in fields["managedFields"]}  # the server's field manager
        back = await client.call_tool("nodes_uncordon", {"name": node})
    assert not first.is_error and text_of(first) == f"node/{node} cordoned"
    assert first.structured_content == {"node": node, "unschedulable": True, "changed": True, "dryRun": False}
    assert text_of(again) == f"node/{node} already cordoned; nothing changed"
    assert not back.is_error and not cordoned(kubectl, node)


async def test_a_drain_refuses_bare_and_emptydir_pods_up_front_and_changes_nothing(
    operator: ServerProcess, kubectl: Kubectl, namespace: str, node: str
) -> None:
    arrange(kubectl, namespace, node)
    before = running_on(kubectl, namespace, node)
    async with connect(operator.url, "auto") as client:
        result = await client.call_tool("nodes_drain", {"name": node})
    text = text_of(result)
    assert result.is_error and "\n" not in text, text
    assert text.startswith(f"failed to drain node {node}: 2 pods cannot be evicted: ")
    assert f"{namespace}/lonely has no controller" in text and "force=true" in text
    assert "uses emptyDir" in text and "deleteEmptyDirData=true" in text and text.endswith("nothing was changed")
    assert not cordoned(kubectl, node) and running_on(kubectl, namespace, node) == before


async def test_the_preview_lists_who_would_be_evicted_and_who_a_budget_would_block_and_a_blocked_drain_times_out(
    operator: ServerProcess, kubectl: Kubectl, namespace: str, node: str
) -> None:
    arrange(kubectl, namespace, node)
    before = running_on(kubectl, namespace, node)
    args = {"name": node, "force": True, "deleteEmptyDirData": True, "timeoutSeconds": 8, "gracePeriodSeconds": 0}
    async with connect(operator.url, "auto") as client:
        preview = await client.call_tool("nodes_drain", args)
        assert not preview.is_error, text_of(preview)
        assert text_of(preview).startswith("PREVIEW ONLY, nothing was changed")
        assert not cordoned(kubectl, node) and running_on(kubectl, namespace, node) == before
        seen = outcomes(preview)
        assert seen == {
            "web": ("would block", f"{namespace}/web-pdb"),
            "api": ("would evict", None),
            "cache": ("would evict", None),
            "lonely": ("would evict", None),
            "agent": ("skipped", None),
        }, seen
        rows = [p for p in preview.structured_content["pods"] if p["outcome"] == "would block"]
        assert len(rows) == 2 and all(f"PodDisruptionBudget {namespace}/web-pdb" in r["detail"] for r in rows)
        assert preview.structured_content["dryRun"] is True
        assert f"Preview of draining node {node} (would be cordoned): 3 would be evicted, 2 would be blocked" in (
            text_of(preview)
        )

        done = await client.call_tool("nodes_drain", {**args, "approvalToken": token_of(preview)})
    text = text_of(done)
    assert done.is_error and "\n" not in text, text
    assert text.startswith(f"failed to drain node {node}: timed out after 8s with 2 pods not evicted: ")
    assert text.count(f"blocked: PodDisruptionBudget {namespace}/web-pdb allows no disruption now") == 2
    assert f"3 evicted, 1 skipped; node {node} stays cordoned" in text
    assert cordoned(kubectl, node)
    left = running_on(kubectl, namespace, node)
    assert sorted(left.values()) == ["agent", "web", "web"], left


async def test_a_drain_with_a_pod_selector_evicts_only_those_pods_then_uncordon_restores(
    operator: ServerProcess, kubectl: Kubectl, namespace: str, node: str
) -> None:
    arrange(kubectl, namespace, node)
    kubectl("delete", "pdb", "web-pdb", "-n", namespace)
    args = {"name": node, "podSelector": "app=web", "timeoutSeconds": 60, "gracePeriodSeconds": 0}
    async with connect(operator.url, "legacy") as client:
        preview = await client.call_tool("nodes_drain", args)
        done = await client.call_tool("nodes_drain", {**args, "approvalToken": token_of(preview)})
        assert not done.is_error, text_of(done)
        # the replacements cannot come back while the node is cordoned
        assert sorted(running_on(kubectl, namespace, node).values()) == ["agent", "api", "cache", "lonely"]
        undone = await client.call_tool("nodes_uncordon", {"name": node})
    assert [p["outcome"] for p in done.structured_content["pods"]] == ["evicted", "evicted"]
    assert done.structured_content["complete"] is True and done.structured_content["evicted"] == 2
    lines = text_of(done).splitlines()
    assert lines[0] == f"Drained node {node} (cordoned): 2 evicted, 0 skipped."
    assert lines[1].split() == ["NAMESPACE", "POD", "OUTCOME", "DETAIL"]
    assert not undone.is_error and not cordoned(kubectl, node)
    kubectl.wait_until("the web pods back on the node", lambda: len(running_on(kubectl, namespace, node)) == 6)


@pytest.mark.parametrize("tool", ["nodes_cordon", "nodes_uncordon", "nodes_drain"])
async def test_a_node_that_does_not_exist_is_one_line(operator: ServerProcess, tool: str) -> None:
    async with connect(operator.url, "auto") as client:
        result = await client.call_tool(tool, {"name": "no-such-node-0"})
        if tool == "nodes_drain" and not result.is_error:
            pytest.fail(f"a drain of a missing node previewed: {text_of(result)}")
    text = text_of(result)
    assert result.is_error and "\n" not in text
    assert text == f'failed to {tool.split("_")[1]} node no-such-node-0: nodes "no-such-node-0" not found', text
