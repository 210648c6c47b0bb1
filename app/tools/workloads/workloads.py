"""Workload tools: scale (any kind with a /scale subresource) and rollouts of Deployments, StatefulSets
and DaemonSets (restart, status, history, undo), doing what ``kubectl scale`` and ``kubectl rollout`` do.

The decisions live in ``rollout.py`` (pure); these handlers fetch, patch and word the answer.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import anyio
from pydantic import Field

from app import args as p
from app import errors, output
from app.errors import NotFound, ToolInputError
from app.kube.discovery import Resource
from app.scope import dry_run_active, notices
from app.shapes import (
    ChangeOutput,
    Revision,
    RolloutHistoryOutput,
    RolloutStatusOutput,
    RolloutUndoOutput,
    ScaleOutput,
)
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.workloads import rollout
from app.views import ensure_namespace, object_label, scoped_namespace

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"

WORKLOADS = {
    kind: Resource("apps", "v1", kind, kind.lower() + "s", namespaced=True)
    for kind in ("Deployment", "StatefulSet", "DaemonSet")
}
REPLICASETS = Resource("apps", "v1", "ReplicaSet", "replicasets", namespaced=True)
CONTROLLER_REVISIONS = Resource("apps", "v1", "ControllerRevision", "controllerrevisions", namespaced=True)


class ResourcesScaleArgs(p.Args):
    apiVersion: p.ApiVersion
    kind: p.Kind
    name: p.Name
    namespace: p.OptionalNamespace = None
    scale: int | None = Field(None, ge=0, le=100_000, description="Desired replicas; omit to read the current count")
    dryRun: p.DryRun = False
    context: p.Context = None


class RolloutArgs(p.Args):
    kind: p.RolloutKind
    name: p.Name
    namespace: p.OptionalNamespace = None
    context: p.Context = None


class RolloutRestartArgs(RolloutArgs):
    dryRun: p.DryRun = False


class RolloutStatusArgs(RolloutArgs):
    timeoutSeconds: int | None = Field(
        None, ge=1, le=300, description="Wait up to this long for the rollout to finish (default: answer at once)"
    )


class RolloutUndoArgs(RolloutArgs):
    toRevision: int | None = Field(None, ge=1, description="Revision to go back to (default: the previous one)")
    dryRun: p.DryRun = False


async def _get(deps: Deps, resource: Resource, name: str, namespace: str | None, context: str | None) -> Any:
    try:
        return await deps.kube.get_json(resource.path(namespace, name), context=context)
    except NotFound:
        if namespace:
            await ensure_namespace(deps, namespace, context)
        raise


async def resources_scale(args: ResourcesScaleArgs, deps: Deps) -> ToolResult:
    resource = await deps.discovery.resolve(args.apiVersion, args.kind, context=args.context)
    if "scale" not in resource.subresources:
        raise ToolInputError(
            f"{resource.kind} has no scale subresource; scalable kinds include Deployment, StatefulSet, ReplicaSet"
        )
    namespace = scoped_namespace(deps, resource, args.namespace, args.context)
    label = object_label(resource, args.name, namespace)
    before = await _get(deps, resource, f"{args.name}/scale", namespace, args.context)
    desired = int((before.get("spec") or {}).get("replicas") or 0)
    status = before.get("status") or {}
    current, selector = status.get("replicas"), status.get("selector")
    common: dict[str, Any] = {
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "name": args.name,
        "namespace": namespace,
        "selector": selector,
        "current": current,
    }
    if args.scale is None:
        text = f"{label}: {desired} desired replicas, {current or 0} current" + (
            f" (selector {selector})" if selector else ""
        )
        return ToolResult(text, ScaleOutput(replicas=desired, **common))
    preview = args.dryRun or dry_run_active()
    await deps.kube.request(
        "PATCH",
        resource.path(namespace, args.name, "scale"),
        context=args.context,
        query={"fieldManager": deps.settings.field_manager, "dryRun": "All" if args.dryRun else None},
        body={"spec": {"replicas": args.scale}},
        content_type=MERGE,
    )
    if desired == args.scale:
        text = f"{label} already has {desired} desired replicas; nothing changed"
    else:
        verb = "would be scaled" if preview else "scaled"
        text = f"{label} {verb} from {desired} to {args.scale} replicas" + (" (dry run)" if preview else "")
    return ToolResult(text, ScaleOutput(replicas=args.scale, previous=desired, dryRun=preview, **common))


async def resources_rollout_restart(args: RolloutRestartArgs, deps: Deps) -> ToolResult:
    resource = WORKLOADS[args.kind]
    namespace = scoped_namespace(deps, resource, args.namespace, args.context)
    obj = await _get(deps, resource, args.name, namespace, args.context)
    spec = obj.get("spec") or {}
    if spec.get("paused"):
        raise ToolInputError("the deployment is paused; resume it (spec.paused=false) before restarting")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    preview = args.dryRun or dry_run_active()
    await deps.kube.request(
        "PATCH",
        resource.path(namespace, args.name),
        context=args.context,
        query={"fieldManager": deps.settings.field_manager, "dryRun": "All" if args.dryRun else None},
        body={"spec": {"template": {"metadata": {"annotations": {rollout.RESTARTED_AT: stamp}}}}},
        content_type=STRATEGIC,
    )
    detail = None
    if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
        detail = "updateStrategy is OnDelete: pods restart only when they are deleted"
    result = "would be restarted" if preview else "restarted"
    text = f"{object_label(resource, args.name, namespace)} {result}" + (" (dry run)" if preview else "")
    text += f" ({detail})" if detail else "; follow with resources_rollout_status"
    data = ChangeOutput(
        apiVersion="apps/v1",
        kind=args.kind,
        name=args.name,
        namespace=namespace,
        result=result,
        dryRun=preview,
        detail=detail,
    )
    return ToolResult(text, data)


async def resources_rollout_status(args: RolloutStatusArgs, deps: Deps) -> ToolResult:
    resource = WORKLOADS[args.kind]
    namespace = scoped_namespace(deps, resource, args.namespace, args.context)
    deadline = time.monotonic() + (args.timeoutSeconds or 0)
    notifier = notices()
    label = f"{args.kind} {namespace}/{args.name}"
    said: tuple[str, int, int] | None = None
    before: dict[str, Any] | None = None
    reported: dict[str, int] = {}
    while True:
        obj = await _get(deps, resource, args.name, namespace, args.context)
        state, message = rollout.rollout_status(args.kind, obj)
        remaining = deadline - time.monotonic()
        if state != "waiting" or remaining <= 0:
            break
        if notifier.listening:  # while waiting: what changed, as progress and as log lines
            done, total = rollout.rollout_counts(args.kind, obj)
            if said != (message, done, total):
                said = (message, done, total)
                await notifier.progress(f"{done}/{total} rolled out: {message}", done, total)
            for bad, note in rollout.condition_notes(before, obj):
                await notifier.log("warning" if bad else "info", f"{label}: {note}")
            before = obj
            for note in rollout.warning_notes(await _warnings(deps, namespace, args.context), args.name, reported):
                await notifier.log("warning", note)
        await anyio.sleep(min(1.0, remaining))
    if state == "waiting" and args.timeoutSeconds:
        message += f" (still not done after {args.timeoutSeconds}s)"
    data = RolloutStatusOutput(
        apiVersion="apps/v1", kind=args.kind, name=args.name, namespace=namespace, done=state == "done", message=message
    )
    return ToolResult(message, data)


async def _warnings(deps: Deps, namespace: str | None, context: str | None) -> list[dict[str, Any]]:
    """The namespace's Warning events (for a rollout someone is watching); none when they cannot be read."""
    try:
        listed = await deps.kube.get_json(
            f"/api/v1/namespaces/{namespace}/events",
            context=context,
            query={"fieldSelector": "type=Warning", "limit": deps.settings.list_limit},
        )
    except errors.K8sMcpError:  # events are a courtesy: a rollout status never fails for them
        return []
    return list(listed.get("items") or [])


