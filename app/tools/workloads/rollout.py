"""Pure rollout logic: status lines as ``kubectl rollout status`` words them, revisions, undo targets.

No I/O here: the handlers in ``workloads.py`` fetch objects and pass them in, so every decision
(is the rollout done? which revision is previous? does the template already match? what changed
while waiting: counts, conditions, warning events) is unit-tested.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

from app.errors import ToolInputError

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
#: Annotations of a ReplicaSet that describe the ReplicaSet, not the rollout (kubectl skips them on undo).
RS_ONLY_ANNOTATIONS = frozenset(
    {
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "kubectl.kubernetes.io/last-applied-configuration",
    }
)

State = Literal["done", "waiting", "failed"]


def rollout_status(kind: str, obj: dict[str, Any]) -> tuple[State, str]:
    """Where a rollout stands, as one line (the words of ``kubectl rollout status``)."""
    if kind == "Deployment":
        return _deployment_status(obj)
    if kind == "StatefulSet":
        return _statefulset_status(obj)
    return _daemonset_status(obj)


def _gen(obj: dict[str, Any]) -> tuple[int, int]:
    return int(obj.get("metadata", {}).get("generation") or 0), int(
        obj.get("status", {}).get("observedGeneration") or 0
    )


def _deployment_status(obj: dict[str, Any]) -> tuple[State, str]:
    name = obj["metadata"]["name"]
    generation, observed = _gen(obj)
    if generation > observed:
        return "waiting", "Waiting for deployment spec update to be observed..."
    status = obj.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return "failed", f'deployment "{name}" exceeded its progress deadline'
    desired = int((obj.get("spec") or {}).get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if updated < desired:
        return "waiting", f"{waiting}{updated} out of {desired} new replicas have been updated..."
    if total > updated:
        return "waiting", f"{waiting}{total - updated} old replicas are pending termination..."
    if available < updated:
        return "waiting", f"{waiting}{available} of {updated} updated replicas are available..."
    return "done", f'deployment "{name}" successfully rolled out'


def _strategy(obj: dict[str, Any]) -> dict[str, Any]:
    strategy: dict[str, Any] = (obj.get("spec") or {}).get("updateStrategy") or {}
    return strategy


def _statefulset_status(obj: dict[str, Any]) -> tuple[State, str]:
    strategy = _strategy(obj)
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return "failed", "rollout status is only available for RollingUpdate strategy type"
    generation, observed = _gen(obj)
    if observed == 0 or generation > observed:
        return "waiting", "Waiting for statefulset spec update to be observed..."
    status = obj.get("status") or {}
    desired = int((obj.get("spec") or {}).get("replicas", 1))
    ready = int(status.get("readyReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    if ready < desired:
        return "waiting", f"Waiting for {desired - ready} pods to be ready..."
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    if partition > 0:
        if updated < desired - partition:
            return (
                "waiting",
                f"Waiting for partitioned roll out to finish: {updated} out of {desired - partition} "
                "new pods have been updated...",
            )
        return "done", f"partitioned roll out complete: {updated} new pods have been updated..."
    update_rev, current_rev = status.get("updateRevision"), status.get("currentRevision")
    if update_rev != current_rev:
        return (
            "waiting",
            f"waiting for statefulset rolling update to complete {updated} pods at revision {update_rev}...",
        )
    current = int(status.get("currentReplicas") or 0)
    return "done", f"statefulset rolling update complete {current} pods at revision {current_rev}..."


def _daemonset_status(obj: dict[str, Any]) -> tuple[State, str]:
    name = obj["metadata"]["name"]
    if _strategy(obj).get("type", "RollingUpdate") != "RollingUpdate":
        return "failed", "rollout status is only available for RollingUpdate strategy type"
    generation, observed = _gen(obj)
    if generation > observed:
        return "waiting", "Waiting for daemon set spec update to be observed..."
    status = obj.get("status") or {}
    desired = int(status.get("desiredNumberScheduled") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    available = int(status.get("numberAvailable") or 0)
    waiting = f'Waiting for daemon set "{name}" rollout to finish: '
    if updated < desired:
        return "waiting", f"{waiting}{updated} out of {desired} new pods have been updated..."
    if available < desired:
        return "waiting", f"{waiting}{available} of {desired} updated pods are available..."
    return "done", f'daemon set "{name}" successfully rolled out'


def rollout_counts(kind: str, obj: dict[str, Any]) -> tuple[int, int]:
    """(replicas or pods rolled out: updated and available, how many there should be), for progress."""
    status = obj.get("status") or {}
    if kind == "DaemonSet":
        done = min(int(status.get("updatedNumberScheduled") or 0), int(status.get("numberAvailable") or 0))
        return done, int(status.get("desiredNumberScheduled") or 0)
    desired = int((obj.get("spec") or {}).get("replicas", 1))
    ready = "availableReplicas" if kind == "Deployment" else "readyReplicas"
    done = min(int(status.get("updatedReplicas") or 0), int(status.get(ready) or 0))
    return min(done, desired), desired


#: Conditions whose ``False`` status is bad news (for the others, ``True`` is: ReplicaFailure).
_GOOD_WHEN_TRUE = frozenset({"Available", "Progressing"})


def condition_notes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[tuple[bool, str]]:
    """The conditions of ``after`` that are new or changed since ``before``: (is it bad news, one line)."""
    seen = {c.get("type"): c for c in ((before or {}).get("status") or {}).get("conditions") or []}
    notes = []
    for cond in (after.get("status") or {}).get("conditions") or []:
        kind = cond.get("type")
        key = ("status", "reason", "message")
        old = seen.get(kind)
        if old is not None and all(old.get(k) == cond.get(k) for k in key):
            continue
        good = (cond.get("status") == "True") == (kind in _GOOD_WHEN_TRUE)
        reason = f" ({cond['reason']})" if cond.get("reason") else ""
        message = f": {cond['message']}" if cond.get("message") else ""
        notes.append((not good, f"condition {kind}={cond.get('status')}{reason}{message}"))
    return notes


def warning_notes(events: list[dict[str, Any]], name: str, seen: dict[str, int]) -> list[str]:
    """Warning events of the workload and its ReplicaSets and pods (named ``<name>-...``) not reported yet.

    ``seen`` (event uid -> count) is updated, so an event is reported again only when it recurs.
    """
    notes = []
    for event in events:
        involved = event.get("involvedObject") or {}
        target = str(involved.get("name") or "")
        if event.get("type") != "Warning" or not (target == name or target.startswith(name + "-")):
            continue
        uid = str((event.get("metadata") or {}).get("uid") or "")
        count = int(event.get("count") or (event.get("series") or {}).get("count") or 1)
        if seen.get(uid) == count:
            continue
        seen[uid] = count
        message = " ".join(str(event.get("message") or "").split())
        notes.append(f"{involved.get('kind', 'object')} {target}: {event.get('reason', 'Warning')}: {message}")
    return notes


@dataclass(frozen=True)
class RevisionInfo:
    revision: int
    name: str
    change_cause: str | None
    template: dict[str, Any]
    source: dict[str, Any]
    """The ReplicaSet or ControllerRevision itself."""

    @property
    def images(self) -> list[str]:
        containers = (self.template.get("spec") or {}).get("containers") or []
        return [str(c.get("image", "")) for c in containers]


def owned_by(obj: dict[str, Any], uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in (obj.get("metadata") or {}).get("ownerReferences") or [])


def deployment_revisions(deployment: dict[str, Any], replicasets: list[dict[str, Any]]) -> list[RevisionInfo]:
    """The Deployment's revisions, oldest first, from the ReplicaSets it owns."""
    uid = deployment["metadata"]["uid"]
    out = []
    for rs in replicasets:
        annotations = (rs.get("metadata") or {}).get("annotations") or {}
        if not owned_by(rs, uid) or REVISION not in annotations:
            continue
        template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
        out.append(
            RevisionInfo(
                int(annotations[REVISION]), rs["metadata"]["name"], annotations.get(CHANGE_CAUSE), template, rs
            )
        )
    return sorted(out, key=lambda r: r.revision)


