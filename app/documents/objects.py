"""What the server offers as MCP resources: Kubernetes objects by URI, and a library of manifest templates.

Objects: ``k8s://{context}/{namespace}/{kind}/{name}`` for namespaced objects and
``k8s://{context}/_cluster/{kind}/{name}`` for cluster-scoped ones. ``context`` is a kubeconfig
context name (percent-encoded if it holds '/' or ':') or ``current`` for the server's default.
``kind`` is how kubectl spells a type: Kind (``Deployment``), plural (``deployments``), singular or
short name (``deploy``), optionally qualified with a group (``deployments.apps``,
``widgets.example.com``) or version and group (``deployments.v1.apps``, ``pods.v1``).

How an unqualified kind is resolved (decided here, once): the index of every served resource comes
from the aggregated discovery document (two requests, cached for a minute per context; per-group
requests on servers without it), searched group by group at each group's preferred version in this
order: core, apps, batch, autoscaling, networking.k8s.io, policy, rbac.authorization.k8s.io,
storage.k8s.io, then every other group in the order the API server lists them. The first match wins,
so ``Event`` is the core v1 Event and a CRD kind is found after the built-ins; qualify the kind to
choose otherwise. The chosen apiVersion/kind then goes through ``Discovery.resolve`` like any tool.

Reads use ``Kube.request`` (policy: denied kinds such as Secret, namespace limits, impersonation)
and ``redaction.redact_object``; the transport scrubs the text, as for tool results. Templates are YAML
files shipped in the package (``app/tools/templates``), read as ``k8s-template://{name}``.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Any

import anyio
import yaml
from pydantic import TypeAdapter, ValidationError

from app import args as p
from app import errors, output, redaction
from app.kube.client import Kube
from app.kube.discovery import Resource
from app.spec import Deps
from app.views import ensure_namespace

CLUSTER_SEGMENT = "_cluster"
CURRENT_CONTEXT = "current"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
PRIORITY = (
    "",
    "apps",
    "batch",
    "autoscaling",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
)
_VERSION = re.compile(r"^v\d+((alpha|beta)\d+)?$")
_NAME = TypeAdapter(p.Name)
_NAMESPACE = TypeAdapter(p.Namespace)


def object_uri(context: str | None, namespace: str | None, plural: str, name: str) -> str:
    return f"k8s://{context or CURRENT_CONTEXT}/{namespace or CLUSTER_SEGMENT}/{plural}/{name}"


# --- the kind index -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindEntry:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def answers_to(self, wanted: str) -> bool:
        return wanted in {self.kind.lower(), self.plural, self.singular, *self.short_names}


def split_kind(segment: str) -> tuple[str, str | None, str | None]:
    """'deployments.v1.apps' -> ('deployments', 'apps', 'v1'); 'pods' -> ('pods', None, None)."""
    resource, _, rest = segment.strip().partition(".")
    if not rest:
        return resource.lower(), None, None
    if _VERSION.match(rest):
        return resource.lower(), "", rest
    first, _, remainder = rest.partition(".")
    if _VERSION.match(first) and remainder:
        return resource.lower(), remainder, first
    return resource.lower(), rest, None


def _entries_from_group(group: str, version: str, resources: list[dict[str, Any]], aggregated: bool) -> list[KindEntry]:
    out: list[KindEntry] = []
    for r in resources:
        plural = str(r.get("resource") if aggregated else r.get("name", ""))
        if not plural or "/" in plural:
            continue
        kind = str((r.get("responseKind") or {}).get("kind") if aggregated else r.get("kind", ""))
        namespaced = r.get("scope") == "Namespaced" if aggregated else bool(r.get("namespaced"))
        singular = str((r.get("singularResource") if aggregated else r.get("singularName")) or kind.lower())
        shorts = tuple(str(s).lower() for s in r.get("shortNames") or ())
        out.append(KindEntry(group, version, kind, plural, singular, shorts, namespaced))
    return out


class KindIndex:
    """Every resource the cluster serves, per context, in search order; refreshed after ``ttl`` or on a miss."""

    def __init__(self, kube: Kube, ttl: float = 60.0, min_refresh: float = 5.0) -> None:
        self._kube = kube
        self._ttl = ttl
        self._min_refresh = min_refresh  # a miss refetches, but not more often than this
        self._cache: dict[str, tuple[float, list[KindEntry]]] = {}
        self._lock = anyio.Lock()

    async def entries(self, context: str | None, *, refresh: bool = False) -> list[KindEntry]:
        key = self._kube.context(context).name
        async with self._lock:
            cached = self._cache.get(key)
            age = time.monotonic() - cached[0] if cached else None
            if cached and age is not None and age < (self._min_refresh if refresh else self._ttl):
                return cached[1]
        found = await self._fetch(context)
        async with self._lock:
            self._cache[key] = (time.monotonic(), found)
        return found

    async def _fetch(self, context: str | None) -> list[KindEntry]:
        by_group: dict[str, list[KindEntry]] = {}
        order: list[str] = []
        for root in ("/api", "/apis"):
            payload = await self._kube.get_json(root, context=context, accept=AGGREGATED)
            if payload.get("kind") == "APIGroupDiscoveryList":
                for item in payload.get("items") or []:
                    group = str((item.get("metadata") or {}).get("name") or "")
                    versions = item.get("versions") or []
                    if versions:  # listed in preference order: the first is the preferred one
                        v = versions[0]
                        by_group[group] = _entries_from_group(group, v["version"], v.get("resources") or [], True)
                        order.append(group)
            else:
                for group, version in _legacy_groups(root, payload):
                    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
                    listed = await self._kube.get_json(path, context=context)
                    by_group[group] = _entries_from_group(group, version, listed.get("resources") or [], False)
                    order.append(group)
        ranked = [g for g in PRIORITY if g in by_group] + [g for g in order if g not in PRIORITY]
        return [entry for g in ranked for entry in by_group[g]]

    async def find(self, segment: str, context: str | None) -> KindEntry:
        wanted, group, _version = split_kind(segment)
        for refresh in (False, True):
            for entry in await self.entries(context, refresh=refresh):
                if (group is None or entry.group == group) and entry.answers_to(wanted):
                    return entry
        where = f" in API group {group or 'core'}" if group is not None else ""
        raise errors.NotFound(f"unknown kind {segment!r}{where}: the cluster serves no such resource")


def _legacy_groups(root: str, payload: dict[str, Any]) -> list[tuple[str, str]]:
    if root == "/api":
        return [("", str(v)) for v in (payload.get("versions") or ["v1"])[:1]]
    return [
        (str(g["name"]), str((g.get("preferredVersion") or g["versions"][0])["version"]))
        for g in payload.get("groups") or []
    ]


# --- objects --------------------------------------------------------------------------------------


def _checked(adapter: TypeAdapter[str], value: str) -> str:
    try:
        return adapter.validate_python(value)
    except ValidationError as e:
        raise errors.ToolInputError(str(e.errors()[0]["msg"]).removeprefix("Value error, ")) from e


async def resolve_kind(deps: Deps, index: KindIndex, segment: str, context: str | None) -> Resource:
    wanted, group, version = split_kind(segment)
    if not wanted:
        raise errors.ToolInputError("the kind segment is empty")
    if group is not None and version is not None:
        try:
            return await deps.discovery.resolve(f"{group}/{version}" if group else version, wanted, context=context)
        except errors.ToolInputError as e:
            raise errors.NotFound(str(e)) from e
    entry = await index.find(segment, context)
    return await deps.discovery.resolve(entry.api_version, entry.plural, context=context)


async def read_object(deps: Deps, index: KindIndex, context: str, namespace: str, kind: str, name: str) -> str:
    """The object as redacted YAML; our errors for every failure (the transport words them)."""
    ctx = None if context == CURRENT_CONTEXT else context
    deps.kube.context(ctx)  # an unknown context fails here, naming the known ones
    name = _checked(_NAME, name)
    cluster = namespace == CLUSTER_SEGMENT
    if not cluster:
        namespace = _checked(_NAMESPACE, namespace)
    resource = await resolve_kind(deps, index, kind, ctx)
    if resource.namespaced and cluster:
        raise errors.ToolInputError(
            f"{resource.kind} is namespaced: read {object_uri(context, '<namespace>', resource.plural, name)}"
        )
    if not resource.namespaced and not cluster:
        raise errors.ToolInputError(
            f"{resource.kind} is cluster-scoped: read {object_uri(context, None, resource.plural, name)}"
        )
    scoped = None if cluster else namespace
    try:
        obj = await deps.kube.get_json(resource.path(scoped, name), context=ctx)
    except errors.NotFound:
        if scoped:
            await ensure_namespace(deps, scoped, ctx)
        raise
    shown = redaction.redact_object(obj, reveal_secrets=deps.settings.reveal_secrets)
    text, _ = output.cap_text(
        output.to_yaml(shown),
        deps.settings.output_max_chars,
        hint="the object is larger than the output cap (K8S_MCP_OUTPUT_MAX_CHARS)",
    )
    return text


# --- templates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    name: str
    kind: str
    api_version: str
    description: str
    text: str

    @property
    def uri(self) -> str:
        return f"k8s-template://{self.name}"


@functools.cache
def templates() -> dict[str, Template]:
    """The shipped templates by name (file stem), read once from the package."""
    folder = package_files.files("app.documents").joinpath("templates")
    found: dict[str, Template] = {}
    for entry in sorted(folder.iterdir(), key=lambda f: f.name):
        if not entry.name.endswith(".yaml"):
            continue
        text = entry.read_text(encoding="utf-8")
        doc = yaml.safe_load(text)
        comments = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
        name = entry.name.removesuffix(".yaml")
        found[name] = Template(name, str(doc["kind"]), str(doc["apiVersion"]), " ".join(comments), text)
    return found


def find_template(name: str) -> Template:
    """By file name or by Kind, case-insensitively: 'hpa', 'HorizontalPodAutoscaler', 'Deployment'."""
    wanted = name.strip().lower()
    for template in templates().values():
        if wanted in {template.name, template.kind.lower()}:
            return template
    raise errors.NotFound(f"no template {name!r}; templates: {', '.join(templates())}")


def template_index() -> str:
    rows = [
        {"name": t.name, "kind": t.kind, "apiVersion": t.api_version, "uri": t.uri, "description": t.description}
        for t in templates().values()
    ]
    return output.to_yaml({"templates": rows})
