"""The approval rules applied where changes actually happen: every mutating API request and every Helm object.

The tool pipeline opens a ``Gate`` for a call whose tool the rules can concern and runs the call
twice: first as a server-side dry run that *surveys* (every change the call would make is judged
and noted), then, once the strongest decision is satisfied (allowed, confirmed with a token, or
approved by a human), for real under a gate that *enforces* what was granted. Because the judging
sits in ``Kube.request`` (and the exec stream and Helm's release objects), each object a
multi-document apply or a chart touches is judged on its own, and a ``deny`` stops the survey
before anything was changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from app.errors import PolicyDenied
from app.kinds import plural_of
from app.policy import CLUSTER_SCOPED, READ_VERBS, REVIEW_RESOURCES, Target
from app.rules import STRENGTH, Change, Decision, RuleBook, Verdict

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass
class Gate:
    """The rules' view of one tool call: what the call may be granted, and what it was seen to change."""

    book: RuleBook
    tool: str
    fallback: Decision
    """The decision for a change no rule matches: the server's approval settings for this tool."""
    granted: Decision | None = None
    """None while surveying (the dry run); afterwards the approval the call obtained."""
    seen: list[tuple[Change, Verdict]] = field(default_factory=list)

    def judge(self, change: Change) -> None:
        verdict = self.book.decide(change) or Verdict(self.fallback, None)
        if verdict.decision == "deny":
            raise PolicyDenied(f"{change.describe()} is denied by {verdict.rule}")
        if self.granted is None:
            self.seen.append((change, verdict))
        elif STRENGTH[verdict.decision] > STRENGTH[self.granted]:
            raise PolicyDenied(
                f"{change.describe()} needs {verdict.decision} approval ({verdict.rule or 'server setting'}) "
                f"and this call was approved as {self.granted}; call again without approvalToken"
            )

    def strongest(self) -> Verdict:
        """The verdict that decides the call: the strongest of its changes (allow when it changes nothing)."""
        best = Verdict("allow", None)
        for _, verdict in self.seen:
            stronger = STRENGTH[verdict.decision] > STRENGTH[best.decision]
            if stronger or (verdict.decision == best.decision and best.rule is None):  # a rule, for the audit line
                best = verdict
        return best


current_gate: ContextVar[Gate | None] = ContextVar("approval_gate", default=None)


def gate_active() -> bool:
    return current_gate.get() is not None


def judge_request(method: str, path: str, body: Any = None) -> None:
    """Judge one API request of the current call (a no-op when no gate is open or it only reads)."""
    gate = current_gate.get()
    method = method.upper()
    if gate is None or method in READ_VERBS:
        return
    target = Target.parse(path)
    if target is None or (method == "POST" and target.plural in REVIEW_RESOURCES):
        return
    verb = _VERBS.get(method, method.lower())
    if verb == "delete" and target.name is None:
        verb = "deletecollection"
    obj = body if isinstance(body, dict) else {}
    meta = _mapping(obj.get("metadata"))
    name = target.name or str(meta.get("name") or "")
    kind = str(obj["kind"]) if obj.get("kind") and not target.subresource else None
    # The Namespace object itself is cluster-scoped.
    namespace = "" if target.plural == "namespaces" and target.subresource is None else target.namespace or ""
    gate.judge(Change(gate.tool, verb, target.group, target.plural, kind, target.subresource, namespace, name))


def judge_objects(verb: str, objects: Iterable[dict[str, Any]], *, namespace: str) -> None:
    """Judge the objects a Helm release creates, updates or deletes (its rendered manifest).

    Objects that name no namespace are in the release's, unless their kind is a built-in
    cluster-scoped one (they are then judged with namespace '').
    """
    gate = current_gate.get()
    if gate is None:
        return
    for obj in objects:
        group = str(obj.get("apiVersion") or "").rpartition("/")[0]
        kind = str(obj.get("kind") or "")
        resource = plural_of(kind)
        meta = _mapping(obj.get("metadata"))
        where = "" if resource in CLUSTER_SCOPED else str(meta.get("namespace") or namespace)
        gate.judge(Change(gate.tool, verb, group, resource, kind, None, where, str(meta.get("name") or "")))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
