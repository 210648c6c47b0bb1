"""``resources_describe``: what ``kubectl describe`` shows, compact: the object summarized, its owner
chain (Pod -> ReplicaSet -> Deployment) and its recent events, as text rather than a YAML dump.

The per-kind summaries are pure functions of the object (``summaries.py``); the handler fetches the
object, walks ``ownerReferences`` upward and lists events by ``involvedObject.uid``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from app import args as p
from app import output
from app.errors import Forbidden, K8sMcpError, NotFound
from app.shapes import DescribeOutput, EventItem, OwnerItem
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.resources.summaries import event_items, event_time, header, summarize
from app.views import ensure_namespace, scoped_namespace

MAX_OWNER_DEPTH = 6


class ResourcesDescribeArgs(p.Args):
    apiVersion: p.ApiVersion
    kind: p.Kind
    name: p.Name
    namespace: p.OptionalNamespace = None
    events: int = Field(15, ge=0, le=200, description="Most recent events to show (0 = none)")
    context: p.Context = None


async def _owners(deps: Deps, obj: dict[str, Any], namespace: str | None, context: str | None) -> list[OwnerItem]:
    chain: list[OwnerItem] = []
    current = obj
    for _ in range(MAX_OWNER_DEPTH):
        refs = (current.get("metadata") or {}).get("ownerReferences") or []
        if not refs:
            break
        ref = next((r for r in refs if r.get("controller")), refs[0])
        item = OwnerItem(apiVersion=ref["apiVersion"], kind=ref["kind"], name=ref["name"], found=False)
        chain.append(item)
        try:
            resource = await deps.discovery.resolve(ref["apiVersion"], ref["kind"], context=context)
            current = await deps.kube.get_json(
                resource.path(namespace if resource.namespaced else None, ref["name"]), context=context
            )
        except K8sMcpError:
            break
        item.found = True
    return chain


async def _events(deps: Deps, obj: dict[str, Any], namespace: str | None, context: str | None) -> list[dict[str, Any]]:
    uid = (obj.get("metadata") or {}).get("uid")
    path = f"/api/v1/namespaces/{namespace}/events" if namespace else "/api/v1/events"
    try:
        listed = await deps.kube.get_json(path, context=context, query={"fieldSelector": f"involvedObject.uid={uid}"})
    except Forbidden:
        return []
    items: list[dict[str, Any]] = listed.get("items") or []
    return sorted(items, key=event_time)


async def resources_describe(args: ResourcesDescribeArgs, deps: Deps) -> ToolResult:
    resource = await deps.discovery.resolve(args.apiVersion, args.kind, context=args.context)
    namespace = scoped_namespace(deps, resource, args.namespace, args.context)
    try:
        obj = await deps.kube.get_json(resource.path(namespace, args.name), context=args.context)
    except NotFound:
        if namespace:
            await ensure_namespace(deps, namespace, args.context)
        raise
    now = datetime.now(UTC)
    owners = await _owners(deps, obj, namespace, args.context)
    raw_events = await _events(deps, obj, namespace, args.context) if args.events else []
    shown = event_items(raw_events[-args.events :] if args.events else [], now)
    sections = header(obj, now)
    if owners:
        chain = " -> ".join(f"{o.kind}/{o.name}" + ("" if o.found else " (not found)") for o in owners)
        sections.append(("Owners", chain))
    sections += summarize(obj, now)
    title = f"{resource.kind} {namespace + '/' if namespace else ''}{args.name} ({resource.api_version})"
    lines = [title] + [f"{k}:{v}" if v.startswith("\n") else f"{k}: {v}" for k, v in sections]
    lines.append(_events_text(shown, len(raw_events), args.events))
    text, _ = output.cap_text(
        "\n".join(lines), deps.settings.output_max_chars, hint="lower 'events' or use resources_get"
    )
    data = DescribeOutput(
        apiVersion=resource.api_version,
        kind=resource.kind,
        name=args.name,
        namespace=namespace,
        sections=dict(sections),
        owners=owners,
        events=shown,
        eventsTotal=len(raw_events),
    )
    return ToolResult(text, data)


def _events_text(events: list[EventItem], total: int, wanted: int) -> str:
    if not wanted:
        return "Events: not requested"
    if not events:
        return "Events: <none>"
    head = "Events:" if total <= len(events) else f"Events (last {len(events)} of {total}):"
    table = output.Table(
        ["AGE", "TYPE", "REASON", "FROM", "MESSAGE"],
        [[e.age, e.type, e.reason + (f" (x{e.count})" if e.count > 1 else ""), e.source, e.message] for e in events],
    )
    rendered = output.render_table(table, noun="events", where="", max_chars=100_000).text
    return head + "\n" + "\n".join("  " + line for line in rendered.splitlines())


SPEC: ToolSpec[Any] = ToolSpec(
    name="resources_describe",
    title="Describe a resource",
    description="What `kubectl describe` shows, compact: the object summarized (status, containers, replicas, "
    "conditions), its owner chain (e.g. Pod -> ReplicaSet -> Deployment) and its recent events.",
    params=ResourcesDescribeArgs,
    output=DescribeOutput,
    handler=resources_describe,
    action=lambda a: f"describe {a.kind} {(a.namespace + '/') if a.namespace else ''}{a.name}",
    read_only=True,
    idempotent=True,
)
