"""Pure policy: which tools a deployment exposes and which API requests a call may make.

Two choke points use it: the tool registry asks ``select_tools`` (profile, toolsets, enabled/disabled
lists, read-only and destructive gating) when it builds the catalog, and the Kubernetes client asks
``check_request`` before every API request. Because the second one sees the actual verb and path, no
tool (present or future) can get around read-only mode, denied resources, namespace limits, the
destructive switch or the bulk-delete ban.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from app.config import env_name
from app.errors import ConfigError, PolicyDenied
from app.kinds import plural_of

READ_VERBS = frozenset({"GET", "HEAD", "OPTIONS"})
REVIEW_RESOURCES = frozenset({"selfsubjectaccessreviews", "selfsubjectrulesreviews", "tokenreviews"})
DESTRUCTIVE_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "eviction"})
# Built-in cluster-scoped resources: readable without a namespace even when namespaces are restricted.
CLUSTER_SCOPED = frozenset(
    {
        "namespaces",
        "nodes",
        "persistentvolumes",
        "storageclasses",
        "customresourcedefinitions",
        "clusterroles",
        "clusterrolebindings",
        "apiservices",
        "priorityclasses",
        "ingressclasses",
        "runtimeclasses",
        "csidrivers",
        "csinodes",
        "volumeattachments",
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
        "certificatesigningrequests",
        "componentstatuses",
        *REVIEW_RESOURCES,
    }
)

# /api/v1[/namespaces/{ns}]/{plural}[/{name}[/{sub}...]]  or  /apis/{group}/{version}/...
_PATH = re.compile(
    r"^/(?:api/(?P<core_version>[^/]+)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?(?:/(?P<plural>[^/]+))?(?:/(?P<name>[^/]+))?(?:/(?P<sub>.+))?$"
)


@dataclass(frozen=True)
class Target:
    """What an API path addresses."""

    group: str
    plural: str
    namespace: str | None
    name: str | None
    subresource: str | None

    @classmethod
    def parse(cls, path: str) -> Target | None:
        match = _PATH.match(path.split("?", 1)[0])
        if not match:
            return None
        group = match.group("group") or ""
        ns, plural, name, sub = match.group("ns"), match.group("plural"), match.group("name"), match.group("sub")
        if ns is not None and (plural is None or (not group and plural in {"status", "finalize"} and name is None)):
            # /api/v1/namespaces/{name}[/status]: the namespace object itself
            return cls("", "namespaces", ns, ns, plural)
        if plural is None:
            return None
        return cls(group, plural, ns, name, sub)


def _resource_key(entry: str) -> tuple[str, str]:
    """'Secret' -> ('', 'secrets'); 'rbac.authorization.k8s.io/ClusterRole' -> (group, 'clusterroles')."""
    group, _, kind = entry.strip().rpartition("/")
    if group in {"v1", "core"}:
        group = ""
    return group, plural_of(kind)


#: Every toolset a tool may belong to. core: pods, resources, events, namespaces, nodes, discovery;
#: config: kubeconfig contexts and view; metrics: resource usage (top, kubelet stats, our own
#: counters); helm: charts and releases.
TOOLSETS = ("core", "config", "metrics", "helm")


@dataclass(frozen=True)
class Policy:
    read_only: bool = False
    allow_destructive: bool = False
    denied_resources: tuple[str, ...] = ()
    allowed_namespaces: tuple[str, ...] = ()
    denied_namespaces: tuple[str, ...] = ()
    allow_bulk_delete: bool = False
    _denied: frozenset[tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_denied", frozenset(_resource_key(e) for e in self.denied_resources if e.strip()))

    def tool_allowed(self, *, read_only: bool, destructive: bool) -> bool:
        """Whether a tool with these annotations is in the catalog at all."""
        if self.read_only and not read_only:
            return False
        return not (destructive and not self.allow_destructive)

    def check_verb(self, method: str, path: str) -> None:
        """Refuse any mutating HTTP verb when the server is read-only."""
        target = Target.parse(path)
        review = method.upper() == "POST" and target is not None and target.plural in REVIEW_RESOURCES
        if self.read_only and method.upper() not in READ_VERBS and not review:
            raise PolicyDenied(f"refused {method.upper()} {path}: the server is in read-only mode")

    def check_request(self, method: str, path: str, body: object = None) -> None:
        """Every rule that can be decided from the request itself."""
        method = method.upper()
        self.check_verb(method, path)
        target = Target.parse(path)
        if target is None:
            return
        if (target.group, target.plural) in self._denied:
            raise PolicyDenied(f"access to {target.plural} is denied by server policy")
        self._check_namespace(method, target)
        if not self.allow_destructive and _is_destructive(method, target, body):
            raise PolicyDenied(
                f"{_describe(method, target)} is a destructive operation; the server has them disabled "
                "(K8S_ENABLE_DESTRUCTIVE_OPERATIONS=true allows them)"
            )
        if method == "DELETE" and target.name is None and not self.allow_bulk_delete:
            raise PolicyDenied(
                f"deleting all {target.plural} of a collection (bulk delete) is disabled by server policy"
            )

    def check_change(self, what: str, *, destructive: bool = False) -> None:
        """Refuse a change that is not an API request (a Helm install, upgrade, rollback or uninstall)."""
        if self.read_only:
            raise PolicyDenied(f"refused {what}: the server is in read-only mode")
        if destructive and not self.allow_destructive:
            raise PolicyDenied(
                f"{what} is a destructive operation; the server has them disabled "
                "(K8S_ENABLE_DESTRUCTIVE_OPERATIONS=true allows them)"
            )

    def _check_namespace(self, method: str, target: Target) -> None:
        ns = target.namespace
        if ns is not None and ns in self.denied_namespaces:
            raise PolicyDenied(f"namespace {ns!r} is denied by server policy")
        if not self.allowed_namespaces:
            return
        if ns is not None and ns not in self.allowed_namespaces:
            raise PolicyDenied(f"namespace {ns!r} is not in the server's allowed namespaces")
        if ns is None and target.plural not in CLUSTER_SCOPED:
            raise PolicyDenied(
                f"{target.plural} across all namespaces are not available: the server is limited to the namespaces "
                f"{', '.join(self.allowed_namespaces)}; name one"
            )
        if ns is None and method not in READ_VERBS and target.plural not in REVIEW_RESOURCES:
            raise PolicyDenied(f"changing cluster-scoped {target.plural} is not allowed when namespaces are restricted")

    def check_helm_namespace(self, namespace: str | None, *, all_namespaces: bool) -> None:
        """Namespace rules for Helm, whose API calls do not pass our client."""
        if namespace is not None:
            self._check_namespace("GET", Target("", "releases", namespace, None, None))
        if all_namespaces and self.allowed_namespaces:
            self._check_namespace("GET", Target("", "releases", None, None, None))


def _is_destructive(method: str, target: Target, body: object) -> bool:
    if method == "DELETE" or target.subresource in DESTRUCTIVE_SUBRESOURCES:
        return True
    if target.subresource == "scale" and method in {"PUT", "PATCH"}:
        return _replicas(body) == 0
    return False


def _replicas(body: object) -> int | None:
    if isinstance(body, dict):
        spec = body.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("replicas"), int):
            return int(spec["replicas"])
    return None


def _describe(method: str, target: Target) -> str:
    what = target.plural + (f"/{target.subresource}" if target.subresource else "")
    where = f" {target.namespace}/{target.name}" if target.namespace and target.name else ""
    return f"{method} {what}{where}"


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