async def _history(
    deps: Deps, kind: str, obj: dict[str, Any], namespace: str | None, context: str | None
) -> list[rollout.RevisionInfo]:
    selector = (obj.get("spec") or {}).get("selector") or {}
    labels = selector.get("matchLabels") or {}
    query = {"labelSelector": ",".join(f"{k}={v}" for k, v in labels.items())}
    if selector.get("matchExpressions"):
        query = {}  # filter by owner below instead of translating expressions
    source = REPLICASETS if kind == "Deployment" else CONTROLLER_REVISIONS
    listed = await deps.kube.get_json(source.path(namespace), context=context, query=query)
    items = listed.get("items") or []
    if kind == "Deployment":
        return rollout.deployment_revisions(obj, items)
    return rollout.controller_revisions(obj, items)


async def resources_rollout_history(args: RolloutArgs, deps: Deps) -> ToolResult:
    resource = WORKLOADS[args.kind]
    namespace = scoped_namespace(deps, resource, args.namespace, args.context)
    obj = await _get(deps, resource, args.name, namespace, args.context)
    revisions = await _history(deps, args.kind, obj, namespace, args.context)
    current = rollout.current_revision(args.kind, obj, revisions)
    items = [
        Revision(
            revision=r.revision,
            current=r.revision == current,
            name=r.name,
            changeCause=r.change_cause,
            images=r.images,
        )
        for r in revisions
    ]
    table = output.Table(
        ["REVISION", "IMAGES", "CHANGE-CAUSE"], [[i.revision, ",".join(i.images), i.changeCause] for i in items]
    )
    where = f" for {object_label(resource, args.name, namespace)}"
    text = output.render_table(table, noun="revisions", where=where, max_chars=deps.settings.output_max_chars).text
    if items:
        text += f"\ncurrent revision: {current if current is not None else 'unknown'}"
    data = RolloutHistoryOutput(
        apiVersion="apps/v1", kind=args.kind, name=args.name, namespace=namespace, revisions=items
    )
    return ToolResult(text, data)


