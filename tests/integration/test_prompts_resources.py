"""Prompts, resources and completion through the MCP client, in both protocol eras, against the real control plane.

The troubleshooting tests break pods for real: a nodeSelector no node matches leaves a pod Pending
(the real scheduler says why), and since the test control plane marks every scheduled pod Running
whatever its image, pull failures, crash loops and OOM kills are written through the pod's status
subresource, exactly where a kubelet would write them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from mcp import Client, MCPError

from tests.integration.conftest import Kubectl, ServerProcess, cluster_context, connect, start_server
from tests.integration.test_read_tools import CRD
from tests.integration.test_rig import DEPLOYMENT, running_pods
from tests.integration.test_security import write_tokens

pytestmark = pytest.mark.anyio

PROMPTS = {
    "cluster_health_check",
    "troubleshoot_pod",
    "resource_usage_analysis",
    "security_assessment",
    "performance_optimization",
    "cost_optimization",
    "restart_failed_pods",
}
PLANTED = "PLANTED-prompt-s3cr3t"
UNSCHEDULABLE_POD = """
apiVersion: v1
kind: Pod
metadata: {name: stuck}
spec:
  nodeSelector: {disktype: unobtainium}
  containers: [{name: app, image: busybox}]
"""


async def plan_of(client: Client, name: str, arguments: dict[str, str]) -> str:
    result = await client.get_prompt(name, arguments)
    assert len(result.messages) == 1 and result.messages[0].role == "user"
    return str(result.messages[0].content.text)


async def read(client: Client, uri: str) -> str:
    result = await client.read_resource(uri)
    assert len(result.contents) == 1
    return str(result.contents[0].text)


async def read_error(client: Client, uri: str) -> MCPError:
    with pytest.raises(MCPError) as caught:
        await client.read_resource(uri)
    error = caught.value
    assert "\n" not in error.message and "Traceback" not in error.message, error.message
    return error


def steps_of(plan: str) -> str:
    return plan.split("\nPlan:\n", 1)[1].split("\nReport:", 1)[0]


def set_status(kubectl: Kubectl, namespace: str, pod: str, status: dict[str, Any]) -> None:
    """Write a pod's status as a kubelet would, once the test control plane has finished with it."""
    kubectl.wait_until(
        f"{pod} running",
        lambda: kubectl("get", "pod", pod, "-n", namespace, "-o", "jsonpath={.status.phase}", check=False) == "Running",
    )
    kubectl("patch", "pod", pod, "-n", namespace, "--subresource=status", "--type=merge", "-p", json.dumps(status))


def waiting(why: str, **last: Any) -> dict[str, Any]:
    """A container stuck waiting for ``why``, after a previous termination ``last`` (if given)."""
    state = {"waiting": {"reason": why, "message": f"{why} for the test"}}
    return {
        "status": {
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [
                {
                    "name": "web",
                    "image": "nginx:1.27",
                    "imageID": "",
                    "ready": False,
                    "started": False,
                    "restartCount": 4 if last else 0,
                    "state": state,
                    "lastState": {"terminated": last} if last else {},
                }
            ],
        }
    }


# --- prompts ---------------------------------------------------------------------------------------


