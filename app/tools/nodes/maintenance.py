"""Node maintenance: cordon and uncordon (``spec.unschedulable``); ``drain`` builds on the cordon.

A cordon is one merge patch of the node, sent with the server's field manager; asking for the state
the node is already in changes nothing and says so.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app import args as p
from app.kube.discovery import Resource
from app.scope import dry_run_active
from app.shapes import NodeSchedulingOutput
from app.spec import Deps, ToolResult, ToolSpec

NODES = Resource("", "v1", "Node", "nodes", namespaced=False)
MERGE_PATCH = "application/merge-patch+json"


class NodeArgs(p.Args):
    name: p.Name = Field(description="Node name")
    context: p.Context = None


async def set_unschedulable(deps: Deps, name: str, context: str | None, unschedulable: bool) -> bool:
    """Make the node (un)schedulable; returns whether it was unschedulable before. NotFound names the node."""
    node = await deps.kube.get_json(NODES.path(None, name), context=context)
    before = bool((node.get("spec") or {}).get("unschedulable"))
    if before != unschedulable:
        await patch_unschedulable(deps, name, context, unschedulable)
    return before


async def patch_unschedulable(deps: Deps, name: str, context: str | None, unschedulable: bool) -> None:
    await deps.kube.request(
        "PATCH",
        NODES.path(None, name),
        context=context,
        query={"fieldManager": deps.settings.field_manager},
        body={"spec": {"unschedulable": True if unschedulable else None}},  # null removes it, as kubectl does
        content_type=MERGE_PATCH,
    )


async def _schedule(args: NodeArgs, deps: Deps, *, cordon: bool) -> ToolResult:
    before = await set_unschedulable(deps, args.name, args.context, cordon)
    changed = before != cordon
    word = "cordoned" if cordon else "uncordoned"
    preview = dry_run_active()
    if not changed:
        text = f"node/{args.name} already {word}; nothing changed"
    else:
        text = f"node/{args.name} {'would be ' if preview else ''}{word}" + (" (dry run)" if preview else "")
    data = NodeSchedulingOutput(node=args.name, unschedulable=cordon, changed=changed, dryRun=preview)
    return ToolResult(text, data)


async def nodes_cordon(args: NodeArgs, deps: Deps) -> ToolResult:
    return await _schedule(args, deps, cordon=True)


async def nodes_uncordon(args: NodeArgs, deps: Deps) -> ToolResult:
    return await _schedule(args, deps, cordon=False)


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="nodes_cordon",
        title="Cordon a node",
        description="Mark a node unschedulable (kubectl cordon): running pods stay, new pods go elsewhere.",
        params=NodeArgs,
        output=NodeSchedulingOutput,
        handler=nodes_cordon,
        action=lambda a: f"cordon node {a.name}",
        read_only=False,
        idempotent=True,
    ),
    ToolSpec(
        name="nodes_uncordon",
        title="Uncordon a node",
        description="Mark a node schedulable again (kubectl uncordon), e.g. after maintenance or a drain.",
        params=NodeArgs,
        output=NodeSchedulingOutput,
        handler=nodes_uncordon,
        action=lambda a: f"uncordon node {a.name}",
        read_only=False,
        idempotent=True,
    ),
]
