"""Pure policy: which tools a deployment exposes and which API verbs a call may use.

Two choke points use it: the tool registry asks ``select_tools`` (toolsets, enabled/disabled lists,
read-only and destructive gating) when it builds the catalog, and the Kubernetes client asks
``check_verb`` before every API request, so a read-only server refuses a mutating verb even if some
tool tries one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from app.config import env_name
from app.errors import ConfigError, PolicyDenied

READ_VERBS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Every toolset a tool may belong to. core: pods, resources, events, namespaces, nodes, discovery;
#: config: kubeconfig contexts and view; metrics: resource usage (top, kubelet stats, our own
#: counters); helm: charts and releases.
TOOLSETS = ("core", "config", "metrics", "helm")


@dataclass(frozen=True)
class Policy:
    read_only: bool = False
    allow_destructive: bool = False

    def tool_allowed(self, *, read_only: bool, destructive: bool) -> bool:
        """Whether a tool with these annotations is in the catalog at all."""
        if self.read_only and not read_only:
            return False
        return not (destructive and not self.allow_destructive)

    def check_verb(self, method: str, path: str) -> None:
        """Refuse any mutating HTTP verb when the server is read-only."""
        if self.read_only and method.upper() not in READ_VERBS and not _is_review(method, path):
            raise PolicyDenied(f"refused {method.upper()} {path}: the server is in read-only mode")


def _is_review(method: str, path: str) -> bool:
    """Access reviews are POSTs that change nothing; read-only servers may still ask them."""
    return method.upper() == "POST" and path.endswith(("/selfsubjectaccessreviews", "/selfsubjectrulesreviews"))


class Selectable(Protocol):
    """What the selection needs to know about a tool (``ToolSpec`` has these)."""

    @property
    def name(self) -> str: ...
    @property
    def toolset(self) -> str: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def destructive(self) -> bool: ...


T = TypeVar("T", bound=Selectable)


@dataclass(frozen=True)
class Selection(Generic[T]):
    tools: list[T]
    #: Named in ``enabled_tools`` but hidden by read-only or destructive gating (worth a log line).
    withheld: list[str] = field(default_factory=list)


def select_tools(
    tools: Sequence[T],
    *,
    policy: Policy,
    toolsets: Iterable[str],
    enabled: Iterable[str] = (),
    disabled: Iterable[str] = (),
    profile: str = "default",
) -> Selection[T]:
    """The tools a deployment exposes, in catalog order.

    ``enabled`` (when not empty) is the exact list, whatever the toolsets; otherwise the tools of the
    selected ``toolsets``. ``disabled`` always removes. Read-only and destructive gating apply last.
    An unknown toolset or tool name is a start-up error that names it.
    """
    toolsets, enabled, disabled = list(toolsets), list(enabled), list(disabled)
    for name in toolsets:
        if name not in TOOLSETS:
            raise ConfigError(
                f"invalid setting toolsets ({env_name('toolsets')}): unknown toolset {name!r}; "
                f"known toolsets: {', '.join(TOOLSETS)}"
            )
    known = {t.name for t in tools}
    for setting, names in (("enabled_tools", enabled), ("disabled_tools", disabled)):
        for name in names:
            if name not in known:
                raise ConfigError(
                    f"invalid setting {setting} ({env_name(setting)}): unknown tool {name!r} "
                    f"in the {profile!r} tool profile"
                )
    both = sorted(set(enabled) & set(disabled))
    if both:
        raise ConfigError(f"tool {both[0]!r} is both in enabled_tools and disabled_tools")
    chosen = [t for t in tools if (t.name in enabled if enabled else t.toolset in toolsets)]
    chosen = [t for t in chosen if t.name not in disabled]
    allowed = [t for t in chosen if policy.tool_allowed(read_only=t.read_only, destructive=t.destructive)]
    withheld = [t.name for t in chosen if t not in allowed and t.name in enabled]
    return Selection(allowed, withheld)
