"""``nodes_drain``: cordon a node, then evict its pods the way ``kubectl drain`` does.

The order makes a refusal change nothing: read the node and its pods, sort every pod first
(DaemonSet and mirror pods are skipped; a pod with emptyDir data is refused unless
``deleteEmptyDirData``, a pod without a controller unless ``force``, all refusals named at once),
and only then cordon and evict. Evictions go through the Eviction API (``policy/v1``, the
``pods/eviction`` subresource), so the API server enforces PodDisruptionBudgets: its 429 answer is
retried every few seconds until ``timeoutSeconds``, and a pod that is still refused then is
reported with the budget that blocked it. An evicted pod counts once it has left the node.

In a preview (confirm-mode approval) the cordon and every eviction are server-side dry runs: the
API server checks each budget and persists nothing, so the preview lists exactly which pods would
be evicted and which would be blocked.

Progress: ``drain_node`` reports through its ``progress`` argument (pods done, pods to evict, a
message), a no-op by default; ``nodes_drain`` hands it the call's notifier (``app.scope.notices``),
and refused or failed evictions are logged there as warnings.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import Field

from app import args as p
from app import errors, output
from app.scope import dry_run_active, notices
from app.shapes import DrainedPod, DrainOutput
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.nodes.maintenance import NODES, patch_unschedulable

#: Seconds between attempts at an eviction a budget refused (kubectl drain waits 5 s too).
RETRY_SECONDS = 5.0
#: Seconds between checks that an evicted pod has left.
GONE_POLL_SECONDS = 1.0
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
_BUDGET = re.compile(r"disruption budget (\S+) needs")

#: Progress of a drain: (pods done, pods to evict, what is happening).
Progress = Callable[[int, int, str], Awaitable[None]]


async def no_progress(done: int, total: int, message: str) -> None:
    """The default ``progress``: report nothing."""


class NodesDrainArgs(p.Args):
    name: p.Name = Field(description="Node name")
    force: bool = Field(False, description="Also evict pods that no controller manages (they will not come back)")
    deleteEmptyDirData: bool = Field(False, description="Also evict pods using emptyDir volumes (their data is lost)")
    gracePeriodSeconds: int | None = Field(
        None, ge=0, description="Seconds each pod gets to terminate (default: the pod's own grace period)"
    )
    timeoutSeconds: int = Field(
        120, ge=1, le=3600, description="Give up after this long, e.g. while a PodDisruptionBudget keeps refusing"
    )
    podSelector: p.LabelSelector = Field(None, description="Only evict pods with these labels, e.g. 'app=web'")
    context: p.Context = None


@dataclass
class Plan:
    """The node's pods, sorted before anything is changed."""

    evict: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[DrainedPod] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _controller(pod: dict[str, Any]) -> dict[str, Any] | None:
    refs = (pod.get("metadata") or {}).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


def plan_drain(pods: list[dict[str, Any]], *, force: bool, delete_emptydir: bool) -> Plan:
    """kubectl drain's filters: mirror and DaemonSet pods skipped; emptyDir and bare pods refused unless allowed.

    Finished pods (Succeeded, Failed) are evicted whatever their volumes or owners, as kubectl does:
    nothing of them is lost.
    """
    plan = Plan()
    for pod in pods:
        meta = pod.get("metadata") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        owner = _controller(pod)
        if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
            plan.skipped.append(DrainedPod(namespace=ns, name=name, outcome="skipped", detail="mirror pod (static)"))
            continue
        if owner is not None and owner.get("kind") == "DaemonSet":
            detail = f"DaemonSet {owner.get('name', '')} pod"
            plan.skipped.append(DrainedPod(namespace=ns, name=name, outcome="skipped", detail=detail))
            continue
        finished = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        volumes = (pod.get("spec") or {}).get("volumes") or []
        problems = []
        if not finished and not delete_emptydir and any("emptyDir" in v for v in volumes):
            problems.append("uses emptyDir, whose data would be lost (deleteEmptyDirData=true evicts it)")
        if not finished and not force and owner is None:
            problems.append("has no controller, so it would not come back (force=true evicts it)")
        if problems:
            plan.refused.append(f"{ns}/{name} {' and '.join(problems)}")
        else:
            plan.evict.append(pod)
    return plan


def budget_of(reason: str, namespace: str) -> str | None:
    """The PodDisruptionBudget named in a refused eviction's message, as namespace/name."""
    match = _BUDGET.search(reason)
    return f"{namespace}/{match.group(1)}" if match else None


