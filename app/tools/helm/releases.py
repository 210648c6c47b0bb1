"""Helm tools: list, inspect, install, upgrade, roll back and uninstall releases (toolset "helm").

``helm_install``, ``helm_list`` and ``helm_uninstall`` keep the names and arguments of the Go
kubernetes-mcp-server. The handlers take plain argument models, so other catalogs (the "infra"
profile's listReleases / installChart / upgradeChart / uninstallRelease) can call them directly.
Changes honour the preview mode: install and upgrade run helm's own dry run; rollback and uninstall
read the release and say what they would do.
"""

from __future__ import annotations

from typing import Any

from app import output, redaction
from app.errors import ToolInputError
from app.kube.helm import ChartRequest, Helm, local_chart_version, resolve_chart
from app.kube.helmref import satisfies
from app.scope import dry_run_active
from app.shapes import (
    HelmHistoryOutput,
    HelmListOutput,
    HelmManifestOutput,
    HelmReleaseItem,
    HelmReleaseOutput,
    HelmRevisionItem,
    HelmUninstallOutput,
    HelmValuesOutput,
)
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.helm.args import (
    HelmGetManifestArgs,
    HelmGetValuesArgs,
    HelmHistoryArgs,
    HelmInstallArgs,
    HelmListArgs,
    HelmRollbackArgs,
    HelmStatusArgs,
    HelmUninstallArgs,
    HelmUpgradeArgs,
)
from app.tools.helm.views import release_output, release_text, short_time

__all__ = [
    "SPECS",
    "HelmGetManifestArgs",
    "HelmGetValuesArgs",
    "HelmHistoryArgs",
    "HelmInstallArgs",
    "HelmListArgs",
    "HelmRollbackArgs",
    "HelmStatusArgs",
    "HelmUninstallArgs",
    "HelmUpgradeArgs",
]

_PREVIEW = " (dry run: nothing was changed)"


def _helm(deps: Deps) -> Helm:
    return deps.helm


def _ns(deps: Deps, namespace: str | None, context: str | None) -> str:
    return namespace or deps.kube.default_namespace(context)


# --- handlers --------------------------------------------------------------------------------------


async def helm_list(args: HelmListArgs, deps: Deps) -> ToolResult:
    namespace = None if args.all_namespaces else _ns(deps, args.namespace, args.context)
    limit = args.limit or deps.settings.list_limit
    found = await _helm(deps).list_releases(
        args.context, namespace=namespace, state=args.status, name_filter=args.filter, limit=limit
    )
    items = [
        HelmReleaseItem(
            name=str(r.get("name", "")),
            namespace=str(r.get("namespace", "")),
            revision=int(r.get("revision") or 0),
            status=str(r.get("status", "")),
            chart=str(r.get("chart", "")),
            app_version=str(r.get("app_version", "")),
            updated=short_time(r.get("updated")),
        )
        for r in found
    ]
    columns = ["NAME", "REVISION", "STATUS", "CHART", "APP VERSION", "UPDATED"]
    rows: list[list[output.Cell]] = [[i.name, i.revision, i.status, i.chart, i.app_version, i.updated] for i in items]
    if namespace is None:
        columns.insert(0, "NAMESPACE")
        rows = [[i.namespace, *row] for i, row in zip(items, rows, strict=True)]
    where = f" in namespace {namespace}" if namespace else " in any namespace"
    if args.filter:
        where += f" matching {args.filter!r}"
    rendered = output.render_table(
        output.Table(columns, rows),
        noun="helm releases",
        where=where,
        max_chars=deps.settings.output_max_chars,
        narrow="filter/status/namespace",
    )
    text = rendered.text
    at_limit = len(items) >= limit
    if at_limit:
        text += f"\n[limit of {limit} releases reached: more may exist; narrow with filter or raise limit]"
    shown = items[: len(rendered.rows)] if rendered.rows else []
    data = HelmListOutput(
        namespace=namespace, releases=shown, count=len(shown), truncated=rendered.truncated or at_limit
    )
    return ToolResult(text, data)


async def helm_status(args: HelmStatusArgs, deps: Deps) -> ToolResult:
    namespace = _ns(deps, args.namespace, args.context)
    status = await _helm(deps).status(args.context, name=args.name, namespace=namespace, revision=args.revision)
    rel = release_output(status)
    return ToolResult(release_text(rel, deps.settings.output_max_chars), rel)


