"""The infra profile's ``infra.k8s.helm`` tools: listReleases, installChart, upgradeChart, uninstallRelease.

Thin adapters from the infra.k8s catalog's names and arguments to the Helm handlers of the default profile,
so Helm behaves, fails and is approved exactly as helm_list/helm_install/helm_upgrade/helm_uninstall.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app import args as p
from app.shapes import HelmListOutput, HelmReleaseOutput, HelmUninstallOutput
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.helm import releases as helm
from app.tools.helm.args import Chart, HelmInstallArgs, HelmListArgs, HelmUninstallArgs, HelmUpgradeArgs, Values


class ListReleasesArgs(p.Args):
    namespace: p.OptionalNamespace = Field(None, description="Namespace (all namespaces when omitted)")
    context: p.Context = None


class ChartArgs(p.Args):
    name: p.ReleaseName
    chart: Chart
    namespace: p.Namespace
    values: Values = None
    context: p.Context = None


class ReleaseArgs(p.Args):
    name: p.ReleaseName
    namespace: p.Namespace
    context: p.Context = None


async def list_releases(args: ListReleasesArgs, deps: Deps) -> ToolResult:
    listed = HelmListArgs(namespace=args.namespace, all_namespaces=args.namespace is None, context=args.context)
    return await helm.helm_list(listed, deps)


async def install_chart(args: ChartArgs, deps: Deps) -> ToolResult:
    return await helm.helm_install(
        HelmInstallArgs(
            chart=args.chart, name=args.name, namespace=args.namespace, values=args.values, context=args.context
        ),
        deps,
    )


async def upgrade_chart(args: ChartArgs, deps: Deps) -> ToolResult:
    return await helm.helm_upgrade(
        HelmUpgradeArgs(
            name=args.name, chart=args.chart, namespace=args.namespace, values=args.values, context=args.context
        ),
        deps,
    )


async def uninstall_release(args: ReleaseArgs, deps: Deps) -> ToolResult:
    return await helm.helm_uninstall(
        HelmUninstallArgs(name=args.name, namespace=args.namespace, context=args.context), deps
    )


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="listReleases",
        title="List Helm releases",
        description="infra.k8s.helm: list Helm releases in a namespace, or all namespaces when none is given.",
        params=ListReleasesArgs,
        output=HelmListOutput,
        handler=list_releases,
        action=lambda a: f"list releases{' in namespace ' + a.namespace if a.namespace else ''}",
        read_only=True,
        toolset="helm",
    ),
    ToolSpec(
        name="installChart",
        title="Install a Helm chart",
        description="infra.k8s.helm: install a chart (local path, repo/name, chart URL or oci://) as a release.",
        params=ChartArgs,
        output=HelmReleaseOutput,
        handler=install_chart,
        action=lambda a: f"install chart {a.chart} as {a.namespace}/{a.name}",
        read_only=False,
        toolset="helm",
    ),
    ToolSpec(
        name="upgradeChart",
        title="Upgrade a Helm release",
        description="infra.k8s.helm: upgrade a release to a chart (and values).",
        params=ChartArgs,
        output=HelmReleaseOutput,
        handler=upgrade_chart,
        action=lambda a: f"upgrade release {a.namespace}/{a.name}",
        read_only=False,
        toolset="helm",
    ),
    ToolSpec(
        name="uninstallRelease",
        title="Uninstall a Helm release",
        description="infra.k8s.helm: uninstall a release and delete its objects.",
        params=ReleaseArgs,
        output=HelmUninstallOutput,
        handler=uninstall_release,
        action=lambda a: f"uninstall release {a.namespace}/{a.name}",
        read_only=False,
        destructive=True,
        idempotent=True,
        toolset="helm",
    ),
]
