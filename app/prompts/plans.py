"""Pure building blocks of the prompt plans: steps, tool calls with example arguments, server notes.

A plan is a numbered list of steps; a step says why, which tool to call with which arguments, and
what to look for in the answer. Tool calls are written the way the model will make them
(``pods_log(name="web-1", namespace="prod", previous=true)``), with the caller's context threaded
through every call. The closing notes are computed from how this server runs (``PlanEnv``): tools a
plan names but the server does not offer, and how approval of changes works here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.spec import ToolSpec


@dataclass(frozen=True)
class PlanEnv:
    """How this server runs, as far as a plan needs to know.

    ``known`` is every tool a plan may name and ``changing`` those of them that change the cluster:
    both come from the tool catalog plans are written for (the default profile), handed in by the
    server, since prompts sit beside the tools and never import them. ``tools`` is what this
    server offers right now (its profile, toolsets and policy applied).
    """

    known: frozenset[str]
    changing: frozenset[str]
    tools: frozenset[str]
    read_only: bool = False
    destructive: bool = True
    approval: str = "none"
    approval_scope: str = "destructive"
    approval_ttl: int = 300

    @classmethod
    def for_catalog(cls, catalog: Iterable[ToolSpec[Any]], **how: Any) -> PlanEnv:
        """Plans over ``catalog``; every tool of it offered unless ``tools`` is given."""
        specs = list(catalog)
        names = frozenset(spec.name for spec in specs)
        changing = frozenset(spec.name for spec in specs if not spec.read_only)
        return cls(**{"known": names, "changing": changing, "tools": names, **how})


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(", ", ": "))


def call(tool: str, context: str | None = None, **arguments: Any) -> str:
    """``tool(a="x", b=2)``: arguments in the given order, ``None`` left out, context last when set."""
    if context:
        arguments["context"] = context
    shown = ", ".join(f"{k}={_value(v)}" for k, v in arguments.items() if v is not None)
    return f"{tool}({shown})"


@dataclass
class Step:
    text: str
    calls: tuple[str, ...] = ()
    look: str = ""


@dataclass
class Plan:
    title: str
    goal: str
    scope: str
    steps: list[Step] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)
    observed_note: str = ""
    report: str = ""
    notes: list[str] = field(default_factory=list)

    def step(self, text: str, *calls: str, look: str = "") -> Plan:
        self.steps.append(Step(text, calls, look))
        return self

    def named_tools(self, known: frozenset[str]) -> list[str]:
        text = "\n".join(" ".join((s.text, *s.calls, s.look)) for s in self.steps)
        return sorted(t for t in known if f"{t}(" in text)

    def render(self, env: PlanEnv) -> str:
        lines = [f"# {self.title}", "", f"Goal: {self.goal}", f"Scope: {self.scope}"]
        if self.observed_note or self.observed:
            lines += ["", self.observed_note or "What the server saw just now:"]
            lines += [f"- {fact}" for fact in self.observed]
        lines += ["", "Plan:"]
        for number, step in enumerate(self.steps, 1):
            lines.append(f"{number}. {step.text}")
            lines += [f"   Call: {c}" for c in step.calls]
            if step.look:
                lines.append(f"   Look for: {step.look}")
        if self.report:
            lines += ["", f"Report: {self.report}"]
        notes = self.notes + server_notes(self.named_tools(env.known), env)
        if notes:
            lines += ["", "Notes:"] + [f"- {n}" for n in notes]
        return "\n".join(lines) + "\n"


def scope_line(namespace: str | None, context: str | None) -> str:
    where = f"namespace {namespace}" if namespace else "all namespaces"
    return f"{where}; context {context or 'the server default'}."


def server_notes(named: list[str], env: PlanEnv) -> list[str]:
    """What the model must know about this server to follow the plan."""
    notes: list[str] = []
    missing = [t for t in named if t not in env.tools]
    if missing:
        why = []
        hidden_changes = any(t in env.changing for t in missing)
        if hidden_changes and env.read_only:
            why.append("the server is read-only, so tools that change the cluster are hidden")
        elif hidden_changes and not env.destructive:
            why.append("destructive operations are disabled, so deleting and exec tools are hidden")
        reason = f" ({'; '.join(why)})" if why else ""
        notes.append(
            f"Not offered by this server right now{reason}: {', '.join(missing)}. Skip those calls and tell the "
            "user what you would have done, or use the other tools named in the same step."
        )
    changing = [t for t in named if t in env.changing and t in env.tools]
    if changing:
        notes.append(approval_note(env))
    return notes


def approval_note(env: PlanEnv) -> str:
    scope = "every change" if env.approval_scope == "changes" else "destructive calls (pods_delete, ...)"
    if env.approval == "confirm":
        return (
            f"Approval on this server covers {scope}: the first call only previews the change (a server-side dry run) "
            'and returns an approvalToken. Show the user what will change, wait for an explicit "yes", then repeat '
            f"the same call with the same arguments plus approvalToken (one token per call, valid "
            f"{env.approval_ttl}s). Never pass a token the user has not approved."
        )
    if env.approval == "elicit":
        return (
            f"Approval on this server covers {scope}: the server asks the human through your client before each "
            "one runs; a refusal is final for that call, so stop and report instead of retrying."
        )
    return (
        "This server applies changes without asking anyone: before any call that changes the cluster, list what "
        "you will change and get the user's explicit agreement yourself."
    )


def workload_of(owner: str | None) -> tuple[str, str] | None:
    """The workload to fix for a pod's owner: ReplicaSet 'web-5d9c8' -> ('Deployment', 'web')."""
    if not owner or "/" not in owner:
        return None
    kind, name = owner.split("/", 1)
    if kind == "ReplicaSet" and "-" in name:
        return "Deployment", name.rsplit("-", 1)[0]
    if kind in {"StatefulSet", "DaemonSet", "Job", "Deployment"}:
        return kind, name
    return None
