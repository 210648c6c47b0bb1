"""Pod tools: list, get, delete, run and top (names and arguments of the Go kubernetes-mcp-server).

Lists are the API server's Table rendering; a pod made by pods_run carries our managed-by label, so
pods_delete takes its Service with it. Logs and exec, which reach into containers, are in
``app.tools.pods.containers``.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from pydantic import Field

from app import args as p
from app import errors, output
from app.kube.discovery import Resource
from app.scope import dry_run_active
from app.shapes import ActionOutput, ObjectOutput, TableOutput
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.nodes.usage import METRICS_API, get_metrics, pod_top_table
from app.views import ensure_namespace, get_object, list_table

PODS = Resource("", "v1", "Pod", "pods", namespaced=True)
SERVICES = Resource("", "v1", "Service", "services", namespaced=True)
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "k8s-mcp"


class PodsListArgs(p.ListArgs):
    pass


class PodsListInNamespaceArgs(PodsListArgs):
    namespace: p.Namespace


class PodsGetArgs(p.Args):
    name: p.Name
    namespace: p.OptionalNamespace = None
    context: p.Context = None


async def pods_list(args: PodsListArgs, deps: Deps) -> ToolResult:
    return await list_table(deps, PODS, args, namespace=None)


async def pods_list_in_namespace(args: PodsListInNamespaceArgs, deps: Deps) -> ToolResult:
    return await list_table(deps, PODS, args, namespace=args.namespace)


async def pods_get(args: PodsGetArgs, deps: Deps) -> ToolResult:
    namespace = args.namespace or deps.kube.default_namespace(args.context)
    return await get_object(deps, PODS, name=args.name, namespace=namespace, context=args.context)


class PodsDeleteArgs(p.Args):
    name: p.Name
    namespace: p.OptionalNamespace = None
    context: p.Context = None


class PodsRunArgs(p.Args):
    image: str = Field(
        min_length=1, pattern=r"^\S+$", description="Container image to run, e.g. 'nginx:1.27' or 'busybox'"
    )
    name: p.OptionalName = Field(None, description="Pod name (default: a generated k8s-mcp-run-xxxxx)")
    namespace: p.OptionalNamespace = None
    port: int | None = Field(
        None, ge=1, le=65535, description="Container port to expose; also creates a Service of the same name"
    )
    context: p.Context = None


class PodsTopArgs(p.Args):
    all_namespaces: bool = Field(
        True, description="All namespaces (default) unless namespace or name is given; false = the context's namespace"
    )
    namespace: p.OptionalNamespace = None
    name: p.OptionalName = Field(None, description="One pod (in namespace, default the context's)")
    label_selector: p.LabelSelector = None
    containers: bool = Field(False, description="One row per container")
    context: p.Context = None


# -- delete and run -------------------------------------------------------------------------------


def _preview(text: str) -> str:
    return f"[dry run] {text} (nothing was changed)" if dry_run_active() else text


async def pods_delete(args: PodsDeleteArgs, deps: Deps) -> ToolResult:
    namespace = args.namespace or deps.kube.default_namespace(args.context)
    try:
        pod = (await deps.kube.request("DELETE", PODS.path(namespace, args.name), context=args.context)).json() or {}
    except errors.NotFound:
        await ensure_namespace(deps, namespace, args.context)
        raise
    objects = [f"pod/{namespace}/{args.name}"]
    labels = (pod.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY) == MANAGER:  # created by pods_run: its Service goes with it
        try:
            service = await deps.kube.get_json(SERVICES.path(namespace, args.name), context=args.context)
            if ((service.get("metadata") or {}).get("labels") or {}).get(MANAGED_BY) == MANAGER:
                await deps.kube.request("DELETE", SERVICES.path(namespace, args.name), context=args.context)
                objects.append(f"service/{namespace}/{args.name}")
        except errors.NotFound:
            pass
    verb = "Would delete" if dry_run_active() else "Deleted"
    shown = " and ".join(" ".join(o.split("/", 1)) for o in objects)
    text = _preview(f"{verb} {shown}")
    return ToolResult(text, ActionOutput(action="deleted", objects=objects, message=text, dry_run=dry_run_active()))


def generated_name() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "k8s-mcp-run-" + "".join(secrets.choice(alphabet) for _ in range(5))


def run_manifests(name: str, image: str, port: int | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The Pod (and Service when a port is given) that pods_run creates, labelled as ours."""
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": name, MANAGED_BY: MANAGER}
    container: dict[str, Any] = {"name": name, "image": image}
    if port:
        container["ports"] = [{"containerPort": port, "protocol": "TCP"}]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [container]},
    }
    if not port:
        return pod, None
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "selector": {"app.kubernetes.io/name": name, MANAGED_BY: MANAGER},
            "ports": [{"name": f"port-{port}", "port": port, "targetPort": port, "protocol": "TCP"}],
        },
    }
    return pod, service


