"""The two ways tools read the cluster: a list as a server-side Table, one object as redacted YAML.

Shared by every list and get tool so paging, capping, empty results and unknown namespaces are
handled once and worded the same everywhere.
"""

from __future__ import annotations

from app import output, redaction
from app.args import ListArgs
from app.errors import Forbidden, NotFound
from app.kube.client import TABLE
from app.kube.discovery import Resource
from app.shapes import ObjectOutput, TableOutput
from app.spec import Deps, ToolResult


async def list_table(deps: Deps, resource: Resource, args: ListArgs, *, namespace: str | None) -> ToolResult:
    """List ``resource`` in ``namespace`` (None = all namespaces) as a capped table."""
    scoped_ns = namespace if resource.namespaced else None
    across = resource.namespaced and scoped_ns is None
    query = {
        "labelSelector": args.labelSelector,
        "fieldSelector": args.fieldSelector,
        "limit": args.limit or deps.settings.list_limit,
        "continue": args.continue_,
        "includeObject": "Metadata" if across else "None",
    }
    payload = await deps.kube.get_json(resource.path(scoped_ns), context=args.context, query=query, accept=TABLE)
    table = output.table_from_api(payload, with_namespace=across)
    if not table.rows and scoped_ns:
        await ensure_namespace(deps, scoped_ns, args.context)
    where = f" in namespace {scoped_ns}" if scoped_ns else (" in any namespace" if across else "")
    if args.labelSelector or args.fieldSelector:
        where += " matching " + ", ".join(s for s in (args.labelSelector, args.fieldSelector) if s)
    noun = resource.plural
    rendered = output.render_table(table, noun=noun, where=where, max_chars=deps.settings.output_max_chars)
    data = TableOutput(
        kind=resource.kind,
        namespace=scoped_ns,
        columns=table.columns,
        rows=rendered.rows,
        count=len(rendered.rows),
        truncated=rendered.truncated,
        continue_token=table.continue_token,
    )
    return ToolResult(rendered.text, data)


async def get_object(
    deps: Deps, resource: Resource, *, name: str, namespace: str | None, context: str | None
) -> ToolResult:
    scoped_ns = namespace if resource.namespaced else None
    try:
        obj = await deps.kube.get_json(resource.path(scoped_ns, name), context=context)
    except NotFound:
        if scoped_ns:
            await ensure_namespace(deps, scoped_ns, context)
        raise
    shown = redaction.redact_object(obj, reveal_secrets=deps.settings.reveal_secrets)
    text, _ = output.cap_text(
        output.to_yaml(shown), deps.settings.output_max_chars, hint="the object is larger than the output cap"
    )
    data = ObjectOutput(
        apiVersion=str(obj.get("apiVersion", resource.api_version)),
        kind=resource.kind,
        name=name,
        namespace=scoped_ns,
        object=shown,
    )
    return ToolResult(text, data)


async def ensure_namespace(deps: Deps, namespace: str, context: str | None) -> None:
    """Turn 'nothing found' in a namespace that does not exist into a clear NotFound."""
    try:
        await deps.kube.request("GET", f"/api/v1/namespaces/{namespace}", context=context)
    except NotFound as e:
        raise NotFound(f"namespace {namespace!r} not found") from e
    except Forbidden:
        return  # the caller may not read namespaces; keep the original answer


def scoped_namespace(deps: Deps, resource: Resource, namespace: str | None, context: str | None) -> str | None:
    """The namespace a call on ``resource`` targets: None for cluster-scoped kinds."""
    if not resource.namespaced:
        return None
    return namespace or deps.kube.default_namespace(context)


def object_label(resource: Resource, name: str, namespace: str | None) -> str:
    return f"{resource.kind}/{name}" + (f" in namespace {namespace}" if namespace else "")