async def _pods_on(deps: Deps, node: str, selector: str | None, context: str | None) -> list[dict[str, Any]]:
    pods: list[dict[str, Any]] = []
    query: dict[str, Any] = {
        "fieldSelector": f"spec.nodeName={node}",
        "labelSelector": selector,
        "limit": deps.settings.list_limit,
    }
    while True:
        page = await deps.kube.get_json("/api/v1/pods", context=context, query=query)
        pods += page.get("items") or []
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return pods
        query["continue"] = token


@dataclass
class _Eviction:
    """One pod's eviction, retried while a budget refuses, then watched until the pod has left."""

    deps: Deps
    args: NodesDrainArgs
    deadline: float
    preview: bool
    progress: Progress
    results: list[DrainedPod | None]

    async def report(self, message: str) -> None:
        await self.progress(sum(r is not None for r in self.results), len(self.results), message)

    async def run(self, pod: dict[str, Any]) -> DrainedPod:
        meta = pod.get("metadata") or {}
        ns, name, uid = str(meta.get("namespace")), str(meta.get("name")), meta.get("uid")
        body: dict[str, Any] = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": ns},
        }
        if self.args.gracePeriodSeconds is not None:
            body["deleteOptions"] = {"gracePeriodSeconds": self.args.gracePeriodSeconds}
        path = f"/api/v1/namespaces/{ns}/pods/{name}/eviction"
        while True:
            try:
                await self.deps.kube.request("POST", path, context=self.args.context, body=body)
                break
            except errors.NotFound:
                return DrainedPod(namespace=ns, name=name, outcome="gone", detail="left before it was evicted")
            except errors.KubeError as e:
                if e.status != 429:
                    return DrainedPod(namespace=ns, name=name, outcome="failed", detail=e.reason)
                budget = budget_of(e.reason, ns)
                why = f"PodDisruptionBudget {budget} allows no disruption now" if budget else "the API server said 429"
                if self.preview:
                    return DrainedPod(namespace=ns, name=name, outcome="would block", detail=why, budget=budget)
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    return DrainedPod(namespace=ns, name=name, outcome="blocked", detail=why, budget=budget)
                await notices().log("warning", f"eviction of pod {ns}/{name} refused: {why}; retrying")
                await self.report(f"eviction of {ns}/{name} blocked: {why}; retrying")
                await anyio.sleep(min(RETRY_SECONDS, remaining))
        if self.preview:
            return DrainedPod(namespace=ns, name=name, outcome="would evict", detail="the eviction would be allowed")
        return await self._gone(ns, name, uid)

    async def _gone(self, ns: str, name: str, uid: Any) -> DrainedPod:
        while True:
            try:
                live = await self.deps.kube.get_json(f"/api/v1/namespaces/{ns}/pods/{name}", context=self.args.context)
            except errors.NotFound:
                return DrainedPod(namespace=ns, name=name, outcome="evicted", detail="evicted and gone")
            if (live.get("metadata") or {}).get("uid") != uid:
                return DrainedPod(namespace=ns, name=name, outcome="evicted", detail="evicted (replaced by a new pod)")
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return DrainedPod(
                    namespace=ns, name=name, outcome="blocked", detail="evicted but still terminating at the timeout"
                )
            await anyio.sleep(min(GONE_POLL_SECONDS, remaining))