async def helm_history(args: HelmHistoryArgs, deps: Deps) -> ToolResult:
    namespace = _ns(deps, args.namespace, args.context)
    found = await _helm(deps).history(args.context, name=args.name, namespace=namespace, limit=args.limit)
    items = [
        HelmRevisionItem(
            revision=int(r.get("revision") or 0),
            updated=short_time(r.get("updated")),
            status=str(r.get("status", "")),
            chart=str(r.get("chart", "")),
            app_version=str(r.get("app_version", "")),
            description=str(r.get("description", "")),
        )
        for r in found
    ]
    rows: list[list[output.Cell]] = [
        [i.revision, i.updated, i.status, i.chart, i.app_version, i.description] for i in items
    ]
    columns = ["REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION", "DESCRIPTION"]
    rendered = output.render_table(
        output.Table(columns, rows),
        noun="revisions",
        where=f" of release {namespace}/{args.name}",
        max_chars=deps.settings.output_max_chars,
        narrow="limit",
    )
    data = HelmHistoryOutput(name=args.name, namespace=namespace, revisions=items, count=len(items))
    return ToolResult(rendered.text, data)


async def helm_get_values(args: HelmGetValuesArgs, deps: Deps) -> ToolResult:
    namespace = _ns(deps, args.namespace, args.context)
    values = await _helm(deps).values(
        args.context, name=args.name, namespace=namespace, computed=args.all, revision=args.revision
    )
    shown = redaction.redact_values(values or {})
    which = "computed values" if args.all else "user-supplied values"
    of = f"release {namespace}/{args.name}" + (f" revision {args.revision}" if args.revision else "")
    if not shown:
        text = f"No {which} for {of}." + ("" if args.all else " Pass all=true for the chart's defaults.")
    else:
        text, _ = output.cap_text(
            output.to_yaml(shown), deps.settings.output_max_chars, hint="the values are larger than the output cap"
        )
    data = HelmValuesOutput(name=args.name, namespace=namespace, revision=args.revision, all=args.all, values=shown)
    return ToolResult(text, data)


async def helm_get_manifest(args: HelmGetManifestArgs, deps: Deps) -> ToolResult:
    namespace = _ns(deps, args.namespace, args.context)
    status = await _helm(deps).status(
        args.context, name=args.name, namespace=namespace, revision=args.revision, with_chart=False
    )
    manifest = output.redact_manifest(str(status.get("manifest") or ""))
    resources = output.manifest_objects(manifest)
    if not resources:
        text, truncated = f"Release {namespace}/{args.name} has no objects in its manifest.", False
    else:
        text, truncated = output.cap_text(
            manifest, deps.settings.output_max_chars, hint="get single objects with resources_get"
        )
    data = HelmManifestOutput(
        name=args.name,
        namespace=namespace,
        revision=status.get("version"),
        resources=resources,
        manifest=text,
        truncated=truncated,
    )
    return ToolResult(text, data)


def _chart_request(args: HelmInstallArgs | HelmUpgradeArgs, namespace: str, **extra: Any) -> ChartRequest:
    chart = resolve_chart(args.chart, args.repo)
    if chart.kind == "local" and args.version:
        found = local_chart_version(chart.ref)
        if found is None:
            raise ToolInputError(f"cannot read the version of the local chart {args.chart!r} (Chart.yaml)")
        if not satisfies(found, args.version):
            raise ToolInputError(
                f"the local chart {args.chart!r} is version {found}, which does not satisfy version {args.version!r}"
            )
    return ChartRequest(
        name=args.name,
        chart=chart,
        namespace=namespace,
        values=args.values or {},
        version=args.version if chart.kind != "local" else None,
        create_namespace=args.create_namespace,
        wait=args.wait,
        timeout=args.timeout,
        dry_run=args.dry_run,
        **extra,
    )


async def helm_install(args: HelmInstallArgs, deps: Deps) -> ToolResult:
    namespace = _ns(deps, args.namespace, args.context)
    req = _chart_request(args, namespace)
    status = await _helm(deps).install(args.context, req)
    preview = req.dry_run or dry_run_active()
    verb = "would install" if preview else "installed"
    message = f"{verb} release {status.get('namespace')}/{status.get('name')}" + (_PREVIEW if preview else "")
    rel = release_output(status, dry_run=preview, message=message)
    return ToolResult(release_text(rel, deps.settings.output_max_chars), rel)


