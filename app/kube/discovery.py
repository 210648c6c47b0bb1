"""apiVersion + kind -> REST resource, for built-in types and CRDs alike.

Each group/version's resource list is fetched once per context and cached; a lookup that misses
(a CRD installed a moment ago) refetches that group/version once before giving up, so new kinds
appear without a restart and unknown ones fail with a line naming what does exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio

from app.errors import NotFound, ToolInputError
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
