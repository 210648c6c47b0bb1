"""``resources_create_or_update``: server-side apply of one or many objects, with a diff preview.

Every document is parsed and checked before the first write. Each object is applied with the
server's field manager (``--field-manager``, default ``k8s-mcp``); the answer is one line per object
(created, configured or unchanged). With ``dryRun`` the API server computes the result and persists
nothing, and the answer carries a compact diff of the live object against that result. A CRD and its
objects can come in one request: the objects wait (bounded) until discovery serves the new kind.
Secret values in the input never appear in an answer, an error line or a log.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

import anyio
from pydantic import Field

from app import args as p
from app import output
from app.errors import K8sMcpError, KubeError, NotFound, ToolInputError
from app.kube.discovery import Resource
from app.scope import dry_run_active
from app.shapes import AppliedObject, ApplyOutput
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.resources.manifests import Manifest, parse_manifests, scrub, secret_values
from app.views import ensure_namespace

APPLY = "application/apply-patch+yaml"
CRD_WAIT_SECONDS = 20.0


class ResourcesCreateOrUpdateArgs(p.Args):
    resource: str = Field(
        description="One or more objects as YAML or JSON; separate YAML documents with '---'", min_length=1
    )
    namespace: p.OptionalNamespace = Field(
        None, description="Namespace for namespaced objects that name none (default: the context's namespace)"
    )
    dryRun: p.DryRun = False
    force: bool = Field(True, description="Take ownership of fields other managers set (server-side apply force)")
    context: p.Context = None


async def resources_create_or_update(args: ResourcesCreateOrUpdateArgs, deps: Deps) -> ToolResult:
    manifests = parse_manifests(args.resource)
    secrets = secret_values(manifests)
    preview = args.dryRun or dry_run_active()
    applied: list[AppliedObject] = []
    new_crds: set[str] = set()
    for m in manifests:
        try:
            item = await _apply_one(m, args, deps, preview=preview, new_crds=new_crds)
        except K8sMcpError as e:
            done = "; already applied: " + ", ".join(f"{a.kind}/{a.name} {a.result}" for a in applied)
            message = f"{m.label} ({m.where}): {e}" + (done if applied else "")
            raise _rephrased(e, scrub(message, secrets)) from None
        applied.append(item)
    lines: list[str] = []
    for a in applied:
        lines.append(f"{a.kind}/{a.name} {a.result}" + (" (dry run)" if preview else ""))
        if a.diff:
            lines.append(a.diff)
    text, _ = output.cap_text("\n".join(lines), deps.settings.output_max_chars, hint="apply fewer objects at once")
    return ToolResult(text, ApplyOutput(dryRun=preview, objects=applied))


async def _apply_one(
    m: Manifest, args: ResourcesCreateOrUpdateArgs, deps: Deps, *, preview: bool, new_crds: set[str]
) -> AppliedObject:
    resource = await _resolve_applied_kind(m, deps, args.context, new_crds=new_crds, preview=preview)
    body = json.loads(json.dumps(m.obj, default=str))  # a private copy; YAML timestamps become strings
    meta = body["metadata"]
    namespace: str | None = None
    if resource.namespaced:
        if m.namespace and args.namespace and m.namespace != args.namespace:
            raise ToolInputError(
                f"the object names namespace {m.namespace!r} but the call asked for {args.namespace!r}"
            )
        namespace = m.namespace or args.namespace or deps.kube.default_namespace(args.context)
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    path = resource.path(namespace, m.name)
    live: dict[str, Any] | None = None
    try:
        live = await deps.kube.get_json(path, context=args.context)
    except NotFound:
        live = None
    query: dict[str, Any] = {"fieldManager": deps.settings.field_manager, "force": args.force}
    if args.dryRun:
        query["dryRun"] = "All"
    try:
        response = await deps.kube.request(
            "PATCH", path, context=args.context, query=query, body=body, content_type=APPLY
        )
    except NotFound:
        if namespace:
            await ensure_namespace(deps, namespace, args.context)
        raise
    result: dict[str, Any] = response.json()
    if resource.group == "apiextensions.k8s.io" and resource.kind == "CustomResourceDefinition":
        new_crds.add(str((result.get("spec") or {}).get("group", "")))
    diff = output.object_diff(live, result, name=m.label) if preview else None
    if live is None:
        outcome: Literal["created", "configured", "unchanged"] = "created"
    elif preview:
        outcome = "configured" if diff else "unchanged"
    else:
        changed = (result.get("metadata") or {}).get("resourceVersion") != live["metadata"].get("resourceVersion")
        outcome = "configured" if changed else "unchanged"
    return AppliedObject(
        apiVersion=resource.api_version,
        kind=resource.kind,
        name=m.name,
        namespace=namespace,
        result=outcome,
        diff=diff or None,
    )


async def _resolve_applied_kind(
    m: Manifest, deps: Deps, context: str | None, *, new_crds: set[str], preview: bool
) -> Resource:
    """Resolve the kind; a kind whose CRD this very call created gets a bounded wait for discovery."""
    group = m.api_version.rpartition("/")[0]
    deadline = time.monotonic() + CRD_WAIT_SECONDS
    while True:
        try:
            return await deps.discovery.resolve(m.api_version, m.kind, context=context)
        except ToolInputError as e:
            if group not in new_crds:
                raise
            if preview:
                hint = "its CustomResourceDefinition, earlier in this request, is not created in a dry run"
                raise ToolInputError(f"{e} ({hint})") from e
            if time.monotonic() > deadline:
                raise
        await anyio.sleep(0.5)


def _rephrased(error: K8sMcpError, message: str) -> K8sMcpError:
    if isinstance(error, KubeError):
        return type(error)(message, status=error.status)
    return type(error)(message)


SPEC: ToolSpec[Any] = ToolSpec(
    name="resources_create_or_update",
    title="Create or update resources (server-side apply)",
    description="Create or update one or more objects from YAML or JSON ('---' between documents) with "
    "server-side apply (field manager k8s-mcp by default). Namespaced objects without a namespace go to "
    "'namespace' or the context's. dryRun=true changes nothing and returns a diff of what would change. "
    "Answers one line per object: '<Kind>/<name> created|configured|unchanged'.",
    params=ResourcesCreateOrUpdateArgs,
    output=ApplyOutput,
    handler=resources_create_or_update,
    action=lambda a: "create or update resources",
    read_only=False,
    destructive=True,
    idempotent=True,
)
