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
from app.policy import Policy

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


def all_specs() -> list[ToolSpec[Any]]:
    """Every tool we know, in catalog order."""
    from app.tools import cluster, describe, events, helm, pods, resources, workloads

    return [
        *cluster.SPECS,
        *events.SPECS,
        *pods.SPECS,
        *resources.SPECS,
        describe.SPEC,
        *workloads.SPECS,
        *helm.SPECS,
    ]


def exposed_specs(policy: Policy) -> list[ToolSpec[Any]]:
    return [s for s in all_specs() if policy.tool_allowed(read_only=s.read_only, destructive=s.destructive)]
