"""What the cluster serves: the kinds (discovery), their REST paths, and their OpenAPI v3 schemas.

One dataclass, ``Resource``, describes a kind the API server serves, whichever way it was learned:

- ``Discovery.resolve(apiVersion, kind)``: one group/version's resource list, fetched once per
  context and cached; a lookup that misses (a CRD installed a moment ago) refetches that
  group/version once before giving up, so new kinds appear without a restart and unknown ones fail
  with a line naming what does exist. This is what the tools use (they are given an apiVersion).
- ``served_resources``: every kind at its group's preferred version, from the aggregated discovery
  document (two requests, Kubernetes 1.26+; one per group/version on older servers), in search
  order (``PRIORITY``). ``api_resources_list`` shows it; ``KindIndex`` caches it per context to find
  a kind named the way kubectl names one (``Discovery.lookup``: ``deploy``, ``deployments.apps``,
  ``pods.v1``), as the MCP resource URIs do.

Both parse the API server's documents with the functions below and match names with one rule
(``Resource.answers_to``: Kind, plural, singular or short name, case-insensitively). OpenAPI
documents are cached under their content hash, so a changed CRD schema is refetched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

from app.errors import K8sMcpError, NotFound, ToolInputError, Unavailable
from app.kube.client import Kube

#: Ask for the aggregated discovery document (APIGroupDiscoveryList), plain JSON from older servers.
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
#: The order groups are searched for an unqualified kind: the built-ins first, so ``Event`` is the
#: core v1 Event and a CRD kind is found after them; every other group in the server's order.
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


@dataclass(frozen=True)
class Resource:
    """One kind the API server serves, at one group/version."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    """Subresources the API serves for this kind ('scale', 'status', ...)."""
    singular: str = ""
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def answers_to(self, name: str) -> bool:
        """True when ``name`` is this kind's Kind, plural, singular or a short name (any case)."""
        wanted = name.lower()
        singular = self.singular or self.kind.lower()
        return wanted in (self.kind.lower(), self.plural, singular) or wanted in (s.lower() for s in self.short_names)

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if subresource:
            base += f"/{subresource}"
        return base


def split_api_version(api_version: str) -> tuple[str, str]:
    api_version = api_version.strip()
    if not api_version or api_version.count("/") > 1 or api_version.startswith("/") or api_version.endswith("/"):
        raise ToolInputError(f"invalid apiVersion {api_version!r}: expected 'v1' or 'group/version'")
    group, _, version = api_version.rpartition("/")
    return group, version


def split_kind(segment: str) -> tuple[str, str | None, str | None]:
    """A kind as kubectl names it, as (name, group, version): 'deployments.v1.apps' -> ('deployments', 'apps', 'v1')."""
    resource, _, rest = segment.strip().partition(".")
    if not rest:
        return resource.lower(), None, None
    if _VERSION.match(rest):
        return resource.lower(), "", rest
    first, _, remainder = rest.partition(".")
    if _VERSION.match(first) and remainder:
        return resource.lower(), remainder, first
    return resource.lower(), rest, None


