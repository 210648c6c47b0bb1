"""The catalog: every tool of each tool profile, and the ones this deployment exposes.

The top of the tools package: it imports every tool module and nothing below imports it, so tool
modules never depend on one another through the catalog. Only the server imports it.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from app.config import Settings
from app.errors import ConfigError
from app.policy import Policy, Selection, select_tools
from app.spec import ToolSpec
from app.tools.cluster import cluster, events
from app.tools.helm import releases
from app.tools.infra import profile
from app.tools.nodes import drain, maintenance, nodes
from app.tools.pods import containers, pods
from app.tools.resources import describe, generic
from app.tools.workloads import workloads

PROFILES = ("default", "infra")

_CATALOGS: dict[str, list[ToolSpec[Any]]] = {
    # The Go kubernetes-mcp-server's names, in its catalog order.
    "default": [
        *cluster.SPECS,
        *events.SPECS,
        *nodes.SPECS,
        *maintenance.SPECS,
        drain.SPEC,
        *pods.SPECS,
        *containers.SPECS,
        *generic.SPECS,
        describe.SPEC,
        *workloads.SPECS,
        *releases.SPECS,
    ],
    # The infra.k8s catalog: thin argument adapters over the same handlers.
    "infra": list(profile.SPECS),
}


def all_specs(profile: str = "default") -> list[ToolSpec[Any]]:
    """Every tool of a tool profile, in catalog order."""
    return list(_CATALOGS["infra" if profile == "infra" else "default"])


def check_rule_tools(settings: Settings) -> None:
    """Every tool pattern of the approval rules names at least one tool of the profile (a typo stops the start)."""
    names = [spec.name for spec in all_specs(settings.tool_profile)]
    for rule, pattern in settings.rules.tool_patterns():
        if not any(fnmatchcase(name, pattern) for name in names):
            raise ConfigError(
                f"{rule}: tool pattern {pattern!r} matches no tool in the {settings.tool_profile!r} tool profile"
            )


def exposed_specs(policy: Policy, settings: Settings) -> Selection[ToolSpec[Any]]:
    """The catalog this deployment serves: profile, toolsets, enabled/disabled lists, then policy."""
    check_rule_tools(settings)
    return select_tools(
        all_specs(settings.tool_profile),
        policy=policy,
        toolsets=settings.toolsets,
        enabled=settings.enabled_tools,
        disabled=settings.disabled_tools,
        profile=settings.tool_profile,
    )
