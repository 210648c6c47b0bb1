"""Cluster-level tools: namespaces and the kubeconfig contexts the server can use."""

from __future__ import annotations

from typing import Any

from app.kube.discovery import Resource
from app.tools import params as p
from app.tools.registry import Deps, ToolResult, ToolSpec
from app.tools.shapes import ContextItem, ContextsOutput, TableOutput
from app.tools.views import list_table

NAMESPACES = Resource("", "v1", "Namespace", "namespaces", namespaced=False, verbs=frozenset())


class NamespacesListArgs(p.Args):
    labelSelector: p.LabelSelector = None
    fieldSelector: p.FieldSelector = None
    context: p.Context = None


class ContextsListArgs(p.Args):
    pass


async def namespaces_list(args: NamespacesListArgs, deps: Deps) -> ToolResult:
    return await list_table(
        deps,
        NAMESPACES,
        namespace=None,
        context=args.context,
        label_selector=args.labelSelector,
        field_selector=args.fieldSelector,
    )


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
]