def _group_path(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


# -- parsing the API server's discovery documents -------------------------------------------------


def parse_resource_list(group: str, version: str, doc: dict[str, Any]) -> list[Resource]:
    """The kinds of one APIResourceList (``/apis/<group>/<version>``), each with its subresources."""
    listed = [r for r in doc.get("resources") or [] if isinstance(r, dict)]
    subresources: dict[str, set[str]] = {}
    for r in listed:
        plural, _, sub = str(r.get("name", "")).partition("/")
        if sub:
            subresources.setdefault(plural, set()).add(sub)
    return [
        Resource(
            group=group,
            version=version,
            kind=str(r.get("kind", "")),
            plural=str(r["name"]),
            namespaced=bool(r.get("namespaced")),
            verbs=tuple(str(v) for v in r.get("verbs") or ()),
            subresources=frozenset(subresources.get(str(r["name"]), ())),
            singular=str(r.get("singularName") or ""),
            short_names=tuple(str(s) for s in r.get("shortNames") or ()),
        )
        for r in listed
        if r.get("name") and "/" not in str(r["name"])
    ]


def parse_aggregated(doc: dict[str, Any]) -> list[Resource]:
    """The kinds of an APIGroupDiscoveryList (aggregated discovery v2), at each group's preferred version."""
    found: list[Resource] = []
    for item in doc.get("items") or []:
        group = str((item.get("metadata") or {}).get("name") or "")
        versions = item.get("versions") or []
        if not versions:
            continue
        preferred = versions[0]  # the server lists versions in preference order
        for r in preferred.get("resources") or []:
            plural = str(r.get("resource") or "")
            if not plural or "/" in plural:
                continue
            found.append(
                Resource(
                    group=group,
                    version=str(preferred.get("version", "")),
                    kind=str((r.get("responseKind") or {}).get("kind", "")),
                    plural=plural,
                    namespaced=r.get("scope") == "Namespaced",
                    verbs=tuple(str(v) for v in r.get("verbs") or ()),
                    subresources=frozenset(str(s.get("subresource")) for s in r.get("subresources") or ()),
                    singular=str(r.get("singularResource") or ""),
                    short_names=tuple(str(s) for s in r.get("shortNames") or ()),
                )
            )
    return found


def ranked(resources: list[Resource]) -> list[Resource]:
    """In search order: the ``PRIORITY`` groups first, then the others as the server listed them."""
    rank = {group: i for i, group in enumerate(PRIORITY)}
    return sorted(resources, key=lambda r: rank.get(r.group, len(PRIORITY)))


def _preferred_versions(root: str, doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The (group, preferred version) pairs of a legacy ``/api`` (APIVersions) or ``/apis`` (APIGroupList)."""
    if root == "/api":
        return [("", str(v)) for v in (doc.get("versions") or ["v1"])[:1]]
    pairs = []
    for g in doc.get("groups") or []:
        preferred = g.get("preferredVersion") or (g.get("versions") or [{}])[0]
        if preferred.get("version"):
            pairs.append((str(g["name"]), str(preferred["version"])))
    return pairs


async def served_resources(kube: Kube, *, context: str | None) -> list[Resource]:
    """Every kind the cluster serves, at its group's preferred version, in search order."""
    found: list[Resource] = []
    legacy: list[tuple[str, str]] = []
    for root in ("/api", "/apis"):
        doc = await kube.get_json(root, context=context, accept=AGGREGATED)
        if doc.get("kind") == "APIGroupDiscoveryList":
            found += parse_aggregated(doc)
        else:
            legacy += _preferred_versions(root, doc)
    results: dict[tuple[str, str], list[Resource]] = {}

    async def fetch(group: str, version: str) -> None:
        try:
            results[(group, version)] = parse_resource_list(
                group, version, await kube.get_json(_group_path(group, version), context=context)
            )
        except Unavailable:
            results[(group, version)] = []  # an aggregated API that is down; kubectl skips it too

    async with anyio.create_task_group() as tg:
        for group, version in legacy:
            tg.start_soon(fetch, group, version)
    return ranked(found + [r for key in legacy for r in results[key]])


class KindIndex:
    """``served_resources`` per context, cached; refreshed after ``ttl``, or on a miss at most every ``min_refresh``."""

    def __init__(self, kube: Kube, ttl: float = 60.0, min_refresh: float = 5.0) -> None:
        self._kube = kube
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._cache: dict[str, tuple[float, list[Resource]]] = {}
        self._lock = anyio.Lock()

    async def resources(self, context: str | None, *, refresh: bool = False) -> list[Resource]:
        key = self._kube.context(context).name
        async with self._lock:
            cached = self._cache.get(key)
            if cached and time.monotonic() - cached[0] < (self._min_refresh if refresh else self._ttl):
                return cached[1]
        found = await served_resources(self._kube, context=context)
        async with self._lock:
            self._cache[key] = (time.monotonic(), found)
        return found

    async def find(self, name: str, group: str | None, context: str | None) -> Resource | None:
        """The first kind in search order that answers to ``name`` (in ``group``, when given)."""
        for refresh in (False, True):
            for resource in await self.resources(context, refresh=refresh):
                if (group is None or resource.group == group) and resource.answers_to(name):
                    return resource
        return None


# -- the lookups handlers use -----------------------------------------------------------------------


class Discovery:
    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._cache: dict[tuple[str, str], list[Resource]] = {}
        self._lock = anyio.Lock()
        self.kinds = KindIndex(kube)
        self.openapi = OpenAPISchemas(kube)

    async def resolve(self, api_version: str, kind: str, *, context: str | None = None) -> Resource:
        """The kind ``kind`` (Kind, plural, singular or short name) of ``api_version``; ToolInputError if none."""
        group, version = split_api_version(api_version)
        kind = kind.strip()
        if not kind:
            raise ToolInputError("kind must not be empty")
        ctx = self._kube.context(context).name
        for refresh in (False, True):
            resources = await self._resources(ctx, group, version, api_version, refresh=refresh)
            found = next((r for r in resources if r.answers_to(kind)), None)
            if found is not None:
                return found
        known = sorted({r.kind for r in resources})
        raise ToolInputError(f"unknown kind {kind!r} in apiVersion {api_version}; known kinds: {', '.join(known)}")

    async def lookup(self, segment: str, *, context: str | None = None) -> Resource:
        """A kind named the way kubectl names one ('deploy', 'deployments.apps', 'pods.v1'); NotFound if none.

        An unqualified or group-qualified name is searched in ``KindIndex`` order; a name with group
        and version goes to ``resolve``.
        """
        wanted, group, version = split_kind(segment)
        if not wanted:
            raise ToolInputError("the kind segment is empty")
        if group is not None and version is not None:
            try:
                return await self.resolve(f"{group}/{version}" if group else version, wanted, context=context)
            except ToolInputError as e:
                raise NotFound(str(e)) from e
        found = await self.kinds.find(wanted, group, context)
        if found is None:
            where = f" in API group {group or 'core'}" if group is not None else ""
            raise NotFound(f"unknown kind {segment!r}{where}: the cluster serves no such resource")
        return found

    async def _resources(
        self, ctx: str, group: str, version: str, api_version: str, *, refresh: bool
    ) -> list[Resource]:
        key = (ctx, api_version)
        async with self._lock:
            if not refresh and key in self._cache:
                return self._cache[key]
        try:
            payload = await self._kube.get_json(_group_path(group, version), context=ctx)
        except NotFound as e:
            raise ToolInputError(f"unknown apiVersion {api_version!r}: the cluster serves no such API") from e
        resources = parse_resource_list(group, version, payload)
        async with self._lock:
            self._cache[key] = resources
        return resources


# -- OpenAPI v3 schemas (resources_explain) -------------------------------------------------------


_API_KEY = re.compile(r"^(?:api/v[^/]+|apis/[^/]+/[^/]+)$")


class OpenAPISchemas:
    """The cluster's OpenAPI v3 documents, one per group/version, cached by their content hash."""

    def __init__(self, kube: Kube, max_docs: int = 4) -> None:
        self._kube = kube
        self._docs: dict[str, dict[str, Any]] = {}
        self._max_docs = max_docs
        self._lock = anyio.Lock()

    async def document(self, group: str, version: str, *, context: str | None) -> dict[str, Any]:
        key = f"apis/{group}/{version}" if group else f"api/{version}"
        index = await self._kube.get_json("/openapi/v3", context=context)
        entry = (index.get("paths") or {}).get(key)
        if not entry:
            gv = f"{group}/{version}" if group else version
            raise NotFound(f"the cluster publishes no OpenAPI v3 schema for {gv}")
        url = str(entry.get("serverRelativeURL") or f"/openapi/v3/{key}")
        cache_key = f"{self._kube.context(context).name} {url}"
        async with self._lock:
            cached = self._docs.get(cache_key)
        if cached is not None:
            return cached
        path, _, query = url.partition("?")
        params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        doc: dict[str, Any] = await self._kube.get_json(path, context=context, query=params)
        async with self._lock:
            self._docs[cache_key] = doc
            while len(self._docs) > self._max_docs:
                self._docs.pop(next(iter(self._docs)))
        return doc

    async def visit_all(self, visit: Callable[[dict[str, Any]], None], *, context: str | None) -> int:
        """Call ``visit`` (in a worker thread, one at a time) on every group/version's document; returns how
        many. The documents are not cached: all of them together are tens of MB, and a search needs
        each only once."""
        index = await self._kube.get_json("/openapi/v3", context=context)
        entries = [(k, v) for k, v in sorted((index.get("paths") or {}).items()) if _API_KEY.match(k)]
        fetching = anyio.CapacityLimiter(4)
        visiting = anyio.Lock()

        async def one(key: str, entry: dict[str, Any]) -> None:
            url = str(entry.get("serverRelativeURL") or f"/openapi/v3/{key}")
            path, _, query = url.partition("?")
            params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
            try:
                async with fetching:
                    doc = await self._kube.get_json(path, context=context, query=params)
            except K8sMcpError as e:  # the first failure ends the search with its own line
                failures.append(e)
                tg.cancel_scope.cancel()
                return
            async with visiting:
                await anyio.to_thread.run_sync(visit, doc)

        failures: list[K8sMcpError] = []
        async with anyio.create_task_group() as tg:
            for key, entry in entries:
                tg.start_soon(one, key, entry)
        if failures:
            raise failures[0]
        return len(entries)
