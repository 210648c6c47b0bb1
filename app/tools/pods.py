"""Pod tools: list, get, logs, exec, delete, run and top (names and arguments of the Go kubernetes-mcp-server).

Logs keep the newest lines within the output cap; a pod with several containers and none named
gets its default container and a line saying which, as kubectl does. Exec runs over the API
server's WebSocket (app.kube.exec) and reports the exit code and stderr; in a dry-run preview it
only says what it would run.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from pydantic import Field

from app import errors, output
from app.kube.client import dry_run_active
from app.kube.discovery import Resource
from app.kube.exec import ExecResult, exec_in_pod
from app.tools import params as p
from app.tools.registry import Deps, ToolResult, ToolSpec
from app.tools.shapes import ActionOutput, ExecOutput, LogOutput, ObjectOutput, TableOutput
from app.tools.usage import METRICS_API, get_metrics, pod_top_table
from app.tools.views import ensure_namespace, get_object, list_table

PODS = Resource("", "v1", "Pod", "pods", namespaced=True, verbs=frozenset())
SERVICES = Resource("", "v1", "Service", "services", namespaced=True, verbs=frozenset())
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "k8s-mcp"


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


class PodsLogArgs(p.Args):
    name: p.Name
    namespace: p.OptionalNamespace = None
    container: p.ContainerName = None
    tail: int = Field(
        100, ge=0, description="Lines from the end of the log (default 100; 0 = as many as fit the output cap)"
    )
    previous: bool = Field(False, description="Logs of the previous, terminated instance (after a restart)")
    since: p.Since = None
    context: p.Context = None


class PodsExecArgs(p.Args):
    name: p.Name
    namespace: p.OptionalNamespace = None
    command: p.Command
    container: p.ContainerName = None
    timeout: int = Field(30, ge=1, le=600, description="Seconds before the command is abandoned (default 30)")
    context: p.Context = None


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


# -- logs -----------------------------------------------------------------------------------------


def default_container(pod: dict[str, Any]) -> tuple[str, list[str]]:
    """The container kubectl picks when none is named (annotation, else the first), and all names."""
    names = [str(c.get("name")) for c in (pod.get("spec") or {}).get("containers") or []]
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    chosen = annotations.get(DEFAULT_CONTAINER_ANNOTATION)
    if chosen not in names:
        chosen = names[0] if names else ""
    return str(chosen), names


def _needs_container(e: errors.KubeError) -> bool:
    return isinstance(e, errors.BadRequest) and "container name must be specified" in e.reason


async def _pick_container(deps: Deps, namespace: str, name: str, context: str | None) -> tuple[str, str]:
    """(container, note) for a pod with several containers when the caller named none."""
    pod = await deps.kube.get_json(PODS.path(namespace, name), context=context)
    chosen, names = default_container(pod)
    note = f"[pod {namespace}/{name} has containers {', '.join(names)}: showing {chosen}; pass container to choose]"
    return chosen, note


async def pods_log(args: PodsLogArgs, deps: Deps) -> ToolResult:
    namespace = args.namespace or deps.kube.default_namespace(args.context)
    max_chars = deps.settings.output_max_chars
    query: dict[str, Any] = {
        "container": args.container,
        "tailLines": args.tail or max_chars // 2 + 1,
        "previous": True if args.previous else None,
    }
    if args.since:
        key, value = p.parse_since(args.since)
        query[key] = value
    container, note = args.container, ""
    path = PODS.path(namespace, args.name, "log")
    try:
        try:
            text = (await deps.kube.request("GET", path, context=args.context, query=query, accept="*/*")).text()
        except errors.KubeError as e:
            if args.container or not _needs_container(e):
                raise
            container, note = await _pick_container(deps, namespace, args.name, args.context)
            query["container"] = container
            text = (await deps.kube.request("GET", path, context=args.context, query=query, accept="*/*")).text()
    except errors.NotFound:
        await ensure_namespace(deps, namespace, args.context)
        raise
    which = f" (container {container})" if container else ""
    if not text.strip():
        window = f" in the last {args.since}" if args.since and query.get("sinceSeconds") else ""
        window = f" since {args.since}" if "sinceTime" in query else window
        shown = f"Pod {namespace}/{args.name}{which} has no log lines{window}."
        return ToolResult(
            "\n".join(x for x in (note, shown) if x),
            LogOutput(name=args.name, namespace=namespace, container=container, lines=0, truncated=False, log=""),
        )
    body, truncated = output.cap_tail(
        text, max_chars - len(note) - 1, hint="pass since or a smaller tail to narrow the window"
    )
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    shown_lines = body.count("\n") if truncated else lines
    data = LogOutput(
        name=args.name,
        namespace=namespace,
        container=container,
        lines=shown_lines,
        truncated=truncated,
        log=body if not truncated else body.rsplit("\n[output capped", 1)[0],
    )
    return ToolResult("\n".join(x for x in (note, body.rstrip("\n")) if x), data)


# -- exec -----------------------------------------------------------------------------------------


def render_exec(result: ExecResult, *, max_chars: int, timeout: int) -> tuple[str, bool]:
    """stdout, then stderr under a marker, then the exit status on the last line."""
    hint = "narrow the command (head, tail, grep) to see the rest"
    stderr, err_cut = output.cap_text(result.stderr, max(max_chars // 4, 200), hint=hint)
    stdout, out_cut = output.cap_text(result.stdout, max(max_chars - len(stderr) - 100, 200), hint=hint)
    parts = [stdout.rstrip("\n")] if stdout else []
    if stderr:
        parts += ["[stderr]", stderr.rstrip("\n")]
    if not parts:
        parts.append("(no output)")
    if result.truncated and not out_cut:
        parts.append(f"[output capped: the stream was closed at the size limit; {hint}]")
    if result.timed_out:
        parts.append(f"[timed out after {timeout}s: the command was abandoned; output so far is above]")
    elif result.exit_code is None:
        parts.append("[exit code unknown: the stream ended before the command reported its status]")
    else:
        parts.append(f"[exit code {result.exit_code}]")
    return "\n".join(parts), result.truncated or out_cut or err_cut


async def pods_exec(args: PodsExecArgs, deps: Deps) -> ToolResult:
    namespace = args.namespace or deps.kube.default_namespace(args.context)
    shown = " ".join(args.command)
    if dry_run_active():
        text = f"[dry run] would run `{shown}` in pod {namespace}/{args.name}; nothing was run."
        data = ExecOutput(
            name=args.name,
            namespace=namespace,
            container=args.container,
            command=list(args.command),
            exit_code=None,
            stdout="",
            stderr="",
            timed_out=False,
            truncated=False,
            dry_run=True,
        )
        return ToolResult(text, data)
    max_chars = deps.settings.output_max_chars
    container, note = args.container, ""

    async def run(container: str | None) -> ExecResult:
        return await exec_in_pod(
            deps.kube,
            namespace=namespace,
            pod=args.name,
            command=list(args.command),
            container=container,
            context=args.context,
            timeout=args.timeout,
            max_bytes=max_chars * 4,
        )

    try:
        try:
            result = await run(container)
        except errors.KubeError as e:
            if args.container or not _needs_container(e):
                raise
            container, note = await _pick_container(deps, namespace, args.name, args.context)
            result = await run(container)
    except errors.NotFound:
        await ensure_namespace(deps, namespace, args.context)
        raise
    if result.failure:
        raise errors.KubeError(result.failure)
    text, truncated = render_exec(result, max_chars=max_chars - len(note), timeout=args.timeout)
    data = ExecOutput(
        name=args.name,
        namespace=namespace,
        container=container,
        command=list(args.command),
        exit_code=result.exit_code,
        stdout=result.stdout[:max_chars],
        stderr=result.stderr[: max_chars // 4],
        timed_out=result.timed_out,
        truncated=truncated,
    )
    return ToolResult("\n".join(x for x in (note, text) if x), data)


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
        name="pods_log",
        title="Get pod logs",
        description="Get the newest log lines of a pod's container (tail, default 100; since, e.g. '10m'; "
        "previous for the instance before a restart). Capped at the output limit, newest lines kept.",
        params=PodsLogArgs,
        output=LogOutput,
        handler=pods_log,
        action=lambda a: f"get logs of pod {a.namespace or '<default>'}/{a.name}",
        read_only=True,
    ),
    ToolSpec(
        name="pods_exec",
        title="Run a command in a pod",
        description="Run a command (argv array, no shell) in a pod's container and return its stdout, stderr "
        "and exit code. Abandoned after timeout seconds (default 30).",
        params=PodsExecArgs,
        output=ExecOutput,
        handler=pods_exec,
        action=lambda a: f"exec in pod {a.namespace or '<default>'}/{a.name}",
        read_only=False,
        destructive=True,
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
