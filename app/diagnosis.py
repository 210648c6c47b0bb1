"""Pure reading of a Pod's status: what is wrong with it, in the words a troubleshooting plan branches on.

The troubleshooting and restart prompts read the live pod (through ``Kube``) and hand the JSON here;
this module decides the one *primary* failure (the reason the plan is tailored to) plus the facts
that support it. Messages quoted from the cluster are squeezed to one short line: they are data,
and a plan must not carry a page of someone's log line (or instructions planted in it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Category = Literal[
    "OOMKilled",
    "ImagePullBackOff",
    "CrashLoopBackOff",
    "ConfigError",
    "Pending",
    "Failed",
    "NotReady",
    "Terminating",
    "Succeeded",
    "Healthy",
]

IMAGE_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"}
)
CONFIG_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
QUOTE_MAX = 200


def quote(text: object, limit: int = QUOTE_MAX) -> str:
    """One line, at most ``limit`` characters: safe to embed in a plan."""
    squeezed = " ".join(str(text or "").split())
    return squeezed if len(squeezed) <= limit else squeezed[: limit - 1] + "…"


@dataclass(frozen=True)
class ContainerState:
    name: str
    init: bool
    restarts: int
    ready: bool
    waiting: str | None = None
    waiting_message: str = ""
    terminated: str | None = None
    exit_code: int | None = None
    last_terminated: str | None = None
    last_exit_code: int | None = None
    image: str = ""


@dataclass(frozen=True)
class PodDiagnosis:
    name: str
    namespace: str
    category: Category
    phase: str
    node: str | None
    restarts: int
    owner: str | None
    """'ReplicaSet/web-5d9c' style, or None for a bare pod (deleting it deletes it for good)."""
    container: str | None
    """The container the primary failure is about, when there is one."""
    facts: list[str] = field(default_factory=list)
    also: list[Category] = field(default_factory=list)
    """Other failures seen at the same time (an OOM behind a crash loop, ...)."""


def _states(status: dict[str, Any], spec: dict[str, Any]) -> list[ContainerState]:
    declared = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    images = {c.get("name"): c.get("image", "") for c in declared}
    out: list[ContainerState] = []
    for init, key in ((True, "initContainerStatuses"), (False, "containerStatuses")):
        for cs in status.get(key) or []:
            state = cs.get("state") or {}
            last = (cs.get("lastState") or {}).get("terminated") or {}
            waiting = state.get("waiting") or {}
            terminated = state.get("terminated") or {}
            out.append(
                ContainerState(
                    name=str(cs.get("name", "")),
                    init=init,
                    restarts=int(cs.get("restartCount") or 0),
                    ready=bool(cs.get("ready")),
                    waiting=waiting.get("reason") if waiting else None,
                    waiting_message=quote(waiting.get("message", "")),
                    terminated=(terminated.get("reason") or "Terminated") if terminated else None,
                    exit_code=terminated.get("exitCode") if terminated else None,
                    last_terminated=(last.get("reason") or "Terminated") if last else None,
                    last_exit_code=last.get("exitCode") if last else None,
                    image=str(cs.get("image") or images.get(cs.get("name")) or ""),
                )
            )
    return out


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return {}


def _owner(meta: dict[str, Any]) -> str | None:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller", True):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return None


def _describe(c: ContainerState) -> str:
    label = f"{'init container' if c.init else 'container'} {c.name}"
    parts: list[str] = []
    if c.waiting:
        parts.append(f"waiting: {c.waiting}" + (f" ({c.waiting_message})" if c.waiting_message else ""))
    if c.terminated:
        parts.append(f"terminated: {c.terminated}, exit code {c.exit_code}")
    if c.last_terminated:
        parts.append(f"last termination: {c.last_terminated}, exit code {c.last_exit_code}")
    if c.restarts:
        parts.append(f"{c.restarts} restarts")
    if not parts:
        parts.append("ready" if c.ready else "not ready")
    return f"{label}: " + "; ".join(parts)


def _classify(phase: str, states: list[ContainerState], scheduled: dict[str, Any]) -> list[tuple[Category, str | None]]:
    """Every failure seen, most specific first."""
    found: list[tuple[Category, str | None]] = []
    for c in states:
        if "OOMKilled" in (c.terminated, c.last_terminated):
            found.append(("OOMKilled", c.name))
    for c in states:
        if c.waiting in IMAGE_REASONS:
            found.append(("ImagePullBackOff", c.name))
        elif c.waiting in CONFIG_REASONS:
            found.append(("ConfigError", c.name))
    for c in states:
        crashed = c.terminated not in (None, "Completed") and c.restarts > 0
        if c.waiting == "CrashLoopBackOff" or crashed:
            found.append(("CrashLoopBackOff", c.name))
    if (phase == "Pending" and not states) or scheduled.get("status") == "False":
        found.append(("Pending", None))
    if phase == "Failed":
        found.append(("Failed", None))
    return found


def diagnose_pod(pod: dict[str, Any]) -> PodDiagnosis:
    """The primary failure of ``pod`` (a Pod as the API returns it) and the facts behind it."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    phase = str(status.get("phase") or "Unknown")
    states = _states(status, spec)
    scheduled = _condition(status, "PodScheduled")
    ready = _condition(status, "Ready")
    facts = [f"phase: {phase}" + (f" ({quote(status.get('reason'))})" if status.get("reason") else "")]
    if status.get("message"):
        facts.append(f"pod message: {quote(status['message'])}")
    facts.append(f"node: {spec.get('nodeName') or 'not scheduled'}")
    if scheduled.get("status") == "False":
        facts.append(f"PodScheduled=False: {quote(scheduled.get('reason'))}: {quote(scheduled.get('message'))}")
    if spec.get("nodeSelector"):
        selector = ", ".join(f"{k}={v}" for k, v in sorted(spec["nodeSelector"].items()))
        facts.append(f"nodeSelector: {quote(selector)}")
    facts += [_describe(c) for c in states]
    owner = _owner(meta)
    facts.append(f"owner: {owner}" if owner else "owner: none (a bare pod: deleting it removes it for good)")
    found = _classify(phase, states, scheduled)
    category: Category
    container: str | None = None
    if meta.get("deletionTimestamp"):
        category = "Terminating"
        facts.append(f"deletion requested at {meta['deletionTimestamp']}")
    elif found:
        category, container = found[0]
    elif phase == "Succeeded":
        category = "Succeeded"
    elif phase == "Running" and ready.get("status") != "True":
        category = "NotReady"
        not_ready = [c.name for c in states if not c.ready]
        container = not_ready[0] if not_ready else None
    elif phase == "Pending":
        category = "Pending"
    else:
        category = "Healthy"
    also: list[Category] = []
    for other, _ in found:
        if other != category and other not in also:
            also.append(other)
    return PodDiagnosis(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        category=category,
        phase=phase,
        node=spec.get("nodeName"),
        restarts=sum(c.restarts for c in states),
        owner=owner,
        container=container,
        facts=facts,
        also=also,
    )