async def pods_run(args: PodsRunArgs, deps: Deps) -> ToolResult:
    namespace = args.namespace or deps.kube.default_namespace(args.context)
    name = args.name or generated_name()
    pod, service = run_manifests(name, args.image, args.port)
    try:
        await deps.kube.request("POST", PODS.path(namespace), context=args.context, body=pod)
    except errors.NotFound:
        await ensure_namespace(deps, namespace, args.context)
        raise
    objects = [f"pod/{namespace}/{name}"]
    if service is not None:
        await deps.kube.request("POST", SERVICES.path(namespace), context=args.context, body=service)
        objects.append(f"service/{namespace}/{name}")
    verb = "Would create" if dry_run_active() else "Created"
    text = f"{verb} pod {namespace}/{name} running {args.image}"
    if service is not None:
        text += f" and service {namespace}/{name} on port {args.port}"
    text = _preview(text + "; follow it with pods_get or pods_log")
    return ToolResult(text, ActionOutput(action="created", objects=objects, message=text, dry_run=dry_run_active()))


# -- top ------------------------------------------------------------------------------------------


async def pods_top(args: PodsTopArgs, deps: Deps) -> ToolResult:
    across = args.all_namespaces and not args.namespace and not args.name
    namespace = None if across else (args.namespace or deps.kube.default_namespace(args.context))
    base = f"{METRICS_API}/namespaces/{namespace}/pods" if namespace else f"{METRICS_API}/pods"
    if args.name:
        try:
            items = [await get_metrics(deps, f"{base}/{args.name}", context=args.context)]
        except errors.NotFound:
            await deps.kube.get_json(PODS.path(namespace, args.name), context=args.context)  # NotFound: no pod
            raise errors.NotFound(
                f"no metrics yet for pod {namespace}/{args.name}; metrics-server reports a new pod "
                f"within about a minute"
            ) from None
    else:
        query = {"labelSelector": args.label_selector}
        items = (await get_metrics(deps, base, context=args.context, query=query)).get("items") or []
    table = pod_top_table(items, with_namespace=across, containers=args.containers)
    where = f" in namespace {namespace}" if namespace else " in any namespace"
    if args.label_selector:
        where += f" matching {args.label_selector}"
    if not items and namespace:
        await ensure_namespace(deps, namespace, args.context)
    rendered = output.render_table(table, noun="pod metrics", where=where, max_chars=deps.settings.output_max_chars)
    text = rendered.text
    if not items:
        text = text[:-1] + " (metrics-server reports new pods within about a minute)."
    data = TableOutput(
        kind="PodMetrics",
        namespace=namespace,
        columns=table.columns,
        rows=rendered.rows,
        count=len(rendered.rows),
        truncated=rendered.truncated,
    )
    return ToolResult(text, data)


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
    ToolSpec(
        name="pods_delete",
        title="Delete a pod",
        description="Delete a pod (its controller, if any, replaces it). A pod made by pods_run takes its Service "
        "with it.",
        params=PodsDeleteArgs,
        output=ActionOutput,
        handler=pods_delete,
        action=lambda a: f"delete pod {a.namespace or '<default>'}/{a.name}",
        read_only=False,
        destructive=True,
        idempotent=True,
    ),
    ToolSpec(
        name="pods_run",
        title="Run a pod",
        description="Run a pod from a container image (name generated when omitted); with port, also create "
        "a Service of the same name exposing it.",
        params=PodsRunArgs,
        output=ActionOutput,
        handler=pods_run,
        action=lambda a: f"run pod {a.name or '<generated>'} from image {a.image}",
        read_only=False,
    ),
    ToolSpec(
        name="pods_top",
        title="Pod CPU and memory usage",
        description="CPU(cores) and MEMORY(bytes) of pods from the metrics API, as kubectl top pod: all namespaces "
        "by default, or one namespace, one pod, or a label_selector; containers=true for one row per container.",
        params=PodsTopArgs,
        output=TableOutput,
        handler=pods_top,
        action=lambda a: f"get usage of pods{' in namespace ' + a.namespace if a.namespace else ''}",
        read_only=True,
        idempotent=True,
        toolset="metrics",
    ),
]
