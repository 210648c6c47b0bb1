"""Generic resource tools for any apiVersion/kind, CRDs included: list, get, apply, delete, patch.

Writes are server-side apply (``apply.py``, the server's field manager) or explicit patches; every write
can be previewed (``dryRun``), and a patch answers with a compact diff of what changed, never a dump.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from app import args as p
from app import output
from app.errors import Invalid, KubeError, NotFound, ToolInputError
from app.scope import dry_run_active
from app.shapes import ChangeOutput, ObjectOutput, TableOutput
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.resources import apply
from app.views import ensure_namespace, get_object, list_table, object_label, scoped_namespace

PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}


class ResourcesListArgs(p.ListArgs):
    apiVersion: p.ApiVersion
    kind: p.Kind
    namespace: p.OptionalNamespace = Field(
        None, description="Namespace to list (ignored for cluster-scoped kinds; all namespaces when omitted)"
    )


class ResourcesGetArgs(p.Args):
    apiVersion: p.ApiVersion
    kind: p.Kind
    name: p.Name
    namespace: p.OptionalNamespace = None
    context: p.Context = None


class ResourcesDeleteArgs(p.Args):
    apiVersion: p.ApiVersion
    kind: p.Kind
    name: p.Name
    namespace: p.OptionalNamespace = None
    gracePeriodSeconds: int | None = Field(None, ge=0, description="Seconds to wait before killing (0 = now)")
    propagationPolicy: Literal["Foreground", "Background", "Orphan"] | None = Field(
        None, description="What happens to dependents (default: the kind's own policy, usually Background)"
    )
    dryRun: p.DryRun = False
    context: p.Context = None


class ResourcesPatchArgs(p.Args):
    apiVersion: p.ApiVersion
    kind: p.Kind
    name: p.Name
    namespace: p.OptionalNamespace = None
    patch: dict[str, Any] | list[Any] | str = Field(
        description="The patch, as an object (strategic/merge), a list of operations (json) or a JSON string"
    )
    type: Literal["strategic", "merge", "json"] = Field(
        "strategic", description="strategic (built-in kinds only), merge (RFC 7386) or json (RFC 6902)"
    )
    dryRun: p.DryRun = False
    context: p.Context = None


async def resources_list(args: ResourcesListArgs, deps: Deps) -> ToolResult:
    resource = await deps.discovery.resolve(args.apiVersion, args.kind, context=args.context)
    return await list_table(deps, resource, args, namespace=args.namespace)


async def resources_get(args: ResourcesGetArgs, deps: Deps) -> ToolResult:
    resource = await deps.discovery.resolve(args.apiVersion, args.kind, context=args.context)
    namespace = scoped_namespace(deps, resource, args.namespace, args.context)
    return await get_object(deps, resource, name=args.name, namespace=namespace, context=args.context)


async def resources_delete(args: ResourcesDeleteArgs, deps: Deps) -> ToolResult:
    resource = await deps.discovery.resolve(args.apiVersion, args.kind, context=args.context)
    namespace = scoped_namespace(deps, resource, args.namespace, args.context)
    preview = args.dryRun or dry_run_active()
    query: dict[str, Any] = {
        "gracePeriodSeconds": args.gracePeriodSeconds,
        "propagationPolicy": args.propagationPolicy,
        "dryRun": "All" if args.dryRun else None,
    }
    try:
        response = await deps.kube.request(
            "DELETE", resource.path(namespace, args.name), context=args.context, query=query
        )
    except NotFound:
        if namespace:
            await ensure_namespace(deps, namespace, args.context)
        raise
    body = response.json() or {}
    meta = body.get("metadata") or {}
    label = object_label(resource, args.name, namespace)
    if preview:
        result, detail = "would be deleted", None
    elif body.get("kind") != "Status" and meta.get("deletionTimestamp") and meta.get("finalizers"):
        result, detail = "deletion started", "waiting on finalizers: " + ", ".join(meta["finalizers"])
    else:
        result, detail = "deleted", None
    text = f"{label} {result}" + (f" ({detail})" if detail else "") + (" (dry run)" if preview else "")
    data = ChangeOutput(
        apiVersion=resource.api_version,
        kind=resource.kind,
        name=args.name,
        namespace=namespace,
        result=result,
        dryRun=preview,
        detail=detail,
    )
    return ToolResult(text, data)


def parse_patch(patch: dict[str, Any] | list[Any] | str, patch_type: str) -> dict[str, Any] | list[Any]:
    """The patch as JSON data of the shape its type needs; one-line errors otherwise."""
    value: Any = patch
    if isinstance(patch, str):
        try:
            value = json.loads(patch)
        except json.JSONDecodeError as e:
            raise ToolInputError(f"patch is not valid JSON: line {e.lineno}, column {e.colno}: {e.msg}") from None
    if patch_type == "json":
        if not isinstance(value, list) or not value:
            raise ToolInputError("a json patch is a non-empty list of operations, e.g. [{op: replace, path, value}]")
        for i, op in enumerate(value):
            if not isinstance(op, dict) or "op" not in op or "path" not in op:
                raise ToolInputError(f"json patch operation {i + 1} needs 'op' and 'path'")
        return value
    if not isinstance(value, dict) or not value:
        raise ToolInputError(f"a {patch_type} patch is a non-empty object, e.g. {{spec: {{replicas: 2}}}}")
    return dict(value)


async def resources_patch(args: ResourcesPatchArgs, deps: Deps) -> ToolResult:
    body = parse_patch(args.patch, args.type)
    resource = await deps.discovery.resolve(args.apiVersion, args.kind, context=args.context)
    namespace = scoped_namespace(deps, resource, args.namespace, args.context)
    path = resource.path(namespace, args.name)
    preview = args.dryRun or dry_run_active()
    try:
        before = await deps.kube.get_json(path, context=args.context)
    except NotFound:
        if namespace:
            await ensure_namespace(deps, namespace, args.context)
        raise
    try:
        response = await deps.kube.request(
            "PATCH",
            path,
            context=args.context,
            query={"fieldManager": deps.settings.field_manager, "dryRun": "All" if args.dryRun else None},
            body=body,
            content_type=PATCH_TYPES[args.type],
        )
    except KubeError as e:
        if e.status == 415 and args.type == "strategic":
            raise ToolInputError(
                f"strategic merge patch is not supported for {resource.kind} (a custom resource); "
                "use type 'merge' or 'json'"
            ) from e
        if e.status == 422 and args.type == "json" and "rejected our request" in str(e):
            hint = "a json patch operation does not apply to the object (does each path exist? does each test match?)"
            raise Invalid(f"{e}: {hint}") from e
        raise
    after = response.json()
    diff = output.object_diff(before, after, name=f"{resource.kind}/{args.name}")
    label = object_label(resource, args.name, namespace)
    result = ("would be patched" if preview else "patched") if diff else "unchanged"
    text = f"{label} {result}" + (" (dry run)" if preview else "") + ("\n" + diff if diff else "")
    text, _ = output.cap_text(text, deps.settings.output_max_chars, hint="see the object with resources_get")
    data = ChangeOutput(
        apiVersion=resource.api_version,
        kind=resource.kind,
        name=args.name,
        namespace=namespace,
        result=result,
        dryRun=preview,
        diff=diff or None,
    )
    return ToolResult(text, data)


def _where(namespace: str | None) -> str:
    return f" in namespace {namespace}" if namespace else ""


def _target(a: Any) -> str:
    return f"{a.kind} {(a.namespace + '/') if a.namespace else ''}{a.name}"


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
        action=lambda a: f"get {_target(a)}",
        read_only=True,
    ),
    apply.SPEC,
    ToolSpec(
        name="resources_delete",
        title="Delete a resource",
        description="Delete one object of any apiVersion/kind. gracePeriodSeconds shortens the grace period; "
        "propagationPolicy (Foreground, Background, Orphan) decides what happens to its dependents.",
        params=ResourcesDeleteArgs,
        output=ChangeOutput,
        handler=resources_delete,
        action=lambda a: f"delete {_target(a)}",
        read_only=False,
        destructive=True,
        idempotent=True,
    ),
    ToolSpec(
        name="resources_patch",
        title="Patch a resource",
        description="Patch one object: type strategic (default; built-in kinds only), merge (JSON merge patch) "
        "or json (a list of RFC 6902 operations). Answers with a diff of what changed.",
        params=ResourcesPatchArgs,
        output=ChangeOutput,
        handler=resources_patch,
        action=lambda a: f"patch {_target(a)}",
        read_only=False,
        destructive=True,
        idempotent=False,
    ),
]
