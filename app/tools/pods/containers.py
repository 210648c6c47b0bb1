"""Container tools: pods_log and pods_exec, what reaches inside a pod's containers.

Logs keep the newest lines within the output cap; a pod with several containers and none named
gets its default container and a line saying which, as kubectl does. Exec runs over the API
server's WebSocket (app.kube.exec) and reports the exit code and stderr; in a dry-run preview it
only says what it would run.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app import args as p
from app import errors, output
from app.kube.exec import ExecResult, exec_in_pod
from app.scope import dry_run_active, notices
from app.shapes import ExecOutput, LogOutput
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.pods.pods import PODS
from app.views import ensure_namespace

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


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
        where = f" (container {container})" if container else ""
        await notices().progress(f"running `{shown}` in pod {namespace}/{args.name}{where}", total=args.timeout)
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


SPECS: list[ToolSpec[Any]] = [
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
]
