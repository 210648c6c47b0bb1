"""Cluster-level tools: namespaces, kubeconfig contexts and view, API resources, explain, version.

configuration_view never shows a credential: the kubeconfig is redacted inside app.kube before
it reaches this module. resources_explain lives in ``docs``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
from pydantic import Field

from app import args as p
from app import output
from app.errors import Forbidden
from app.kube.discovery import Resource, served_resources
from app.shapes import (
    ConfigurationOutput,
    ContextItem,
    ContextsOutput,
    TableOutput,
    VersionOutput,
)
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.cluster import docs
from app.views import list_table

NAMESPACES = Resource("", "v1", "Namespace", "namespaces", namespaced=False)


class NamespacesListArgs(p.Args):
    labelSelector: p.LabelSelector = None
    fieldSelector: p.FieldSelector = None
    context: p.Context = None


class ContextsListArgs(p.Args):
    pass


class ConfigurationViewArgs(p.Args):
    minified: bool = Field(
        True,
        description="Only the current context with its cluster and user (default); false = every context",
    )


class ApiResourcesListArgs(p.Args):
    apiGroup: str | None = Field(
        None,
        pattern=r"^[a-z0-9.-]*$",
        description="Only this API group, e.g. 'apps' ('' or 'core' for the core group)",
    )
    namespaced: bool | None = Field(None, description="Only namespaced (true) or cluster-scoped (false) kinds")
    context: p.Context = None


class ClusterVersionArgs(p.Args):
    context: p.Context = None


async def namespaces_list(args: NamespacesListArgs, deps: Deps) -> ToolResult:
    listing = p.ListArgs.model_construct(
        labelSelector=args.labelSelector, fieldSelector=args.fieldSelector, context=args.context
    )
    return await list_table(deps, NAMESPACES, listing, namespace=None)


async def configuration_contexts_list(args: ContextsListArgs, deps: Deps) -> ToolResult:
    contexts = deps.kube.contexts.all()
    items = [
        ContextItem(
            name=c.name,
            cluster=c.cluster,
            server=c.server,
            user=c.user,
            namespace=c.namespace,
            current=c.current,
        )
        for c in contexts
    ]
    current = next((c.name for c in contexts if c.current), None)
    lines = ["CURRENT   NAME   CLUSTER   SERVER   NAMESPACE"]
    lines += [f"{'*' if c.current else ' '}   {c.name}   {c.cluster}   {c.server}   {c.namespace}" for c in contexts]
    return ToolResult("\n".join(lines), ContextsOutput(contexts=items, current=current))


async def configuration_view(args: ConfigurationViewArgs, deps: Deps) -> ToolResult:
    doc = await anyio.to_thread.run_sync(partial(deps.kube.contexts.redacted_kubeconfig, minified=args.minified))
    text, _ = output.cap_text(
        output.to_yaml(doc), deps.settings.output_max_chars, hint="pass minified=true for the current context only"
    )
    current = doc.get("current-context")
    data = ConfigurationOutput(
        kubeconfig=doc, minified=args.minified, current_context=str(current) if current else None
    )
    return ToolResult(text, data)


def api_resources_table(resources: list[Resource], *, group: str | None, namespaced: bool | None) -> output.Table:
    """kubectl api-resources -o wide: NAME SHORTNAMES APIVERSION NAMESPACED KIND VERBS."""
    if group is not None:
        wanted = "" if group in ("", "core") else group
        resources = [r for r in resources if r.group == wanted]
    if namespaced is not None:
        resources = [r for r in resources if r.namespaced == namespaced]
    ordered = sorted(resources, key=lambda r: (r.group != "", r.group, r.plural))
    rows: list[list[output.Cell]] = [
        [r.plural, ",".join(r.short_names), r.api_version, r.namespaced, r.kind, ",".join(r.verbs)] for r in ordered
    ]
    return output.Table(["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS"], rows)


async def api_resources_list(args: ApiResourcesListArgs, deps: Deps) -> ToolResult:
    resources = await served_resources(deps.kube, context=args.context)
    table = api_resources_table(resources, group=args.apiGroup, namespaced=args.namespaced)
    where = ""
    if args.apiGroup is not None:
        where = f" in API group {args.apiGroup or 'core'}"
    rendered = output.render_table(table, noun="API resources", where=where, max_chars=deps.settings.output_max_chars)
    text = rendered.text
    if not table.rows and args.apiGroup is not None:
        groups = sorted({r.group or "core" for r in resources})
        text = text[:-1] + f"; the cluster serves these groups: {', '.join(groups)}."
    data = TableOutput(
        kind="APIResource",
        namespace=None,
        columns=table.columns,
        rows=rendered.rows,
        count=len(rendered.rows),
        truncated=rendered.truncated,
    )
    return ToolResult(text, data)


def _ready(node: dict[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def cluster_version(args: ClusterVersionArgs, deps: Deps) -> ToolResult:
    info = await deps.kube.get_json("/version", context=args.context)
    ctx = deps.kube.context(args.context)
    nodes: int | None = None
    ready: int | None = None
    more = False
    try:
        listed = await deps.kube.get_json(
            "/api/v1/nodes", context=args.context, query={"limit": deps.settings.list_limit}
        )
        items = listed.get("items") or []
        nodes, ready = len(items), sum(_ready(n) for n in items)
        more = bool((listed.get("metadata") or {}).get("continue"))
    except Forbidden:
        pass
    version = str(info.get("gitVersion", "unknown"))
    details = ", ".join(str(info[k]) for k in ("goVersion", "platform") if info.get(k))
    lines = [f"Kubernetes {version}{f' ({details})' if details else ''} at {ctx.server}, context {ctx.name}"]
    if nodes is None:
        lines.append("nodes: not visible to these credentials")
    else:
        lines.append(f"{nodes}{'+' if more else ''} nodes, {ready} Ready")
    data = VersionOutput(
        version=version,
        platform=info.get("platform"),
        go_version=info.get("goVersion"),
        server=ctx.server,
        context=ctx.name,
        nodes=nodes,
        ready_nodes=ready,
    )
    return ToolResult("\n".join(lines), data)


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="configuration_contexts_list",
        title="List kubeconfig contexts",
        description="List the contexts this server can use (name, cluster, server URL, default namespace); "
        "pass one as 'context' to any tool. Credentials are never shown.",
        params=ContextsListArgs,
        output=ContextsOutput,
        handler=configuration_contexts_list,
        action=lambda a: "list contexts",
        read_only=True,
        idempotent=True,
        open_world=False,
        toolset="config",
    ),
    ToolSpec(
        name="namespaces_list",
        title="List namespaces",
        description="List namespaces as a compact table (NAME, STATUS, AGE).",
        params=NamespacesListArgs,
        output=TableOutput,
        handler=namespaces_list,
        action=lambda a: "list namespaces",
        read_only=True,
    ),
    ToolSpec(
        name="configuration_view",
        title="View the kubeconfig",
        description="The server's kubeconfig as YAML with every credential redacted (tokens, keys, certificates, "
        "passwords, exec and auth-provider secrets). minified (default true) keeps only the current context.",
        params=ConfigurationViewArgs,
        output=ConfigurationOutput,
        handler=configuration_view,
        action=lambda a: "view the kubeconfig",
        read_only=True,
        idempotent=True,
        open_world=False,
        toolset="config",
    ),
    ToolSpec(
        name="api_resources_list",
        title="List API resources",
        description="The kinds the cluster serves (CRDs included), in their preferred version: NAME, SHORTNAMES, "
        "APIVERSION, NAMESPACED, KIND, VERBS. Filter by apiGroup or namespaced.",
        params=ApiResourcesListArgs,
        output=TableOutput,
        handler=api_resources_list,
        action=lambda a: "list API resources",
        read_only=True,
        idempotent=True,
    ),
    docs.SPEC,
    ToolSpec(
        name="cluster_version",
        title="Cluster version",
        description="The API server's Kubernetes version, its endpoint and context, and how many nodes are Ready.",
        params=ClusterVersionArgs,
        output=VersionOutput,
        handler=cluster_version,
        action=lambda a: "get the cluster version",
        read_only=True,
        idempotent=True,
    ),
]
