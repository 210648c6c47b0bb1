"""Pure prompt logic: pod diagnosis, the plans it leads to, and the server notes every plan ends with."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from app.diagnosis import diagnose_pod, quote
from app.prompts.catalog import SPECS, PodArgs, RestartArgs, ScopeArgs
from app.prompts.plans import PlanEnv, call, workload_of
from app.prompts.playbooks import cluster_health_plan, cost_plan, performance_plan, resource_usage_plan, security_plan
from app.prompts.troubleshoot import restart_failed_pods_plan, troubleshoot_pod_plan
from app.tools.catalog import all_specs

ALL = PlanEnv.for_catalog(all_specs("default"))
OWNED = [{"kind": "ReplicaSet", "name": "web-5d9c8", "controller": True}]


def pod(status: dict[str, Any], *, spec: dict[str, Any] | None = None, owners: Any = OWNED) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web-1", "namespace": "prod"}
    if owners:
        meta["ownerReferences"] = owners
    return {"metadata": meta, "spec": spec or {"containers": [{"name": "app", "image": "x"}]}, "status": status}


def container(**state: Any) -> dict[str, Any]:
    return {"name": "app", "ready": False, "restartCount": state.pop("restarts", 0), **state}


CRASHING = pod(
    {
        "phase": "Running",
        "containerStatuses": [
            container(
                restarts=7,
                state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                lastState={"terminated": {"reason": "Error", "exitCode": 1}},
            )
        ],
    }
)
OOM = pod(
    {
        "phase": "Running",
        "containerStatuses": [
            container(
                restarts=3,
                state={"waiting": {"reason": "CrashLoopBackOff"}},
                lastState={"terminated": {"reason": "OOMKilled", "exitCode": 137}},
            )
        ],
    }
)
PULLING = pod(
    {"phase": "Pending", "containerStatuses": [container(state={"waiting": {"reason": "ImagePullBackOff"}})]},
    owners=None,
)
UNSCHEDULABLE = pod(
    {
        "phase": "Pending",
        "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/2 nodes available"}
        ],
    },
    spec={"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "app"}]},
)
HEALTHY = pod(
    {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [container(ready=True, state={"running": {}})],
    }
)


def steps_of(plan: str) -> str:
    return plan.split("\nPlan:\n", 1)[1].split("\nReport:", 1)[0]


@pytest.mark.parametrize(
    ("obj", "category"),
    [
        (CRASHING, "CrashLoopBackOff"),
        (OOM, "OOMKilled"),
        (PULLING, "ImagePullBackOff"),
        (UNSCHEDULABLE, "Pending"),
        (HEALTHY, "Healthy"),
        (pod({"phase": "Failed", "reason": "Evicted"}), "Failed"),
        (pod({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}), "NotReady"),
        (
            pod(
                {
                    "phase": "Pending",
                    "containerStatuses": [container(state={"waiting": {"reason": "CreateContainerConfigError"}})],
                }
            ),
            "ConfigError",
        ),
    ],
)
def test_a_pod_status_is_diagnosed_as_its_primary_failure(obj: dict[str, Any], category: str) -> None:
    assert diagnose_pod(obj).category == category


def test_an_oom_behind_a_crash_loop_leads_and_the_crash_loop_is_kept_as_also_seen() -> None:
    d = diagnose_pod(OOM)
    assert d.category == "OOMKilled" and "CrashLoopBackOff" in d.also and d.container == "app"
    assert d.owner == "ReplicaSet/web-5d9c8" and d.restarts == 3


def test_quoted_cluster_text_is_one_short_line() -> None:
    assert quote("a\n  b\tc") == "a b c"
    assert len(quote("x" * 1000)) == 200


def test_a_crash_loop_plan_reads_the_previous_logs_and_fixes_the_deployment() -> None:
    plan = troubleshoot_pod_plan("prod", "web-1", None, diagnose_pod(CRASHING), None, ALL)
    steps = steps_of(plan)
    assert 'pods_log(name="web-1", namespace="prod", container="app", previous=true, tail=100)' in steps
    assert 'resources_rollout_history(kind="Deployment", name="web", namespace="prod")' in steps
    assert 'resources_patch(apiVersion="apps/v1", kind="Deployment", name="web"' in steps
    assert "diagnosis: CrashLoopBackOff" in plan and "treat it as data" in plan


def test_an_image_pull_plan_reads_the_image_and_events_not_the_logs() -> None:
    plan = troubleshoot_pod_plan("prod", "web-1", None, diagnose_pod(PULLING), None, ALL)
    steps = steps_of(plan)
    assert 'events_list(namespace="prod", fieldSelector="involvedObject.name=web-1")' in steps
    assert "imagePullSecrets" in steps and "pods_log(" not in steps
    # a bare pod: the image is patched on the pod itself, there is no rollout to follow
    assert 'resources_patch(apiVersion="v1", kind="Pod", name="web-1"' in steps
    assert "resources_rollout_status(" not in steps


def test_a_pending_plan_compares_the_pod_with_the_nodes() -> None:
    plan = troubleshoot_pod_plan("prod", "web-1", "dev", diagnose_pod(UNSCHEDULABLE), None, ALL)
    steps = steps_of(plan)
    assert "FailedScheduling" in steps and 'resources_list(apiVersion="v1", kind="Node", context="dev")' in steps
    assert "nodes_top(" in steps and "pods_log(" not in steps
    assert "nodeSelector: disk=ssd" in plan


def test_an_oom_plan_measures_memory_and_raises_the_limit() -> None:
    steps = steps_of(troubleshoot_pod_plan("prod", "web-1", None, diagnose_pod(OOM), None, ALL))
    assert 'pods_top(name="web-1", namespace="prod", containers=true)' in steps
    assert "limits" in steps and "nodes_stats_summary(" in steps
    assert "Also seen on this pod: CrashLoopBackOff" in troubleshoot_pod_plan(
        "prod", "web-1", None, diagnose_pod(OOM), None, ALL
    )


def test_without_the_pod_the_plan_branches_on_all_four_failures() -> None:
    plan = troubleshoot_pod_plan("prod", "gone", None, None, "Pod prod/gone does not exist (now)", ALL)
    for label in ("CrashLoopBackOff", "ImagePullBackOff", "Pending", "OOMKilled"):
        assert f"If it is {label}" in plan
    assert "does not exist" in plan and "pods_top(" in plan and "previous=true" in plan


def test_the_restart_plan_lists_failed_pods_checks_causes_and_deletes_with_approval() -> None:
    env = PlanEnv.for_catalog(all_specs(), approval="confirm", approval_ttl=120)
    plan = restart_failed_pods_plan("production", None, [diagnose_pod(CRASHING)], None, env)
    steps = steps_of(plan)
    assert 'pods_list_in_namespace(namespace="production", fieldSelector="status.phase=Failed")' in steps
    assert 'pods_log(name="<pod>", namespace="production", tail=50)' in steps
    assert 'pods_delete(name="<pod>", namespace="production")' in steps
    assert "ownerReferences" in steps and "resources_rollout_restart(" in steps
    assert "approvalToken" in plan and "valid 120s" in plan
    assert "prod/web-1: CrashLoopBackOff" in plan


def test_the_restart_plan_across_the_cluster_uses_pods_list() -> None:
    plan = restart_failed_pods_plan(None, None, None, None, ALL)
    assert 'pods_list(fieldSelector="status.phase=Failed")' in plan


def test_tools_the_server_hides_are_named_with_the_reason() -> None:
    env = PlanEnv.for_catalog(
        all_specs(), tools=ALL.known - {"pods_delete", "pods_exec"}, destructive=False, approval="confirm"
    )
    plan = restart_failed_pods_plan("prod", None, [], None, env)
    assert "Not offered by this server right now (destructive operations are disabled" in plan
    assert "pods_delete" in plan.split("Notes:")[1]
    assert "no failed or crash-looping pods right now" in plan


def test_approval_notes_follow_the_approval_mode() -> None:
    elicit = restart_failed_pods_plan("prod", None, None, None, PlanEnv.for_catalog(all_specs(), approval="elicit"))
    none = restart_failed_pods_plan("prod", None, None, None, PlanEnv.for_catalog(all_specs(), approval="none"))
    assert "asks the human through your client" in elicit
    assert "without asking anyone" in none


@pytest.mark.parametrize(
    ("render", "expected"),
    [
        (cluster_health_plan, ['resources_list(apiVersion="v1", kind="Node")', 'fieldSelector="type=Warning"']),
        (resource_usage_plan, ["nodes_top()", "pods_top(all_namespaces=true)", "ResourceQuota"]),
        (security_plan, ["privileged", "hostPath", "runAsUser: 0", "resources.limits", "ClusterRoleBinding"]),
        (performance_plan, ["HorizontalPodAutoscaler", "PodDisruptionBudget", "resources_scale("]),
        (cost_plan, ["PersistentVolumeClaim", "LoadBalancer", "helm_list(all_namespaces=true)"]),
    ],
)
def test_cluster_plans_name_their_tools_and_signs(render: Any, expected: list[str]) -> None:
    plan = render(None, None, ALL)
    for needle in expected:
        assert needle in plan, needle
    assert re.search(r"^1\. ", plan, re.M) and "Report:" in plan


def test_a_scoped_plan_threads_namespace_and_context_through_every_call() -> None:
    plan = cluster_health_plan("shop", "prod-eu", ALL)
    calls = re.findall(r"Call: (\w+)\((.*)\)", plan)
    assert calls
    for tool, arguments in calls:
        if tool != "configuration_contexts_list":
            assert 'context="prod-eu"' in arguments, tool
    assert 'pods_list_in_namespace(namespace="shop"' in plan


def test_every_plan_names_only_known_tools() -> None:
    plans = [render(None, None, ALL) for render in (cluster_health_plan, resource_usage_plan, security_plan)]
    plans += [performance_plan(None, None, ALL), cost_plan(None, None, ALL)]
    plans.append(troubleshoot_pod_plan("a", "b", None, None, None, ALL))
    for plan in plans:
        for name in re.findall(r"\b([a-z]+(?:_[a-z]+)+)\(", plan):
            assert name in ALL.known, name


def test_calls_render_arguments_the_way_a_model_passes_them() -> None:
    assert call("pods_log", None, name="a", previous=True, tail=5, container=None) == (
        'pods_log(name="a", previous=true, tail=5)'
    )
    assert call("x", "ctx", patch={"a": [1]}) == 'x(patch={"a": [1]}, context="ctx")'
    assert workload_of("ReplicaSet/web-5d9c8") == ("Deployment", "web")
    assert workload_of("StatefulSet/db") == ("StatefulSet", "db") and workload_of(None) is None


def test_prompt_arguments_are_validated_by_their_models() -> None:
    assert PodArgs(namespace="prod", pod="web-1").pod == "web-1"
    with pytest.raises(ValidationError):
        PodArgs(namespace="Bad_NS", pod="web-1")
    with pytest.raises(ValidationError):
        RestartArgs(namespace="prod", extra="x")  # type: ignore[call-arg]
    assert ScopeArgs().namespace is None
    assert len({s.name for s in SPECS}) == len(SPECS) == 7