async def helm_upgrade(args: HelmUpgradeArgs, deps: Deps) -> ToolResult:
    namespace = _ns(deps, args.namespace, args.context)
    req = _chart_request(
        args, namespace, install=args.install, reuse_values=args.reuse_values, reset_values=args.reset_values
    )
    status = await _helm(deps).upgrade(args.context, req)
    preview = req.dry_run or dry_run_active()
    verb = "would upgrade" if preview else "upgraded"
    message = f"{verb} release {namespace}/{args.name} to revision {status.get('version')}" + (
        _PREVIEW if preview else ""
    )
    rel = release_output(status, dry_run=preview, message=message)
    return ToolResult(release_text(rel, deps.settings.output_max_chars), rel)


async def helm_rollback(args: HelmRollbackArgs, deps: Deps) -> ToolResult:
    helm = _helm(deps)
    namespace = _ns(deps, args.namespace, args.context)
    history = await helm.history(args.context, name=args.name, namespace=namespace, limit=256)
    revisions = {int(r.get("revision") or 0): r for r in history}
    current = max(revisions) if revisions else 0
    target = args.revision or current - 1
    if target not in revisions:
        known = ", ".join(str(r) for r in sorted(revisions)) or "none"
        raise ToolInputError(f"release {namespace}/{args.name} has no revision {target} (revisions: {known})")
    chart = revisions[target].get("chart", "")
    if dry_run_active():
        await helm.judge_release(args.context, name=args.name, namespace=namespace, verb="update", revision=target)
        status = await helm.status(args.context, name=args.name, namespace=namespace)
        message = (
            f"would roll back release {namespace}/{args.name} from revision {current} to revision {target} ({chart}) "
            f"as new revision {current + 1}{_PREVIEW}"
        )
        rel = release_output(status, dry_run=True, message=message)
        return ToolResult(release_text(rel, deps.settings.output_max_chars), rel)
    await helm.rollback(
        args.context, name=args.name, namespace=namespace, revision=target, wait=args.wait, timeout=args.timeout
    )
    status = await helm.status(args.context, name=args.name, namespace=namespace)
    message = (
        f"rolled back release {namespace}/{args.name} to revision {target} ({chart}); "
        f"now revision {status.get('version')}"
    )
    rel = release_output(status, message=message)
    return ToolResult(release_text(rel, deps.settings.output_max_chars), rel)


async def helm_uninstall(args: HelmUninstallArgs, deps: Deps) -> ToolResult:
    helm = _helm(deps)
    namespace = _ns(deps, args.namespace, args.context)
    status = await helm.status(args.context, name=args.name, namespace=namespace, with_chart=False)
    resources = output.manifest_objects(str(status.get("manifest") or ""))
    history = "kept (helm_history still shows it)" if args.keep_history else "deleted"
    if dry_run_active():
        await helm.judge_release(args.context, name=args.name, namespace=namespace, verb="delete")
        message = (
            f"would uninstall release {namespace}/{args.name} (revision {status.get('version')}), deleting "
            f"{len(resources)} objects; its history would be {history.split(' ')[0]}{_PREVIEW}"
        )
    else:
        await helm.uninstall(
            args.context,
            name=args.name,
            namespace=namespace,
            keep_history=args.keep_history,
            wait=args.wait,
            timeout=args.timeout,
        )
        message = f"uninstalled release {namespace}/{args.name}: {len(resources)} objects deleted, history {history}"
    text = message + ("\nOBJECTS: " + ", ".join(resources) if resources else "")
    data = HelmUninstallOutput(
        name=args.name,
        namespace=namespace,
        dry_run=dry_run_active(),
        keep_history=args.keep_history,
        resources=resources,
        message=message,
    )
    return ToolResult(text, data)


