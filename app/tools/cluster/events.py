"""Events: what happened recently, in one namespace or all, as a compact table."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app import args as p
from app.kube.discovery import Resource
from app.shapes import TableOutput
from app.spec import Deps, ToolResult, ToolSpec
from app.views import list_table

EVENTS = Resource("", "v1", "Event", "events", namespaced=True)


class EventsListArgs(p.Args):
    namespace: p.OptionalNamespace = Field(None, description="Namespace (all namespaces when omitted)")
    fieldSelector: p.FieldSelector = None
    limit: p.Limit = None
    continue_: p.Continue = Field(None, alias="continue")
    context: p.Context = None


async def events_list(args: EventsListArgs, deps: Deps) -> ToolResult:
    listing = p.ListArgs.model_construct(
        fieldSelector=args.fieldSelector, limit=args.limit, continue_=args.continue_, context=args.context
    )
    return await list_table(deps, EVENTS, listing, namespace=args.namespace)


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="events_list",
        title="List events",
        description="List Kubernetes events (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE) in one namespace or all. "
        "fieldSelector narrows, e.g. 'involvedObject.name=web-1' or 'type=Warning'.",
        params=EventsListArgs,
        output=TableOutput,
        handler=events_list,
        action=lambda a: f"list events{' in namespace ' + a.namespace if a.namespace else ''}",
        read_only=True,
    ),
]
