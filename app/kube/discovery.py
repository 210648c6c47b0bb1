"""What the cluster serves: apiVersion + kind -> REST resource, the api-resources list, OpenAPI v3 schemas.

Each group/version's resource list is fetched once per context and cached; a lookup that misses
(a CRD installed a moment ago) refetches that group/version once before giving up, so new kinds
appear without a restart and unknown ones fail with a line naming what does exist. OpenAPI
documents are cached under their content hash, so a changed CRD schema is refetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

from app.errors import K8sMcpError, NotFound, ToolInputError, Unavailable
from app.kube.client import Kube


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset[str]
    subresources: frozenset[str] = frozenset()
    """Subresources the API serves for this kind ('scale', 'status', ...)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

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


class Discovery:
    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._lock = anyio.Lock()
        self.openapi = OpenAPISchemas(kube)

    async def resolve(self, api_version: str, kind: str, *, context: str | None = None) -> Resource:
        group, version = split_api_version(api_version)
        kind = kind.strip()
        if not kind:
            raise ToolInputError("kind must not be empty")
        ctx = self._kube.context(context).name
        for refresh in (False, True):
            resources = await self._resources(ctx, group, version, api_version, refresh=refresh)
            found = _match(resources, kind)
            if found is not None:
                return Resource(
                    group,
                    version,
                    str(found["kind"]),
                    str(found["name"]),
                    bool(found.get("namespaced")),
                    frozenset(found.get("verbs") or ()),
                    _subresources(resources, str(found["name"])),
                )
        known = sorted({str(r["kind"]) for r in resources if "/" not in str(r["name"])})
        raise ToolInputError(f"unknown kind {kind!r} in apiVersion {api_version}; known kinds: {', '.join(known)}")

    async def _resources(
        self, ctx: str, group: str, version: str, api_version: str, *, refresh: bool
    ) -> list[dict[str, Any]]:
        key = (ctx, api_version)
        async with self._lock:
            if not refresh and key in self._cache:
                return self._cache[key]
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            payload = await self._kube.get_json(path, context=ctx)
        except NotFound as e:
            raise ToolInputError(f"unknown apiVersion {api_version!r}: the cluster serves no such API") from e
        resources = list(payload.get("resources") or [])
        async with self._lock:
            self._cache[key] = resources
        return resources


def _match(resources: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    wanted = kind.lower()
    for r in resources:
        name = str(r.get("name", ""))
        if "/" in name:
            continue
        names = {str(r.get("kind", "")).lower(), name, str(r.get("singularName", "")).lower()}
        names.update(str(s).lower() for s in r.get("shortNames") or ())
        if wanted in names:
            return r
    return None


def _subresources(resources: list[dict[str, Any]], plural: str) -> frozenset[str]:
    prefix = plural + "/"
    return frozenset(str(r["name"])[len(prefix) :] for r in resources if str(r.get("name", "")).startswith(prefix))


# -- api-resources: every kind the cluster serves (preferred versions) ----------------------------

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"


@dataclass(frozen=True)
class ApiResource:
    name: str
    short_names: tuple[str, ...]
    group: str
    version: str
    namespaced: bool
    kind: str
    verbs: tuple[str, ...]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def parse_aggregated(doc: dict[str, Any]) -> list[ApiResource]:
    """Resources of an APIGroupDiscoveryList (aggregated discovery v2), preferred version only."""
    found: list[ApiResource] = []
    for group in doc.get("items") or []:
        name = str((group.get("metadata") or {}).get("name") or "")
        versions = group.get("versions") or []
        if not versions:
            continue
        preferred = versions[0]  # the server lists versions in preference order
        for r in preferred.get("resources") or []:
            found.append(
                ApiResource(
                    name=str(r.get("resource", "")),
                    short_names=tuple(r.get("shortNames") or ()),
                    group=name,
                    version=str(preferred.get("version", "")),
                    namespaced=r.get("scope") == "Namespaced",
                    kind=str((r.get("responseKind") or {}).get("kind", "")),
                    verbs=tuple(r.get("verbs") or ()),
                )
            )
    return found


def parse_resource_list(group: str, version: str, doc: dict[str, Any]) -> list[ApiResource]:
    """Resources of one legacy APIResourceList (subresources left out)."""
    return [
        ApiResource(
            name=str(r.get("name", "")),
            short_names=tuple(r.get("shortNames") or ()),
            group=group,
            version=version,
            namespaced=bool(r.get("namespaced")),
            kind=str(r.get("kind", "")),
            verbs=tuple(r.get("verbs") or ()),
        )
        for r in doc.get("resources") or []
        if "/" not in str(r.get("name", ""))
    ]


async def api_resources(kube: Kube, *, context: str | None) -> list[ApiResource]:
    """Every resource the cluster serves, in its preferred version: two calls with aggregated
    discovery (Kubernetes 1.26+), one per group/version on older servers."""
    core = await kube.request("GET", "/api", context=context, accept=AGGREGATED)
    groups = await kube.request("GET", "/apis", context=context, accept=AGGREGATED)
    if "apidiscovery.k8s.io" in core.content_type and "apidiscovery.k8s.io" in groups.content_type:
        return parse_aggregated(core.json()) + parse_aggregated(groups.json())
    wanted = [("", v) for v in (core.json() or {}).get("versions") or []]
    for group in (groups.json() or {}).get("groups") or []:
        preferred = (group.get("preferredVersion") or {}).get("version")
        if preferred:
            wanted.append((str(group["name"]), str(preferred)))
    results: dict[tuple[str, str], list[ApiResource]] = {}

    async def fetch(group: str, version: str) -> None:
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            results[(group, version)] = parse_resource_list(group, version, await kube.get_json(path, context=context))
        except Unavailable:
            results[(group, version)] = []  # an aggregated API that is down; kubectl skips it too

    async with anyio.create_task_group() as tg:
        for group, version in wanted:
            tg.start_soon(fetch, group, version)
    return [r for key in wanted for r in results.get(key, [])]


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
