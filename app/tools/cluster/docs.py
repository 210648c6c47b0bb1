"""``resources_explain``: documentation of a kind or field, or a keyword search over kinds and fields.

With a cluster, its own OpenAPI v3 documents are the source (CRDs included, and exactly the
version it runs). When no cluster answers (none configured, unreachable, down), the built-in
kinds are still documented, from the Kubernetes release the installed kubernetes Python client was
generated from (``app.kube.builtin_docs``); every answer says which source it used and, offline,
why the cluster was not asked.
"""

from __future__ import annotations

from typing import Any

import anyio
from pydantic import Field

from app import args as p
from app import output
from app.errors import Timeout as ApiTimeout
from app.errors import ToolInputError, Unavailable
from app.kinds import plural_of
from app.kube import builtin_docs
from app.kube.discovery import split_api_version
from app.shapes import ExplainField, ExplainMatch, ExplainOutput
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.cluster import explain as explain_mod

#: Matches listed in one answer; the rest are counted.
MAX_MATCHES = 40


class ResourcesExplainArgs(p.Args):
    apiVersion: str | None = Field(
        None,
        min_length=1,
        description="apiVersion of the kind, e.g. 'v1', 'apps/v1', 'example.com/v1' (with kind; narrows a search)",
    )
    kind: str | None = Field(
        None, min_length=1, description="Kind, e.g. 'Deployment' (plural names work too); narrows a search"
    )
    field: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.$-]*$",
        description="Dotted field path to explain, e.g. 'spec.template.spec.containers' (default: the kind)",
    )
    search: str | None = Field(
        None,
        min_length=2,
        max_length=100,
        description="Instead of explaining: a keyword (or a few words) to find kinds and field paths, "
        "e.g. 'liveness probe'; each answer line gives the field path to explain next",
    )
    context: p.Context = None


def _offline_source(reason: str) -> str:
    return f"{builtin_docs.source().line()}; no cluster reachable ({reason})"


async def _builtin_document() -> dict[str, Any]:
    return await anyio.to_thread.run_sync(builtin_docs.document)


def _offline_kind(doc: dict[str, Any], api_version: str, kind: str) -> explain_mod.TopKind:
    """The built-in kind an apiVersion and kind (Kind or plural) name, or a line saying what exists."""
    group, version = split_api_version(api_version)
    release = builtin_docs.source().kubernetes
    served = [k for k in explain_mod.top_kinds(doc) if (k.group, k.version) == (group, version)]
    if not served:
        raise ToolInputError(
            f"apiVersion {api_version!r} is not built into Kubernetes {release}, and no cluster answered to ask "
            "about it (custom resources are documented only by their cluster)"
        )
    wanted = kind.strip().lower()
    for top in served:
        if wanted in (top.kind.lower(), plural_of(top.kind)):
            return top
    known = ", ".join(sorted(k.kind for k in served))
    raise ToolInputError(f"unknown kind {kind!r} in apiVersion {api_version} of Kubernetes {release}; known: {known}")


async def _explain(args: ResourcesExplainArgs, deps: Deps, api_version: str, kind: str) -> ToolResult:
    try:
        resource = await deps.discovery.resolve(api_version, kind, context=args.context)
        doc = await deps.discovery.openapi.document(resource.group, resource.version, context=args.context)
        group, version, kind = resource.group, resource.version, resource.kind
        source = f"the cluster's OpenAPI v3 (context {deps.kube.context(args.context).name})"
    except (Unavailable, ApiTimeout) as e:
        doc = await _builtin_document()
        top = _offline_kind(doc, api_version, kind)
        group, version, kind = top.group, top.version, top.kind
        source = _offline_source(str(e))
    ex = explain_mod.explain(doc, group=group, version=version, kind=kind, path=args.field)
    text, _ = output.cap_text(
        f"{explain_mod.render(ex)}\n\n[source: {source}]",
        deps.settings.output_max_chars,
        hint="explain a narrower field path",
    )
    data = ExplainOutput(
        apiVersion=ex.api_version,
        kind=ex.kind,
        field=ex.path,
        type=ex.type,
        description=ex.description,
        fields=[
            ExplainField(name=f.name, type=f.type, required=f.required, description=f.description) for f in ex.fields
        ],
        source=source,
    )
    return ToolResult(text, data)