async def drain_node(args: NodesDrainArgs, deps: Deps, progress: Progress = no_progress) -> DrainOutput:
    """Cordon and evict; raises (one line) when pods are refused up front or are still there at the timeout."""
    preview = dry_run_active()
    node = await deps.kube.get_json(NODES.path(None, args.name), context=args.context)
    was_cordoned = bool((node.get("spec") or {}).get("unschedulable"))
    plan = plan_drain(
        await _pods_on(deps, args.name, args.podSelector, args.context),
        force=args.force,
        delete_emptydir=args.deleteEmptyDirData,
    )
    if plan.refused:
        shown = "; ".join(plan.refused[:10]) + (
            f"; and {len(plan.refused) - 10} more" if len(plan.refused) > 10 else ""
        )
        raise errors.ToolInputError(
            f"{len(plan.refused)} pod{'s' if len(plan.refused) != 1 else ''} cannot be evicted: {shown}; "
            "nothing was changed"
        )
    if not was_cordoned:
        await patch_unschedulable(deps, args.name, args.context, True)
    total = len(plan.evict)
    await progress(0, total, f"node {args.name} cordoned; evicting {total} pods")
    results: list[DrainedPod | None] = [None] * total
    eviction = _Eviction(deps, args, time.monotonic() + args.timeoutSeconds, preview, progress, results)
    failures: list[errors.K8sMcpError] = []

    async def one(index: int, pod: dict[str, Any]) -> None:
        try:
            results[index] = await eviction.run(pod)
        except errors.K8sMcpError as e:  # a policy refusal or an unreachable cluster: the drain stops
            failures.append(e)
            tg.cancel_scope.cancel()
            return
        done = results[index]
        if done is not None:
            if done.outcome in ("blocked", "failed"):
                await notices().log("warning", f"pod {done.namespace}/{done.name} {done.outcome}: {done.detail}")
            await eviction.report(f"{done.namespace}/{done.name} {done.outcome}")

    async with anyio.create_task_group() as tg:
        for index, pod in enumerate(plan.evict):
            tg.start_soon(one, index, pod)
    if failures:
        raise failures[0]
    pods = [r for r in results if r is not None] + plan.skipped
    return DrainOutput(
        node=args.name,
        dryRun=preview,
        wasCordoned=was_cordoned,
        pods=pods,
        evicted=sum(r.outcome in ("evicted", "would evict", "gone") for r in pods),
        blocked=sum(r.outcome in ("blocked", "would block") for r in pods),
        skipped=len(plan.skipped),
        complete=all(r.outcome not in ("blocked", "failed", "would block") for r in pods),
    )


def _summary(data: DrainOutput) -> str:
    cordon = "already cordoned" if data.wasCordoned else ("would be cordoned" if data.dryRun else "cordoned")
    if data.dryRun:
        counts = f"{data.evicted} would be evicted, {data.blocked} would be blocked, {data.skipped} skipped"
        return f"Preview of draining node {data.node} ({cordon}): {counts}."
    return f"Drained node {data.node} ({cordon}): {data.evicted} evicted, {data.skipped} skipped."


def _incomplete(data: DrainOutput, timeout: int) -> errors.KubeError:
    """One line for a drain that did not finish: which pods stayed and why (budget names included)."""
    left = [r for r in data.pods if r.outcome in ("blocked", "failed")]
    described = [f"{r.namespace}/{r.name} {r.outcome}: {r.detail}" for r in left[:5]]
    more = f"; and {len(left) - 5} more" if len(left) > 5 else ""
    tail = f"{data.evicted} evicted, {data.skipped} skipped; node {data.node} stays cordoned (nodes_uncordon undoes it)"
    if any(r.outcome == "blocked" for r in left):
        return errors.Timeout(
            f"timed out after {timeout}s with {len(left)} pod{'s' if len(left) != 1 else ''} not evicted: "
            f"{'; '.join(described)}{more}; {tail}"
        )
    return errors.KubeError(f"{len(left)} pods could not be evicted: {'; '.join(described)}{more}; {tail}")


async def nodes_drain(args: NodesDrainArgs, deps: Deps) -> ToolResult:
    notifier = notices()

    async def progress(done: int, total: int, message: str) -> None:
        await notifier.progress(f"drain {args.name}: {done}/{total} pods done; {message}", done, total)

    data = await drain_node(args, deps, progress)
    if not data.dryRun and not data.complete:
        raise _incomplete(data, args.timeoutSeconds)
    table = output.Table(
        ["NAMESPACE", "POD", "OUTCOME", "DETAIL"], [[r.namespace, r.name, r.outcome, r.detail] for r in data.pods]
    )
    rendered = output.render_table(table, noun="pods", where=f" on node {args.name}", max_chars=100_000)
    text, _ = output.cap_text(
        f"{_summary(data)}\n{rendered.text}", deps.settings.output_max_chars, hint="every pod is in structuredContent"
    )
    return ToolResult(text, data)


SPEC: ToolSpec[Any] = ToolSpec(
    name="nodes_drain",
    title="Drain a node",
    description="Cordon a node, then evict its pods through the Eviction API so PodDisruptionBudgets hold "
    "(kubectl drain). DaemonSet and mirror pods are skipped; pods using emptyDir need deleteEmptyDirData, "
    "pods without a controller need force. A blocked eviction is retried until timeoutSeconds. "
    "Answers a table of pods and outcomes.",
    params=NodesDrainArgs,
    output=DrainOutput,
    handler=nodes_drain,
    action=lambda a: f"drain node {a.name}",
    read_only=False,
    destructive=True,
    idempotent=True,
)