def _rel(a: Any) -> str:
    return f"{a.namespace or '<default>'}/{a.name}"


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="helm_list",
        title="List Helm releases",
        description="List Helm releases (NAME, REVISION, STATUS, CHART, APP VERSION, UPDATED) in one namespace or "
        "all (all_namespaces). Narrow with filter (regex on names) and status.",
        params=HelmListArgs,
        output=HelmListOutput,
        handler=helm_list,
        action=lambda a: (
            "list helm releases" + ("" if a.all_namespaces else f" in namespace {a.namespace or '<default>'}")
        ),
        read_only=True,
        idempotent=True,
        toolset="helm",
    ),
    ToolSpec(
        name="helm_status",
        title="Show a Helm release",
        description="Status of a Helm release: revision, state, chart, last update, the objects it owns and its notes.",
        params=HelmStatusArgs,
        output=HelmReleaseOutput,
        handler=helm_status,
        action=lambda a: f"get status of release {_rel(a)}",
        read_only=True,
        idempotent=True,
        toolset="helm",
    ),
    ToolSpec(
        name="helm_history",
        title="Show a Helm release's revisions",
        description="Revisions of a Helm release (REVISION, UPDATED, STATUS, CHART, APP VERSION, DESCRIPTION), "
        "oldest first; pick one for helm_rollback.",
        params=HelmHistoryArgs,
        output=HelmHistoryOutput,
        handler=helm_history,
        action=lambda a: f"get history of release {_rel(a)}",
        read_only=True,
        idempotent=True,
        toolset="helm",
    ),
    ToolSpec(
        name="helm_get_values",
        title="Show a Helm release's values",
        description="Values of a Helm release as YAML: user-supplied, or all computed values with all=true. "
        "Values under password/secret/token-like keys are redacted.",
        params=HelmGetValuesArgs,
        output=HelmValuesOutput,
        handler=helm_get_values,
        action=lambda a: f"get values of release {_rel(a)}",
        read_only=True,
        idempotent=True,
        toolset="helm",
    ),
    ToolSpec(
        name="helm_get_manifest",
        title="Show a Helm release's manifest",
        description="The rendered manifest of a Helm release (or one revision) as YAML; Secret values are redacted.",
        params=HelmGetManifestArgs,
        output=HelmManifestOutput,
        handler=helm_get_manifest,
        action=lambda a: f"get manifest of release {_rel(a)}",
        read_only=True,
        idempotent=True,
        toolset="helm",
    ),
    ToolSpec(
        name="helm_install",
        title="Install a Helm chart",
        description="Install a chart as a new release: from a local path, an OCI reference, a chart URL or a "
        "repository (repo). values is an object; version a constraint; dry_run renders without changing anything. "
        "Fails if the release exists (use helm_upgrade).",
        params=HelmInstallArgs,
        output=HelmReleaseOutput,
        handler=helm_install,
        action=lambda a: f"install chart {a.chart} as release {a.namespace or '<default>'}/{a.name or '<generated>'}",
        read_only=False,
        destructive=False,
        idempotent=False,
        toolset="helm",
    ),
    ToolSpec(
        name="helm_upgrade",
        title="Upgrade a Helm release",
        description="Upgrade a release to a chart version and/or new values (a new revision). install=true installs "
        "it when missing; reuse_values merges over the current values, reset_values starts from chart defaults.",
        params=HelmUpgradeArgs,
        output=HelmReleaseOutput,
        handler=helm_upgrade,
        action=lambda a: f"upgrade release {_rel(a)}",
        read_only=False,
        destructive=False,
        idempotent=False,
        toolset="helm",
    ),
    ToolSpec(
        name="helm_rollback",
        title="Roll back a Helm release",
        description="Roll a release back to an earlier revision (default: the previous one); this creates a new "
        "revision. See helm_history for the revisions.",
        params=HelmRollbackArgs,
        output=HelmReleaseOutput,
        handler=helm_rollback,
        action=lambda a: f"roll back release {_rel(a)}",
        read_only=False,
        destructive=True,
        idempotent=False,
        toolset="helm",
    ),
    ToolSpec(
        name="helm_uninstall",
        title="Uninstall a Helm release",
        description="Uninstall a release and delete the objects it owns; keep_history keeps its revisions.",
        params=HelmUninstallArgs,
        output=HelmUninstallOutput,
        handler=helm_uninstall,
        action=lambda a: f"uninstall release {_rel(a)}",
        read_only=False,
        destructive=True,
        idempotent=True,
        toolset="helm",
    ),
]
