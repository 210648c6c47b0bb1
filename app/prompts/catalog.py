"""The MCP prompts: named workflows that hand the model a concrete plan over this server's tools.

One prompt = one ``PromptSpec``: a name, a description, a validated argument model and an async
``build`` that returns the plan text. Plans come from pure renderers (``playbooks``, ``troubleshoot``);
two prompts first look at the cluster through ``Deps`` so the plan fits what is actually wrong:
``troubleshoot_pod`` reads the pod and leads with its real failure, ``restart_failed_pods`` lists the
pods that are failing now. The others only check their namespace exists. Reads go through
``Kube.request`` like any tool call, so policy applies (a denied namespace is an error, not a plan).
The transport registers the specs with the SDK.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from app import args as p
from app import errors
from app.diagnosis import PodDiagnosis, diagnose_pod, quote
from app.prompts.plans import PlanEnv
from app.prompts.playbooks import cluster_health_plan, cost_plan, performance_plan, resource_usage_plan, security_plan
from app.prompts.troubleshoot import restart_failed_pods_plan, troubleshoot_pod_plan
from app.spec import Deps
from app.views import ensure_namespace

ArgsT = TypeVar("ArgsT", bound=BaseModel)
HEALTHY = frozenset({"Healthy", "Succeeded"})


@dataclass(frozen=True)
class PromptSpec(Generic[ArgsT]):
    name: str
    title: str
    description: str
    params: type[ArgsT]
    build: Callable[[ArgsT, Deps, PlanEnv], Awaitable[str]]


class ScopeArgs(p.Args):
    namespace: p.OptionalNamespace = Field(None, description="Namespace to look at (default: all namespaces)")
    context: p.Context = None


class PodArgs(p.Args):
    namespace: p.Namespace = Field(description="Namespace of the pod")
    pod: p.Name = Field(description="Name of the pod")
    context: p.Context = None


class RestartArgs(p.Args):
    namespace: p.Namespace = Field(description="Namespace whose failed pods to restart, e.g. 'production'")
    context: p.Context = None


def _static(render: Callable[[str | None, str | None, PlanEnv], str]) -> Callable[[ScopeArgs, Deps, PlanEnv], Any]:
    async def build(args: ScopeArgs, deps: Deps, env: PlanEnv) -> str:
        # An unknown context, a denied or missing namespace: errors now, as a tool would give them. A cluster
        # that cannot be reached is no reason to withhold the plan.
        with contextlib.suppress(errors.Unavailable, errors.Timeout):
            deps.kube.context(args.context)
            if args.namespace:
                await ensure_namespace(deps, args.namespace, args.context)
        return render(args.namespace, args.context, env)

    return build


def _unreadable(what: str, error: errors.K8sMcpError) -> str:
    return f"The server could not read {what} ({quote(error)}); the plan below covers every common failure."


async def troubleshoot_pod(args: PodArgs, deps: Deps, env: PlanEnv) -> str:
    path = f"/api/v1/namespaces/{args.namespace}/pods/{args.pod}"
    diagnosis: PodDiagnosis | None = None
    note: str | None = None
    try:
        diagnosis = diagnose_pod(await deps.kube.get_json(path, context=args.context))
    except errors.NotFound:
        await ensure_namespace(deps, args.namespace, args.context)
        note = (
            f"Pod {args.namespace}/{args.pod} does not exist (now): it may have been replaced by its controller "
            "under a new name. Step 1 finds it."
        )
    except (errors.PolicyDenied, errors.ToolInputError):
        raise
    except errors.K8sMcpError as e:
        note = _unreadable(f"pod {args.namespace}/{args.pod}", e)
    return troubleshoot_pod_plan(args.namespace, args.pod, args.context, diagnosis, note, env)


async def restart_failed_pods(args: RestartArgs, deps: Deps, env: PlanEnv) -> str:
    unhealthy: list[PodDiagnosis] | None = None
    note: str | None = None
    try:
        listed = await deps.kube.get_json(
            f"/api/v1/namespaces/{args.namespace}/pods",
            context=args.context,
            query={"limit": deps.settings.list_limit},
        )
        if not listed.get("items"):
            await ensure_namespace(deps, args.namespace, args.context)
        found = [diagnose_pod(pod) for pod in listed.get("items") or []]
        unhealthy = [d for d in found if d.category not in HEALTHY][:25]
    except (errors.PolicyDenied, errors.ToolInputError, errors.NotFound):
        raise
    except errors.K8sMcpError as e:
        note = _unreadable(f"the pods of namespace {args.namespace}", e)
    return restart_failed_pods_plan(args.namespace, args.context, unhealthy, note, env)


SPECS: list[PromptSpec[Any]] = [
    PromptSpec(
        name="cluster_health_check",
        title="Cluster health check",
        description="A step-by-step health check of the cluster (or one namespace): nodes, failing pods, warnings, "
        "workloads below their replicas, storage, API services, Helm releases; ends in a verdict per area.",
        params=ScopeArgs,
        build=_static(cluster_health_plan),
    ),
    PromptSpec(
        name="troubleshoot_pod",
        title="Troubleshoot a pod",
        description="Find why one pod is failing and fix the cause. Reads the pod first, then gives the plan for "
        "its actual failure: CrashLoopBackOff, ImagePullBackOff, Pending, OOMKilled, config errors, not ready.",
        params=PodArgs,
        build=troubleshoot_pod,
    ),
    PromptSpec(
        name="resource_usage_analysis",
        title="Resource usage analysis",
        description="Where CPU and memory go: node headroom, top consumers, usage against requests and limits, "
        "quotas and autoscalers.",
        params=ScopeArgs,
        build=_static(resource_usage_plan),
    ),
    PromptSpec(
        name="security_assessment",
        title="Security assessment",
        description="Check for privileged pods, host namespaces and hostPath mounts, containers running as root, "
        "missing limits, broad RBAC, missing NetworkPolicies and Pod Security labels; findings ranked by severity.",
        params=ScopeArgs,
        build=_static(security_plan),
    ),
    PromptSpec(
        name="performance_optimization",
        title="Performance optimization",
        description="Find workloads held back by CPU throttling, memory pressure, scaling limits or placement, and "
        "propose measured changes.",
        params=ScopeArgs,
        build=_static(performance_plan),
    ),
    PromptSpec(
        name="cost_optimization",
        title="Cost optimization",
        description="Find paid-for but unused capacity (idle nodes, over-sized requests, forgotten replicas) and "
        "orphans (unmounted volumes, idle load balancers, finished jobs), with estimated savings.",
        params=ScopeArgs,
        build=_static(cost_plan),
    ),
    PromptSpec(
        name="restart_failed_pods",
        title="Restart failed pods",
        description="Investigate and restart the failed pods of a namespace: list them (Failed and crash-looping), "
        "find each cause in logs and events, restart only those a restart fixes (with approval), verify.",
        params=RestartArgs,
        build=restart_failed_pods,
    ),
]


def all_prompts() -> list[PromptSpec[Any]]:
    return list(SPECS)
