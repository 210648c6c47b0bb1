"""The ``k8s://summary`` resource: the cluster on one screen (version, nodes, namespaces, workloads by status).

Gathering reads a handful of lists concurrently through ``Kube`` (so policy applies: with namespace
limits only the allowed namespaces are counted, and denied namespaces never are); the counting is
pure. Lists are paged up to ``MAX_ITEMS`` per kind and say so when they stop early. A section the
caller may not read (RBAC) says why instead of failing the whole summary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from app import errors, output
from app.diagnosis import quote
from app.kube.client import TABLE
from app.spec import Deps

MAX_ITEMS = 2000
PROBLEM_ROWS = 10
POD_OK = frozenset({"Running", "Completed", "Succeeded"})
_LEADING_INT = re.compile(r"^\s*(\d+)")

# (section, list path relative to a namespace or the cluster, namespaced)
LISTS: tuple[tuple[str, str, bool], ...] = (
    ("deployments", "/apis/apps/v1{ns}/deployments", True),
    ("statefulsets", "/apis/apps/v1{ns}/statefulsets", True),
    ("daemonsets", "/apis/apps/v1{ns}/daemonsets", True),
    ("jobs", "/apis/batch/v1{ns}/jobs", True),
    ("warning_events", "/api/v1{ns}/events", True),
)


def _names(items: list[Any], limit: int = PROBLEM_ROWS) -> list[str]:
    return [str(i) for i in items[:limit]]


def _ref(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))


def summarize_nodes(items: list[dict[str, Any]]) -> dict[str, Any]:
    not_ready, cordoned, pressure, versions = [], [], [], set()
    for node in items:
        name = (node.get("metadata") or {}).get("name")
        status = node.get("status") or {}
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        if conditions.get("Ready") != "True":
            not_ready.append(name)
        if (node.get("spec") or {}).get("unschedulable"):
            cordoned.append(name)
        pressure += [f"{name}: {t}" for t, v in conditions.items() if t and t.endswith("Pressure") and v == "True"]
        versions.add(str((status.get("nodeInfo") or {}).get("kubeletVersion") or "?"))
    return {
        "total": len(items),
        "ready": len(items) - len(not_ready),
        "not_ready": _names(not_ready),
        "cordoned": _names(cordoned),
        "pressure": _names(pressure),
        "kubelet_versions": sorted(versions),
    }


def summarize_namespaces(items: list[dict[str, Any]]) -> dict[str, Any]:
    terminating = [_ref(n) for n in items if (n.get("status") or {}).get("phase") == "Terminating"]
    return {"total": len(items), "terminating": _names(terminating)}


def summarize_pods(rows: list[tuple[str, str, str, int]]) -> dict[str, Any]:
    """Rows of (namespace, name, STATUS as kubectl shows it, restarts)."""
    by_status = Counter(status for _, _, status, _ in rows)
    problems = sorted(
        (r for r in rows if r[2] not in POD_OK or r[3] >= 5),
        key=lambda r: (r[2] in POD_OK, -r[3], r[0], r[1]),
    )
    return {
        "total": len(rows),
        "by_status": dict(sorted(by_status.items(), key=lambda kv: (-kv[1], kv[0]))),
        "problems": [f"{ns}/{name}: {status}, {restarts} restarts" for ns, name, status, restarts in problems][
            :PROBLEM_ROWS
        ],
    }


def _replicas(kind: str, obj: dict[str, Any]) -> tuple[int, int]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind == "daemonsets":
        return int(status.get("numberReady") or 0), int(status.get("desiredNumberScheduled") or 0)
    desired = spec.get("replicas")
    return int(status.get("readyReplicas") or 0), int(1 if desired is None else desired)


def summarize_workloads(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    degraded = []
    for obj in items:
        ready, desired = _replicas(kind, obj)
        if ready < desired:
            degraded.append(f"{_ref(obj)}: {ready}/{desired} ready")
    return {"total": len(items), "healthy": len(items) - len(degraded), "degraded": _names(degraded)}


def summarize_jobs(items: list[dict[str, Any]]) -> dict[str, Any]:
    active = sum(1 for j in items if (j.get("status") or {}).get("active"))
    failed = [_ref(j) for j in items if _has_condition(j, "Failed")]
    return {"total": len(items), "active": active, "failed": _names(failed)}


def _has_condition(obj: dict[str, Any], kind: str) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


def summarize_events(items: list[dict[str, Any]]) -> dict[str, Any]:
    reasons = Counter(str(e.get("reason") or "?") for e in items)
    return {"total": len(items), "top_reasons": dict(reasons.most_common(5))}


SUMMARIZERS: dict[str, Callable[[list[dict[str, Any]]], dict[str, Any]]] = {
    "deployments": lambda items: summarize_workloads("deployments", items),
    "statefulsets": lambda items: summarize_workloads("statefulsets", items),
    "daemonsets": lambda items: summarize_workloads("daemonsets", items),
    "jobs": summarize_jobs,
    "warning_events": summarize_events,
}


class _Lister:
    """Paged lists across the namespaces the server may see."""

    def __init__(self, deps: Deps, context: str | None) -> None:
        self.deps = deps
        self.context = context
        settings = deps.settings
        self.scopes: list[str | None] = list(settings.allowed_namespaces) or [None]
        self.denied = set(settings.denied_namespaces)
        self.partial = False

    async def pages(self, path: str, columns: list[str] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item (or Table row) of a list, up to MAX_ITEMS; Table column names go into ``columns``."""
        query = dict(kwargs.pop("query", {}))
        out: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = await self.deps.kube.get_json(
                path, context=self.context, query={**query, "limit": 500, "continue": token}, **kwargs
            )
            if columns is not None and not columns:
                columns += [str(c.get("name")) for c in page.get("columnDefinitions") or []]
            out += page.get("items") or page.get("rows") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return out
            if len(out) >= MAX_ITEMS:
                self.partial = True
                return out

    async def across(self, template: str, **kwargs: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for ns in self.scopes:
            out += await self.pages(template.format(ns=f"/namespaces/{ns}" if ns else ""), **kwargs)
        return [i for i in out if _namespace_of(i) not in self.denied]


def _namespace_of(item: dict[str, Any]) -> str | None:
    meta = item.get("metadata") or (item.get("object") or {}).get("metadata") or {}
    return meta.get("namespace")


def _pod_rows(table: list[dict[str, Any]], columns: list[str]) -> list[tuple[str, str, str, int]]:
    at = {name.lower(): i for i, name in enumerate(columns)}
    rows = []
    for row in table:
        cells = row.get("cells") or []
        status = str(cells[at["status"]]) if "status" in at and at["status"] < len(cells) else "Unknown"
        raw = str(cells[at["restarts"]]) if "restarts" in at and at["restarts"] < len(cells) else "0"
        match = _LEADING_INT.match(raw)
        restarts = int(match.group(1)) if match else 0
        rows.append((str(_namespace_of(row) or ""), str(cells[0] if cells else "?"), status, restarts))
    return rows


async def cluster_summary(deps: Deps, context: str | None) -> str:
    lister = _Lister(deps, context)
    info = deps.kube.context(context)
    result: dict[str, Any] = {"context": info.name, "server": info.server}
    sections: dict[str, Any] = {}
    failures: list[errors.K8sMcpError] = []

    async def guarded(key: str, work: Callable[[], Awaitable[Any]]) -> None:
        try:
            sections[key] = await work()
        except (errors.Forbidden, errors.PolicyDenied, errors.NotFound) as e:
            sections[key] = {"unavailable": quote(e)}
        except errors.K8sMcpError as e:  # the cluster itself is unreachable: the summary fails as a whole
            failures.append(e)

    async def version() -> Any:
        data = await deps.kube.get_json("/version", context=context)
        return str(data.get("gitVersion") or "?")

    async def nodes() -> Any:
        return summarize_nodes(await lister.pages("/api/v1/nodes"))

    async def namespaces() -> Any:
        return summarize_namespaces(await lister.pages("/api/v1/namespaces"))

    async def pods() -> Any:
        columns: list[str] = []
        rows: list[dict[str, Any]] = []
        for ns in lister.scopes:
            path = f"/api/v1/namespaces/{ns}/pods" if ns else "/api/v1/pods"
            rows += await lister.pages(path, columns, accept=TABLE, query={"includeObject": "Metadata"})
        rows = [r for r in rows if _namespace_of(r) not in lister.denied]
        return summarize_pods(_pod_rows(rows, columns))

    def listed(key: str, template: str) -> Callable[[], Awaitable[Any]]:
        async def work() -> Any:
            query = {"fieldSelector": "type=Warning"} if key == "warning_events" else {}
            return SUMMARIZERS[key](await lister.across(template, query=query))

        return work

    async with anyio.create_task_group() as group:
        for key, work in (("version", version), ("nodes", nodes), ("namespaces", namespaces), ("pods", pods)):
            group.start_soon(guarded, key, work)
        for key, template, _ in LISTS:
            group.start_soon(guarded, key, listed(key, template))
    if failures:
        raise failures[0]
    order = ["version", "nodes", "namespaces", "pods", *(key for key, _, _ in LISTS)]
    result.update({key: sections[key] for key in order if key in sections})
    if deps.settings.allowed_namespaces:
        result["scope"] = f"namespaces {', '.join(deps.settings.allowed_namespaces)} only (server policy)"
    if lister.partial:
        result["note"] = f"some lists were counted over their first {MAX_ITEMS} items only"
    return output.to_yaml(result)
