"""What a tool is (``ToolSpec``), what it returns (``ToolResult``) and what every handler may use (``Deps``).

The bottom of the handler layers: tools, prompts and documents import it; it imports none of them.

A handler is an async function of its validated arguments and the shared ``Deps``; it raises our
errors and returns text for the model plus a structured object matching its declared output model.
The transport turns specs into MCP tools; ``app.tools.catalog`` lists them all.
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
