"""Arguments of the Helm tools: plain pydantic models, shared by the MCP tools and any other catalog.

The infra profile (listReleases, installChart, upgradeChart, uninstallRelease) builds these models and
calls the handlers in ``app.tools.helm.releases`` directly; the Go server's argument names are kept.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from app import args as p
from app.kube.helmref import validate_constraint


def _constraint(value: str | None) -> str | None:
    if value:
        validate_constraint(value)
    return value


def _regex(value: str | None) -> str | None:
    if value:
        try:
            re.compile(value)
        except re.error as e:
            raise ValueError(f"invalid regular expression {value!r}: {e}") from None
    return value


Chart = Annotated[
    str,
    Field(
        description="Chart to use: a local path on the server (directory or .tgz), an OCI reference "
        "(oci://registry/path/chart), a chart archive URL, repo/name of a configured repository, or a chart "
        "name together with 'repo'",
        min_length=1,
    ),
]
Repo = Annotated[str | None, Field(description="Chart repository URL (https://...) in which to find 'chart'")]
Version = Annotated[
    str | None,
    AfterValidator(_constraint),
    Field(description="Chart version or constraint, e.g. '1.2.3', '^1.2', '>=1.0 <2.0' (default: the latest)"),
]
Values = Annotated[dict[str, Any] | None, Field(description="Chart values as an object (like a values.yaml)")]
Wait = Annotated[bool, Field(description="Wait until the release's Pods, Services, ... are ready (up to timeout)")]
DryRun = Annotated[bool, Field(description="Render and validate against the cluster without changing anything")]
Revision = Annotated[int | None, Field(description="Revision number (default: the current one)", ge=1)]

State = Literal["all", "deployed", "failed", "pending", "superseded", "uninstalled", "uninstalling"]


class HelmListArgs(p.Args):
    namespace: p.OptionalNamespace = Field(
        None, description="Namespace to list (default: the context's namespace; ignored with all_namespaces)"
    )
    all_namespaces: bool = Field(False, description="List releases in every namespace")
    filter: Annotated[str | None, AfterValidator(_regex)] = Field(
        None, description="Regular expression the release names must match"
    )
    status: State | None = Field(None, description="Only releases in this state (default: deployed and failed)")
    limit: p.Limit = None
    context: p.Context = None


class HelmReleaseArgs(p.Args):
    name: p.ReleaseName
    namespace: p.OptionalNamespace = Field(None, description="Namespace of the release (default: the context's)")
    context: p.Context = None


class HelmStatusArgs(HelmReleaseArgs):
    revision: Revision = None


class HelmHistoryArgs(HelmReleaseArgs):
    limit: int = Field(256, description="Most revisions to show (the newest)", ge=1, le=1000)


class HelmGetValuesArgs(HelmReleaseArgs):
    all: bool = Field(False, description="Computed values including the chart's defaults, not only user-supplied")
    revision: Revision = None


class HelmGetManifestArgs(HelmReleaseArgs):
    revision: Revision = None


class HelmInstallArgs(p.Args):
    chart: Chart
    name: p.OptionalReleaseName = Field(None, description="Release name (default: generated from the chart name)")
    namespace: p.OptionalNamespace = Field(None, description="Namespace of the release (default: the context's)")
    values: Values = None
    version: Version = None
    repo: Repo = None
    create_namespace: bool = Field(False, description="Create the namespace if it does not exist")
    wait: Wait = False
    timeout: p.HelmTimeout = 300
    dry_run: DryRun = False
    context: p.Context = None


class HelmUpgradeArgs(p.Args):
    name: p.ReleaseName
    chart: Chart
    namespace: p.OptionalNamespace = Field(None, description="Namespace of the release (default: the context's)")
    values: Values = None
    version: Version = None
    repo: Repo = None
    install: bool = Field(False, description="Install the release if it does not exist yet")
    reuse_values: bool = Field(False, description="Merge 'values' over the release's current values")
    reset_values: bool = Field(False, description="Start from the chart's defaults, dropping earlier values")
    create_namespace: bool = Field(False, description="With install: create the namespace if it does not exist")
    wait: Wait = False
    timeout: p.HelmTimeout = 300
    dry_run: DryRun = False
    context: p.Context = None

    @model_validator(mode="after")
    def _one_values_mode(self) -> HelmUpgradeArgs:
        if self.reuse_values and self.reset_values:
            raise ValueError("reuse_values and reset_values exclude each other")
        return self


class HelmRollbackArgs(HelmReleaseArgs):
    revision: int | None = Field(None, description="Revision to return to (default: the previous one)", ge=1)
    wait: Wait = False
    timeout: p.HelmTimeout = 300


class HelmUninstallArgs(HelmReleaseArgs):
    keep_history: bool = Field(False, description="Keep the release history (helm_history still shows it)")
    wait: Wait = Field(False, description="Wait until the release's objects are deleted (up to timeout)")
    timeout: p.HelmTimeout = 300
