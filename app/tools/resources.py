"""Generic resource tools: list and get any apiVersion/kind, CRDs included, via discovery."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.tools import params as p
from app.tools.registry import Deps, ToolResult, ToolSpec
from app.tools.shapes import ObjectOutput, TableOutput
from app.tools.views import get_object, list_table


class ResourcesListArgs(p.Args):
    apiVersion: p.ApiVersion
    kind: p.Kind
    namespace: p.OptionalNamespace = Field(
        None, description="Namespace to list (ignored for cluster-scoped kinds; all namespaces when omitted)"
    )
    labelSelector: p.LabelSelector = None
    fieldSelector: p.FieldSelector = None
    limit: p.Limit = None
    continue_: p.Continue = Field(None, alias="continue")
    context: p.Context = None


class ResourcesGetArgs(p.Args):
    apiVersion: p.ApiVersion
    kind: p.Kind
    name: p.Name
    namespace: p.OptionalNamespace = None
    context: p.Context = None


async def resources_list(args: ResourcesListArgs, deps: Deps) -> ToolResult:
    resource = await deps.discovery.resolve(args.apiVersion, args.kind, context=args.context)
    return await list_table(
        deps,
        resource,
        namespace=args.namespace,
        context=args.context,
        label_selector=args.labelSelector,
        field_selector=args.fieldSelector,
        limit=args.limit,
        continue_token=args.continue_,
    )


async def resources_get(args: ResourcesGetArgs, deps: Deps) -> ToolResult:
    resource = await deps.discovery.resolve(args.apiVersion, args.kind, context=args.context)
    namespace = (args.namespace or deps.kube.default_namespace(args.context)) if resource.namespaced else None
    return await get_object(deps, resource, name=args.name, namespace=namespace, context=args.context)


def _where(namespace: str | None) -> str:
    return f" in namespace {namespace}" if namespace else ""


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="resources_list",
        title="List resources of any kind",
        description="List objects of any apiVersion/kind (CRDs included) as a compact table. "
        "Omit namespace to list all namespaces; cluster-scoped kinds ignore it.",
        params=ResourcesListArgs,
        output=TableOutput,
        handler=resources_list,
        action=lambda a: f"list {a.kind}{_where(a.namespace)}",
        read_only=True,
    ),
    ToolSpec(
        name="resources_get",
        title="Get a resource of any kind",
        description="Get one object of any apiVersion/kind (CRDs included) as YAML; managedFields and "
        "Secret values are left out.",
        params=ResourcesGetArgs,
        output=ObjectOutput,
        handler=resources_get,
        action=lambda a: f"get {a.kind} {(a.namespace + '/') if a.namespace else ''}{a.name}",
        read_only=True,
    ),
]
