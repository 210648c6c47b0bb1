"""Pure per-kind summaries for ``resources_describe``: the lines of ``kubectl describe``, compact.

Pods (status, node, containers with state and restarts), workloads (replica counts, strategy,
containers), Services, Nodes, ConfigMaps and Secrets (keys and sizes, never values) and, for any
other kind, spec and status as short YAML. Conditions are listed as type=status, with the reason only
where a condition is unhealthy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app import output, redaction
from app.shapes import EventItem

SPEC_CHARS = 1500
ANNOTATION_CHARS = 120

Sections = list[tuple[str, str]]


def _kv(mapping: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (mapping or {}).items()) or "<none>"


def _healthy(cond: dict[str, Any]) -> bool:
    """Conditions like MemoryPressure or ReplicaFailure are healthy when False; the rest when True."""
    negative = str(cond.get("type", "")).endswith(("Pressure", "Unavailable", "Failure", "Failed"))
    return (cond.get("status") == "False") if negative else (cond.get("status") == "True")


def _conditions(status: dict[str, Any]) -> str | None:
    """type=status for each condition; reason and message only where the condition is unhealthy."""
    conds = status.get("conditions") or []
    if not conds:
        return None
    parts = []
    for c in conds:
        text = f"{c.get('type')}={c.get('status')}"
        if not _healthy(c) and (c.get("reason") or c.get("message")):
            text += f" ({c.get('reason', '')}{': ' + c['message'] if c.get('message') else ''})"
        parts.append(text)
    return "; ".join(parts)


def _containers(template_spec: dict[str, Any]) -> str:
    lines = []
    for c in (template_spec.get("initContainers") or []) + (template_spec.get("containers") or []):
        ports = ",".join(f"{x.get('containerPort')}/{x.get('protocol', 'TCP')}" for x in c.get("ports") or [])
        extra = f" ports {ports}" if ports else ""
        limits = (c.get("resources") or {}).get("limits")
        extra += f" limits {_kv(limits)}" if limits else ""
        lines.append(f"  {c.get('name')}: {c.get('image')}{extra}")
    return "\n" + "\n".join(lines) if lines else "<none>"


def _state(state: dict[str, Any], now: datetime) -> str:
    if "running" in state:
        return f"Running (since {output.human_age(state['running'].get('startedAt'), now)})"
    if "waiting" in state:
        w = state["waiting"]
        return f"Waiting ({w.get('reason', '')}{': ' + w['message'] if w.get('message') else ''})"
    if "terminated" in state:
        t = state["terminated"]
        return f"Terminated ({t.get('reason', '')}, exit {t.get('exitCode')})"
    return "<unknown>"


def _pod(obj: dict[str, Any], now: datetime) -> Sections:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    phase = status.get("phase", "<unknown>") + (f" ({status['reason']})" if status.get("reason") else "")
    out: Sections = [
        ("Status", phase),
        ("Node", f"{spec.get('nodeName', '<none>')} (IP {status.get('podIP', '<none>')})"),
        ("QoS", status.get("qosClass", "<none>")),
    ]
    statuses = {
        s["name"]: s for s in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    }
    lines = []
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        s = statuses.get(c["name"], {})
        ready = str(s.get("ready", False)).lower()
        state = _state(s.get("state") or {}, now)
        line = f"  {c['name']}: {c.get('image')} | {state} | ready={ready} | restarts={s.get('restartCount', 0)}"
        last = (s.get("lastState") or {}).get("terminated")
        if last:
            line += f" | last: {last.get('reason', '')} exit {last.get('exitCode')}"
        lines.append(line)
    out.append(("Containers", "\n" + "\n".join(lines) if lines else "<none>"))
    return out


def _counts(status: dict[str, Any], fields: list[tuple[str, str]]) -> str:
    return " | ".join(f"{status.get(key, 0)} {word}" for key, word in fields)


REPLICA_FIELDS = [("updatedReplicas", "updated"), ("replicas", "total"), ("readyReplicas", "ready")]
REPLICA_FIELDS += [("availableReplicas", "available")]
DAEMON_FIELDS = [("desiredNumberScheduled", "desired"), ("currentNumberScheduled", "current")]
DAEMON_FIELDS += [("numberReady", "ready"), ("updatedNumberScheduled", "updated"), ("numberAvailable", "available")]


def _workload(obj: dict[str, Any]) -> Sections:
    kind, spec, status = obj.get("kind"), obj.get("spec") or {}, obj.get("status") or {}
    if kind == "DaemonSet":
        out: Sections = [("Pods", _counts(status, DAEMON_FIELDS))]
    else:
        counts = f"{spec.get('replicas', 1)} desired | " + _counts(status, REPLICA_FIELDS)
        if status.get("unavailableReplicas"):
            counts += f" | {status['unavailableReplicas']} unavailable"
        out = [("Replicas", counts)]
    out.append(("Selector", _kv((spec.get("selector") or {}).get("matchLabels"))))
    strategy = spec.get("strategy") or spec.get("updateStrategy")
    if strategy:
        rolling = strategy.get("rollingUpdate")
        out.append(("Strategy", strategy.get("type", "") + (f" ({_kv(rolling)})" if rolling else "")))
    template = (spec.get("template") or {}).get("spec") or {}
    out.append(("Containers", _containers(template)))
    return out


def _service(obj: dict[str, Any]) -> Sections:
    spec = obj.get("spec") or {}
    ports = ", ".join(
        f"{x['name'] + ' ' if x.get('name') else ''}{x.get('port')}->{x.get('targetPort', x.get('port'))}"
        f"/{x.get('protocol', 'TCP')}"
        for x in spec.get("ports") or []
    )
    return [
        ("Type", spec.get("type", "ClusterIP")),
        ("Cluster IP", ", ".join(spec.get("clusterIPs") or [spec.get("clusterIP", "<none>")])),
        ("Ports", ports or "<none>"),
        ("Selector", _kv(spec.get("selector"))),
    ]


def _data_keys(obj: dict[str, Any]) -> Sections:
    """Keys and sizes only: never the values (Secret or ConfigMap)."""
    keys = [
        f"{key} ({len(str(value))} chars)"
        for section in ("data", "stringData", "binaryData")
        for key, value in (obj.get(section) or {}).items()
    ]
    out: Sections = [("Type", str(obj["type"]))] if obj.get("type") else []
    return [*out, ("Data", ", ".join(keys) or "<none>")]


def _node(obj: dict[str, Any]) -> Sections:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    info = status.get("nodeInfo") or {}
    taints = ", ".join(f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in spec.get("taints") or [])
    return [
        (
            "Addresses",
            ", ".join(f"{a.get('type')}={a.get('address')}" for a in status.get("addresses") or []) or "<none>",
        ),
        ("Capacity", _kv(status.get("capacity"))),
        ("Allocatable", _kv(status.get("allocatable"))),
        (
            "System",
            f"kubelet {info.get('kubeletVersion', '?')}, {info.get('osImage', '?')}, "
            f"{info.get('architecture', '?')}, runtime {info.get('containerRuntimeVersion', '?')}",
        ),
        ("Taints", taints or "<none>"),
        ("Unschedulable", str(bool(spec.get("unschedulable"))).lower()),
    ]


def _generic(obj: dict[str, Any], max_chars: int) -> Sections:
    """Any other kind (custom resources included): spec and status as short YAML, conditions apart."""
    out: Sections = []
    shown = redaction.redact_object(obj)
    status = {k: v for k, v in (shown.get("status") or {}).items() if k != "conditions"}
    for key, value in (("Spec", shown.get("spec")), ("Data", shown.get("data")), ("Status", status)):
        if value:
            text = output.to_yaml(value).rstrip()
            text, _ = output.cap_text(text, max_chars, hint="see resources_get for the whole object")
            out.append((key, "\n" + "\n".join("  " + line for line in text.splitlines())))
    return out


def summarize(obj: dict[str, Any], now: datetime) -> Sections:
    """The kind-specific lines of a description (header, owners and events are added by the caller)."""
    kind = obj.get("kind")
    if kind == "Pod":
        body = _pod(obj, now)
    elif kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}:
        body = _workload(obj)
    elif kind == "Service":
        body = _service(obj)
    elif kind in {"Secret", "ConfigMap"}:
        body = _data_keys(obj)
    elif kind == "Node":
        body = _node(obj)
    else:
        body = _generic(obj, SPEC_CHARS)
    conditions = _conditions(obj.get("status") or {})
    return body + ([("Conditions", conditions)] if conditions else [])


def header(obj: dict[str, Any], now: datetime) -> Sections:
    meta = obj.get("metadata") or {}
    annotations = {
        k: (v if len(str(v)) <= ANNOTATION_CHARS else str(v)[:ANNOTATION_CHARS] + "...")
        for k, v in (meta.get("annotations") or {}).items()
        if k != redaction.LAST_APPLIED
    }
    out: Sections = [("Labels", _kv(meta.get("labels"))), ("Annotations", _kv(annotations))]
    created = meta.get("creationTimestamp")
    out.append(
        (
            "Created",
            f"{created or '<unknown>'} ({output.human_age(created, now)} ago)",
        )
    )
    if meta.get("deletionTimestamp"):
        out.append(
            (
                "Deleting",
                f"since {meta['deletionTimestamp']}; finalizers: {', '.join(meta.get('finalizers') or []) or '<none>'}",
            )
        )
    return out


def event_time(e: dict[str, Any]) -> str:
    series = (e.get("series") or {}).get("lastObservedTime")
    return str(
        series
        or e.get("lastTimestamp")
        or e.get("eventTime")
        or (e.get("metadata") or {}).get("creationTimestamp")
        or ""
    )


def event_items(events: list[dict[str, Any]], now: datetime) -> list[EventItem]:
    items = []
    for e in events:
        source = e.get("reportingComponent") or (e.get("source") or {}).get("component") or ""
        count = int(e.get("count") or (e.get("series") or {}).get("count") or 1)
        items.append(
            EventItem(
                type=e.get("type", ""),
                reason=e.get("reason", ""),
                age=output.human_age(event_time(e), now),
                count=count,
                source=source,
                message=" ".join(str(e.get("message", "")).split()),
            )
        )
    return items