async def test_every_prompt_is_listed_with_its_arguments_and_renders_a_numbered_plan(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl("run", "solo", "--image", "busybox", "-n", namespace)
    arguments = {
        "troubleshoot_pod": {"namespace": namespace, "pod": "solo"},
        "restart_failed_pods": {"namespace": namespace},
    }
    async with connect(server.url, era) as client:
        listed = {p.name: p for p in (await client.list_prompts()).prompts}
        assert set(listed) == PROMPTS
        required = {name: {a.name for a in p.arguments if a.required} for name, p in listed.items()}
        assert required["troubleshoot_pod"] == {"namespace", "pod"}
        assert required["restart_failed_pods"] == {"namespace"} and required["cluster_health_check"] == set()
        for name in sorted(PROMPTS):
            plan = await plan_of(client, name, arguments.get(name, {"namespace": namespace}))
            assert "\nPlan:\n1. " in plan and "Call: " in plan and "Report: " in plan, name
            assert f"namespace {namespace}" in plan, name


async def test_troubleshooting_an_unschedulable_pod_names_the_scheduling_tools(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(UNSCHEDULABLE_POD, namespace)
    kubectl.wait_until(
        "the scheduler to give up",
        lambda: "Unschedulable" in kubectl("get", "pod", "stuck", "-n", namespace, "-o", "json"),
    )
    async with connect(server.url, era) as client:
        plan = await plan_of(client, "troubleshoot_pod", {"namespace": namespace, "pod": "stuck"})
    steps = steps_of(plan)
    assert "diagnosis: Pending" in plan and "nodeSelector: disktype=unobtainium" in plan
    assert "didn't match Pod's node affinity/selector" in plan
    assert f'events_list(namespace="{namespace}", fieldSelector="involvedObject.name=stuck")' in steps
    assert 'resources_list(apiVersion="v1", kind="Node")' in steps and "nodes_top()" in steps
    assert "pods_log(" not in steps, "a pod that never started has no logs to read"


@pytest.mark.parametrize(
    ("status", "diagnosis", "expected", "absent"),
    [
        (
            waiting("ImagePullBackOff"),
            "ImagePullBackOff",
            ["imagePullSecrets", "involvedObject.name=", '"image": "<registry/image:tag>"'],
            ["pods_log(", "pods_top("],
        ),
        (
            waiting("CrashLoopBackOff", reason="Error", exitCode=1),
            "CrashLoopBackOff",
            ["previous=true", 'resources_rollout_history(kind="Deployment", name="web"', "Liveness probe failed"],
            ["imagePullSecrets", "pods_top("],
        ),
        (
            waiting("CrashLoopBackOff", reason="OOMKilled", exitCode=137),
            "OOMKilled",
            ["containers=true", "limits", "nodes_stats_summary(", 'kind="Deployment", name="web"'],
            ["imagePullSecrets"],
        ),
    ],
)
async def test_troubleshooting_a_broken_pod_names_the_tools_for_its_failure(
    server: ServerProcess,
    kubectl: Kubectl,
    namespace: str,
    era: str,
    status: dict[str, Any],
    diagnosis: str,
    expected: list[str],
    absent: list[str],
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.wait_until("running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)
    pod = running_pods(kubectl, namespace, "app=web")[0]
    set_status(kubectl, namespace, pod, status)
    async with connect(server.url, era) as client:
        plan = await plan_of(client, "troubleshoot_pod", {"namespace": namespace, "pod": pod})
    steps = steps_of(plan)
    assert f"diagnosis: {diagnosis}" in plan and "owner: ReplicaSet/web-" in plan
    for needle in expected:
        assert needle in steps, needle
    for needle in absent:
        assert needle not in steps, needle


async def test_troubleshooting_a_pod_that_is_gone_covers_every_failure(
    server: ServerProcess, namespace: str, era: str
) -> None:
    async with connect(server.url, era) as client:
        plan = await plan_of(client, "troubleshoot_pod", {"namespace": namespace, "pod": "vanished"})
    assert f"Pod {namespace}/vanished does not exist" in plan
    for failure in ("CrashLoopBackOff", "ImagePullBackOff", "Pending", "OOMKilled"):
        assert f"If it is {failure}" in plan


async def test_restart_failed_pods_lists_the_failing_pods_and_the_seed_workflow(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.wait_until("running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)
    pod = running_pods(kubectl, namespace, "app=web")[0]
    set_status(kubectl, namespace, pod, waiting("CrashLoopBackOff", reason="Error", exitCode=1))
    async with connect(server.url, era) as client:
        plan = await plan_of(client, "restart_failed_pods", {"namespace": namespace})
    steps = steps_of(plan)
    assert f"{namespace}/{pod}: CrashLoopBackOff" in plan
    assert f'pods_list_in_namespace(namespace="{namespace}", fieldSelector="status.phase=Failed")' in steps
    assert f'pods_log(name="<pod>", namespace="{namespace}", tail=50)' in steps
    assert f'pods_delete(name="<pod>", namespace="{namespace}")' in steps
    # this server runs without destructive operations: the plan says pods_delete is not available here
    notes = plan.split("\nNotes:\n", 1)[1]
    assert "destructive operations are disabled" in notes and "pods_delete" in notes


@pytest.mark.parametrize(
    ("name", "arguments", "fragment"),
    [
        ("troubleshoot_pod", {"namespace": "default"}, "missing required argument 'pod'"),
        ("troubleshoot_pod", {"namespace": "Not_A_Label", "pod": "x"}, "invalid namespace"),
        ("restart_failed_pods", {"namespace": "no-such-ns"}, "namespace 'no-such-ns' not found"),
        ("cluster_health_check", {"context": "nowhere"}, "unknown context 'nowhere'"),
        ("security_assessment", {"namespace": "no-such-ns"}, "namespace 'no-such-ns' not found"),
        ("troubleshoot_pod", {"namespace": "default", "pod": "x", "context": "nowhere"}, "unknown context"),
    ],
)
async def test_bad_prompt_arguments_are_one_clear_line(
    server: ServerProcess, era: str, name: str, arguments: dict[str, str], fragment: str
) -> None:
    async with connect(server.url, era) as client:
        with pytest.raises(MCPError) as caught:
            await client.get_prompt(name, arguments)
    assert caught.value.code == -32602
    assert caught.value.message.startswith(f"failed to get prompt {name}: ") and fragment in caught.value.message
    assert "\n" not in caught.value.message


# --- object resources ------------------------------------------------------------------------------


async def test_objects_are_read_by_uri_as_redacted_yaml_whatever_the_kind_spelling(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(
        DEPLOYMENT.replace(
            "image: nginx:1.27}", f"image: nginx:1.27, env: [{{name: DB_PASSWORD, value: {PLANTED}}}]}}"
        ),
        namespace,
    )
    async with connect(server.url, era) as client:
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert {"k8s://{context}/{namespace}/{kind}/{name}", "k8s://{context}/_cluster/{kind}/{name}"} <= templates
        texts = [
            await read(client, f"k8s://current/{namespace}/{kind}/web")
            for kind in ("Deployment", "deployments", "deploy", "deployments.apps", "deployments.v1.apps")
        ]
        cluster = yaml.safe_load(await read(client, f"k8s://current/_cluster/namespaces/{namespace}"))
        node = yaml.safe_load(await read(client, f"k8s://{cluster_context()}/_cluster/Node/kwok-node-0"))
    assert len({yaml.safe_load(t)["metadata"]["uid"] for t in texts}) == 1  # every spelling, the same object
    parsed = yaml.safe_load(texts[0])
    assert parsed["kind"] == "Deployment" and parsed["metadata"]["name"] == "web"
    assert "managedFields" not in parsed["metadata"]
    assert PLANTED not in "".join(texts) and "<redacted>" in texts[0]
    assert cluster["kind"] == "Namespace" and node["metadata"]["name"] == "kwok-node-0"


async def test_a_custom_resource_is_found_after_the_built_in_groups(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(CRD)
    kubectl.wait_until("CRD established", lambda: "widgets" in kubectl("api-resources", "--api-group=example.com"))
    kubectl.apply("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: gear}\nspec: {size: 7}\n", namespace)
    async with connect(server.url, era) as client:
        for kind in ("Widget", "widgets", "wd", "widgets.example.com"):
            assert yaml.safe_load(await read(client, f"k8s://current/{namespace}/{kind}/gear"))["spec"] == {"size": 7}


async def test_a_secret_is_refused_through_the_object_resource_by_default(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl("create", "secret", "generic", "db", "-n", namespace, f"--from-literal=password={PLANTED}")
    async with connect(server.url, era) as client:
        for kind in ("secrets", "Secret", "secret"):
            error = await read_error(client, f"k8s://current/{namespace}/{kind}/db")
            assert "access to secrets is denied by server policy" in error.message
            assert PLANTED not in error.message


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("k8s://current/{ns}/gizmos/x", "unknown kind 'gizmos'"),
        ("k8s://current/{ns}/pods/ghost", 'pods "ghost" not found'),
        ("k8s://current/no-such-ns/pods/ghost", "namespace 'no-such-ns' not found"),
        ("k8s://current/_cluster/pods/x", "Pod is namespaced: read k8s://current/<namespace>/pods/x"),
        ("k8s://current/{ns}/nodes/x", "Node is cluster-scoped: read k8s://current/_cluster/nodes/x"),
        ("k8s://nowhere/{ns}/pods/x", "unknown context 'nowhere'"),
        ("k8s://current/{ns}/pods/Bad_Name", "invalid name"),
        ("k8s://current/{ns}/pods.v9.nope.example.com/x", "unknown apiVersion"),
        ("k8s-template://operator", "no template 'operator'; templates: configmap"),
    ],
)
async def test_unknown_kinds_names_and_scopes_are_one_clear_not_found_line(
    server: ServerProcess, namespace: str, era: str, uri: str, fragment: str
) -> None:
    target = uri.format(ns=namespace)
    async with connect(server.url, era) as client:
        error = await read_error(client, target)
    assert error.code == -32602
    assert error.message.startswith(f"failed to read {target}: ") and fragment in error.message, error.message


# --- summary ---------------------------------------------------------------------------------------


async def test_the_cluster_summary_shows_version_nodes_namespaces_and_workloads(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.apply(UNSCHEDULABLE_POD, namespace)
    kubectl.wait_until("running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)
    async with connect(server.url, era) as client:
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        summary = yaml.safe_load(await read(client, "k8s://summary"))
        again = yaml.safe_load(await read(client, "k8s://current/summary"))
    version = json.loads(kubectl("version", "-o", "json"))["serverVersion"]["gitVersion"]
    nodes = kubectl("get", "nodes", "-o", "name").split()
    assert "k8s://summary" in listed and "k8s-template://index" in listed
    assert summary["version"] == version == again["version"]
    assert summary["nodes"]["total"] == len(nodes) and summary["nodes"]["ready"] == len(nodes)
    assert summary["namespaces"]["total"] >= 2 and summary["deployments"]["total"] >= 1
    assert summary["pods"]["by_status"].get("Running", 0) >= 2
    assert f"{namespace}/stuck: Pending, 0 restarts" in summary["pods"]["problems"]
    assert set(summary) >= {"context", "server", "statefulsets", "daemonsets", "jobs", "warning_events"}
    metrics = httpx2.get(f"{server.base}/metrics").text
    assert 'k8s_mcp_resource_reads_total{outcome="ok",resource="summary"}' in metrics


# --- templates -------------------------------------------------------------------------------------


async def test_every_template_is_listed_readable_and_accepted_by_the_api_server(
    server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    async with connect(server.url, "auto") as client:
        index = yaml.safe_load(await read(client, "k8s-template://index"))["templates"]
        texts = {t["name"]: await read(client, t["uri"]) for t in index}
        by_kind = await read(client, "k8s-template://HorizontalPodAutoscaler")
    assert len(index) == 10 and {"deployment", "cronjob", "hpa", "networkpolicy", "pdb"} <= set(texts)
    assert by_kind == texts["hpa"]
    for name, text in texts.items():
        out = kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=text)
        assert "(server dry run)" in out, name


# --- completion ------------------------------------------------------------------------------------


async def test_completion_offers_namespaces_pods_kinds_names_and_templates(
    server: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl("run", "solo", "--image", "busybox", "-n", namespace)
    kubectl("create", "configmap", "settings", "-n", namespace)
    prompt = {"type": "ref/prompt", "name": "troubleshoot_pod"}
    objects = {"type": "ref/resource", "uri": "k8s://{context}/{namespace}/{kind}/{name}"}
    async with connect(server.url, era) as client:
        namespaces = await client.complete(prompt, {"name": "namespace", "value": namespace[:4]})
        pods = await client.complete(prompt, {"name": "pod", "value": "so"}, {"namespace": namespace})
        kinds = await client.complete(objects, {"name": "kind", "value": "deploy"})
        names = await client.complete(objects, {"name": "name", "value": ""}, {"namespace": namespace, "kind": "cm"})
        contexts = await client.complete(objects, {"name": "context", "value": ""})
        templates = await client.complete(
            {"type": "ref/resource", "uri": "k8s-template://{name}"}, {"name": "name", "value": "h"}
        )
    assert namespace in namespaces.completion.values
    assert pods.completion.values == ["solo"]
    assert kinds.completion.values == ["deployments"]
    assert "settings" in names.completion.values
    assert contexts.completion.values[:2] == ["current", cluster_context()]
    assert templates.completion.values == ["hpa"]


# --- policy ----------------------------------------------------------------------------------------


@pytest.fixture
def limited_server(kubeconfig: Path, tmp_path: Path, namespace: str) -> Iterator[ServerProcess]:
    """A server limited to one namespace, with Secrets allowed (their values still redacted)."""
    proc = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--allowed-namespaces", namespace, "--denied-resources", ""
    )
    yield proc
    proc.stop()


async def test_namespace_limits_apply_to_prompts_resources_and_the_summary(
    limited_server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    kubectl("create", "secret", "generic", "db", "-n", namespace, f"--from-literal=password={PLANTED}")
    kubectl("run", "solo", "--image", "busybox", "-n", namespace)
    async with connect(limited_server.url, "legacy") as client:
        secret = await read(client, f"k8s://current/{namespace}/secrets/db")
        outside = await read_error(client, "k8s://current/default/configmaps/kube-root-ca.crt")
        with pytest.raises(MCPError) as refused:
            await client.get_prompt("troubleshoot_pod", {"namespace": "default", "pod": "x"})
        summary = yaml.safe_load(await read(client, "k8s://summary"))
        namespaces = await client.complete(
            {"type": "ref/prompt", "name": "restart_failed_pods"}, {"name": "namespace", "value": ""}
        )
    assert PLANTED not in secret and "<redacted" in secret
    assert outside.code == -32603 and "not in the server's allowed namespaces" in outside.message
    assert refused.value.code == -32602 and "not in the server's allowed namespaces" in refused.value.message
    assert summary["scope"] == f"namespaces {namespace} only (server policy)"
    assert summary["pods"]["total"] == 1 and summary["nodes"]["total"] >= 1
    assert namespaces.completion.values == [namespace]
    async with connect(limited_server.url, "auto") as client:
        with pytest.raises(MCPError) as plan_refused:
            await client.get_prompt("security_assessment", {"namespace": "default"})
    assert "not in the server's allowed namespaces" in plan_refused.value.message


async def test_resources_and_prompts_act_as_the_caller_when_impersonating(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    kubectl("create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", namespace)
    kubectl("create", "rolebinding", "pod-reader", "--role=pod-reader", "--user=alice", "-n", namespace)
    kubectl.apply(UNSCHEDULABLE_POD, namespace)
    proc = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--auth-tokens-file", str(write_tokens(tmp_path)), "--impersonate"
    )
    try:
        async with connect(proc.url, "auto", {"Authorization": "Bearer alice-token-0123456789"}) as client:
            own = yaml.safe_load(await read(client, f"k8s://current/{namespace}/pods/stuck"))
            other = await read_error(client, "k8s://current/default/configmaps/kube-root-ca.crt")
            summary = yaml.safe_load(await read(client, "k8s://summary"))
            plan = await plan_of(client, "troubleshoot_pod", {"namespace": namespace, "pod": "stuck"})
    finally:
        proc.stop()
    assert own["metadata"]["name"] == "stuck"
    assert other.code == -32603 and "forbidden" in other.message and 'User "alice"' in other.message
    assert "forbidden" in summary["nodes"]["unavailable"]  # alice may not list nodes: said, not failed
    assert "diagnosis: Pending" in plan
