"""Pod tools: list across or within namespaces, get one (names and arguments of the Go kubernetes-mcp-server)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.kube.discovery import Resource
from app.tools import params as p
from app.tools.registry import Deps, ToolResult, ToolSpec
from app.tools.shapes import ObjectOutput, TableOutput
from app.tools.views import get_object, list_table

PODS = Resource("", "v1", "Pod", "pods", namespaced=True, verbs=frozenset())


class PodsListArgs(p.Args):
    labelSelector: p.LabelSelector = None
    fieldSelector: p.FieldSelector = None
    limit: p.Limit = None
    continue_: p.Continue = Field(None, alias="continue")
    context: p.Context = None


class PodsListInNamespaceArgs(PodsListArgs):
    namespace: p.Namespace


class PodsGetArgs(p.Args):
    name: p.Name
    namespace: p.OptionalNamespace = None
    context: p.Context = None


async def pods_list(args: PodsListArgs, deps: Deps) -> ToolResult:
    return await list_table(
        deps,
        PODS,
        namespace=None,
        context=args.context,
        label_selector=args.labelSelector,
        field_selector=args.fieldSelector,
        limit=args.limit,
        continue_token=args.continue_,
    )


async def pods_list_in_namespace(args: PodsListInNamespaceArgs, deps: Deps) -> ToolResult:
    return await list_table(
        deps,
        PODS,
        namespace=args.namespace,
        context=args.context,
        label_selector=args.labelSelector,
        field_selector=args.fieldSelector,
        limit=args.limit,
        continue_token=args.continue_,
    )


async def pods_get(args: PodsGetArgs, deps: Deps) -> ToolResult:
    namespace = args.namespace or deps.kube.default_namespace(args.context)
    return await get_object(deps, PODS, name=args.name, namespace=namespace, context=args.context)


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="pods_list",
        title="List pods in all namespaces",
        description="List pods in all namespaces as a compact table (NAMESPACE, NAME, READY, STATUS, RESTARTS, AGE). "
        "Filter with labelSelector/fieldSelector; page with limit/continue.",
        params=PodsListArgs,
        output=TableOutput,
        handler=pods_list,
        action=lambda a: "list pods in all namespaces",
        read_only=True,
    ),
    ToolSpec(
        name="pods_list_in_namespace",
        title="List pods in a namespace",
        description="List pods in one namespace as a compact table. Filter with labelSelector/fieldSelector.",
        params=PodsListInNamespaceArgs,
        output=TableOutput,
        handler=pods_list_in_namespace,
        action=lambda a: f"list pods in namespace {a.namespace}",
        read_only=True,
    ),
    ToolSpec(
        name="pods_get",
        title="Get a pod",
        description="Get one pod as YAML (managedFields omitted).",
        params=PodsGetArgs,
        output=ObjectOutput,
        handler=pods_get,
        action=lambda a: f"get pod {a.namespace or '<default>'}/{a.name}",
        read_only=True,
    ),
]