def controller_revisions(owner: dict[str, Any], revisions: list[dict[str, Any]]) -> list[RevisionInfo]:
    """A StatefulSet's or DaemonSet's revisions, oldest first, from its ControllerRevisions."""
    uid = owner["metadata"]["uid"]
    out = []
    for cr in revisions:
        if not owned_by(cr, uid):
            continue
        template = copy.deepcopy(((cr.get("data") or {}).get("spec") or {}).get("template") or {})
        template.pop("$patch", None)
        annotations = (cr.get("metadata") or {}).get("annotations") or {}
        out.append(
            RevisionInfo(
                int(cr.get("revision") or 0), cr["metadata"]["name"], annotations.get(CHANGE_CAUSE), template, cr
            )
        )
    return sorted(out, key=lambda r: r.revision)


def current_revision(kind: str, obj: dict[str, Any], revisions: list[RevisionInfo]) -> int | None:
    """The revision the object runs now."""
    if kind == "Deployment":
        template = without_hash((obj.get("spec") or {}).get("template") or {})
        matching = [r.revision for r in revisions if without_hash(r.template) == template]
        if matching:  # the controller's revision annotation lags a change by a moment; the template does not
            return max(matching)
        value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
        return int(value) if value else None
    if kind == "StatefulSet":
        name = (obj.get("status") or {}).get("updateRevision")
        for r in revisions:
            if r.name == name:
                return r.revision
    return revisions[-1].revision if revisions else None


def undo_target(revisions: list[RevisionInfo], current: int | None, to_revision: int | None) -> RevisionInfo:
    """The revision to go back to: ``to_revision``, or the newest one before the current."""
    if not revisions:
        raise ToolInputError("no rollout history found")
    if to_revision:
        for r in revisions:
            if r.revision == to_revision:
                return r
        known = ", ".join(str(r.revision) for r in revisions)
        raise ToolInputError(f"revision {to_revision} not found in the history (revisions: {known})")
    newest = current if current is not None else revisions[-1].revision
    older = [r for r in revisions if r.revision < newest]
    if not older:
        raise ToolInputError(f"no revision before the current one ({newest}) to roll back to")
    return older[-1]


def without_hash(template: dict[str, Any]) -> dict[str, Any]:
    """A pod template without the ReplicaSet's pod-template-hash label (for comparing and restoring)."""
    out = copy.deepcopy(template)
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return out