async def _search(args: ResourcesExplainArgs, deps: Deps, keyword: str) -> ToolResult:
    search = explain_mod.Search(keyword, kind=args.kind)
    try:
        if args.apiVersion:
            group, version = split_api_version(args.apiVersion)
            if args.kind:
                resource = await deps.discovery.resolve(args.apiVersion, args.kind, context=args.context)
                group, version = resource.group, resource.version
            doc = await deps.discovery.openapi.document(group, version, context=args.context)
            await anyio.to_thread.run_sync(search.visit, doc)
        else:
            await deps.discovery.openapi.visit_all(search.visit, context=args.context)
        source = f"the cluster's OpenAPI v3 (context {deps.kube.context(args.context).name})"
    except (Unavailable, ApiTimeout) as e:
        search = explain_mod.Search(keyword, kind=args.kind)
        doc = await _builtin_document()
        if args.apiVersion:
            wanted = split_api_version(args.apiVersion)
            doc = _only_group_version(doc, wanted)
        await anyio.to_thread.run_sync(search.visit, doc)
        source = _offline_source(str(e))
    found = search.results()
    shown = found[:MAX_MATCHES]
    matches = [
        ExplainMatch(
            apiVersion=m.api_version,
            kind=m.kind,
            field=m.path,
            type=m.type,
            description=m.description,
            alsoIn=len(m.kinds) - 1,
        )
        for m in shown
    ]
    table = output.Table(
        ["KIND", "APIVERSION", "FIELD", "TYPE", "DESCRIPTION"],
        [[m.kind, m.apiVersion, m.field or "(the kind)", m.type, m.description + _also(m.alsoIn)] for m in matches],
    )
    narrowed = "".join(f" {k}={v}" for k, v in (("apiVersion", args.apiVersion), ("kind", args.kind)) if v)
    rendered = output.render_table(
        table, noun="kinds or fields", where=f" matching {keyword!r}{narrowed}", max_chars=100_000
    )
    lines = [rendered.text]
    if len(found) > len(shown):
        lines.append(f"[{len(found) - len(shown)} more matches; add words, or narrow with kind or apiVersion]")
    if matches:
        lines.append("[explain one: resources_explain with its apiVersion, kind and field]")
    lines.append(f"[source: {source}]")
    text, _ = output.cap_text("\n".join(lines), deps.settings.output_max_chars, hint="add words to the search")
    data = ExplainOutput(
        apiVersion=args.apiVersion,
        kind=args.kind,
        search=keyword,
        matches=matches,
        matchesTotal=len(found),
        source=source,
    )
    return ToolResult(text, data)


def _also(count: int) -> str:
    return f" (also in {count} more kind{'s' if count != 1 else ''})" if count else ""


def _only_group_version(doc: dict[str, Any], wanted: tuple[str, str]) -> dict[str, Any]:
    """The built-in document with group-version-kinds of other group/versions left out (a narrowed search)."""
    schemas: dict[str, Any] = {}
    for key, schema in (doc.get("components") or {}).get("schemas", {}).items():
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if gvks and all((g.get("group", ""), g.get("version")) != wanted for g in gvks):
            schema = {k: v for k, v in schema.items() if k != "x-kubernetes-group-version-kind"}
        schemas[key] = schema
    return {"components": {"schemas": schemas}}


async def resources_explain(args: ResourcesExplainArgs, deps: Deps) -> ToolResult:
    if args.search is not None:
        if args.field:
            raise ToolInputError("field cannot be combined with search: search first, then explain a field it found")
        keyword = " ".join(args.search.split())
        if len(keyword) < 2:
            raise ToolInputError("search needs a keyword of at least two characters")
        return await _search(args, deps, keyword)
    if not args.apiVersion or not args.kind:
        raise ToolInputError(
            "give apiVersion and kind (and field for one of its fields) to explain, or search with a keyword"
        )
    return await _explain(args, deps, args.apiVersion, args.kind)


def _action(a: ResourcesExplainArgs) -> str:
    if a.search is not None:
        return f"search the API documentation for {a.search!r}"
    return f"explain {a.kind or '<kind>'}{'.' + a.field if a.field else ''}"


SPEC: ToolSpec[Any] = ToolSpec(
    name="resources_explain",
    title="Explain a kind or field",
    description="Documentation of a kind or of one of its fields (e.g. field='spec.template.spec.containers') "
    "from the cluster's OpenAPI v3 schema, as kubectl explain: type, description and child fields. "
    "search='keyword' instead finds kinds and field paths. Without a reachable cluster, built-in kinds are "
    "documented from the Kubernetes release of the server's kubernetes client.",
    params=ResourcesExplainArgs,
    output=ExplainOutput,
    handler=resources_explain,
    action=_action,
    read_only=True,
    idempotent=True,
)