async def resources_rollout_undo(args: RolloutUndoArgs, deps: Deps) -> ToolResult:
    resource = WORKLOADS[args.kind]
    namespace = scoped_namespace(deps, resource, args.namespace, args.context)
    label = object_label(resource, args.name, namespace)
    obj = await _get(deps, resource, args.name, namespace, args.context)
    spec = obj.get("spec") or {}
    if spec.get("paused"):
        raise ToolInputError("the deployment is paused; resume it (spec.paused=false) before rolling back")
    revisions = await _history(deps, args.kind, obj, namespace, args.context)
    current = rollout.current_revision(args.kind, obj, revisions)
    target = rollout.undo_target(revisions, current, args.toRevision)
    preview = args.dryRun or dry_run_active()
    common: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": args.kind,
        "name": args.name,
        "namespace": namespace,
        "fromRevision": current,
        "toRevision": target.revision,
        "dryRun": preview,
    }
    template = rollout.without_hash(target.template)
    if rollout.without_hash(spec.get("template") or {}) == template:
        text = f"skipped rollback: {label} already runs the template of revision {target.revision}"
        return ToolResult(text, RolloutUndoOutput(changed=False, **common))
    body: Any
    if args.kind == "Deployment":
        annotations = dict((obj.get("metadata") or {}).get("annotations") or {})
        for key, value in ((target.source.get("metadata") or {}).get("annotations") or {}).items():
            if key not in rollout.RS_ONLY_ANNOTATIONS:
                annotations[key] = value
        body = [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "add", "path": "/metadata/annotations", "value": annotations},
        ]
        content_type = JSON_PATCH
    else:
        body, content_type = target.source.get("data") or {}, STRATEGIC
    await deps.kube.request(
        "PATCH",
        resource.path(namespace, args.name),
        context=args.context,
        query={"fieldManager": deps.settings.field_manager, "dryRun": "All" if args.dryRun else None},
        body=body,
        content_type=content_type,
    )
    verb = "would be rolled back" if preview else "rolled back"
    text = f"{label} {verb} from revision {current} to revision {target.revision}" + (" (dry run)" if preview else "")
    return ToolResult(text, RolloutUndoOutput(changed=True, **common))


def _target(a: Any) -> str:
    return f"{a.kind} {(a.namespace + '/') if a.namespace else ''}{a.name}"


def _rollout_spec(
    name: str, title: str, description: str, params: type[RolloutArgs], action: str, **kw: Any
) -> ToolSpec[Any]:
    return ToolSpec(
        name=name, title=title, description=description, params=params, action=lambda a: f"{action} {_target(a)}", **kw
    )


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="resources_scale",
        title="Read or set the replicas of a scalable resource",
        description="Read (omit 'scale') or set (pass 'scale') the desired replicas of a Deployment, StatefulSet, "
        "ReplicaSet or any kind with a scale subresource.",
        params=ResourcesScaleArgs,
        output=ScaleOutput,
        handler=resources_scale,
        action=lambda a: f"scale {_target(a)}" if a.scale is not None else f"read the scale of {_target(a)}",
        read_only=False,
        destructive=True,
        idempotent=True,
    ),
    _rollout_spec(
        "resources_rollout_restart",
        "Restart a rollout",
        "Restart the pods of a Deployment, StatefulSet or DaemonSet by a new rollout (as `kubectl rollout restart`).",
        RolloutRestartArgs,
        "restart",
        handler=resources_rollout_restart,
        output=ChangeOutput,
        read_only=False,
        destructive=True,
        idempotent=False,
    ),
    _rollout_spec(
        "resources_rollout_status",
        "Rollout status",
        "One line saying whether a Deployment, StatefulSet or DaemonSet finished rolling out; timeoutSeconds "
        "waits (bounded) for it to finish.",
        RolloutStatusArgs,
        "get the rollout status of",
        handler=resources_rollout_status,
        output=RolloutStatusOutput,
        read_only=True,
        idempotent=True,
    ),
    _rollout_spec(
        "resources_rollout_history",
        "Rollout history",
        "Revisions of a Deployment (its ReplicaSets) or StatefulSet/DaemonSet (its ControllerRevisions) with "
        "images and change-cause; the current one is marked.",
        RolloutArgs,
        "get the rollout history of",
        handler=resources_rollout_history,
        output=RolloutHistoryOutput,
        read_only=True,
        idempotent=True,
    ),
    _rollout_spec(
        "resources_rollout_undo",
        "Undo a rollout",
        "Roll a Deployment, StatefulSet or DaemonSet back to its previous revision, or to toRevision "
        "(see resources_rollout_history).",
        RolloutUndoArgs,
        "undo the rollout of",
        handler=resources_rollout_undo,
        output=RolloutUndoOutput,
        read_only=False,
        destructive=True,
        idempotent=False,
    ),
]
