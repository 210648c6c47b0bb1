"""What a tool is (``ToolSpec``), what it returns (``ToolResult``) and the catalog of all of them.

A handler is an async function of its validated arguments and the shared ``Deps``; it raises our
errors and returns text for the model plus a structured object matching its declared output model.
The transport turns specs into MCP tools; policy decides which specs a deployment exposes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from app.config import Settings
from app.kube.client import Kube
from app.kube.discovery import Discovery
from app.kube.helm import Helm
from app.policy import Policy, Selection, select_tools

ArgsT = TypeVar("ArgsT", bound=BaseModel)


@dataclass(frozen=True)
class Deps:
    """What handlers may use: the cluster gateway, discovery, the settings and Helm."""

    kube: Kube
    discovery: Discovery
    settings: Settings
    helm: Helm


@dataclass(frozen=True)
class ToolResult:
    text: str
    data: BaseModel


@dataclass(frozen=True)
class ToolSpec(Generic[ArgsT]):
    name: str
    title: str
    description: str
    params: type[ArgsT]
    output: type[BaseModel]
    handler: Callable[[ArgsT, Deps], Awaitable[ToolResult]]
    action: Callable[[ArgsT], str]
    """What the call does, for error lines: 'failed to <action>: <reason>'."""
    read_only: bool
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = True
    toolset: str = "core"

    def describe(self, args: Any) -> str:
        return self.action(args)


def all_specs(profile: str = "default") -> list[ToolSpec[Any]]:
    """Every tool of a tool profile, in catalog order.

    ``default`` has the Go kubernetes-mcp-server's names; ``infra`` the user's own infra.k8s catalog,
    thin argument adapters over the same handlers.
    """
    if profile == "infra":
        from app.tools import infra

        return list(infra.SPECS)
    from app.tools import cluster, containers, describe, events, helm, nodes, pods, resources, workloads

    return [
        *cluster.SPECS,
        *events.SPECS,
        *nodes.SPECS,
        *pods.SPECS,
        *containers.SPECS,
        *resources.SPECS,
        describe.SPEC,
        *workloads.SPECS,
        *helm.SPECS,
    ]


def exposed_specs(policy: Policy, settings: Settings) -> Selection[ToolSpec[Any]]:
    """The catalog this deployment serves: profile, toolsets, enabled/disabled lists, then policy."""
    return select_tools(
        all_specs(settings.tool_profile),
        policy=policy,
        toolsets=settings.toolsets,
        enabled=settings.enabled_tools,
        disabled=settings.disabled_tools,
        profile=settings.tool_profile,
    )
