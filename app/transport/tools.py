"""Turn ``ToolSpec``s into MCP tools: the one place where a tool call is run, timed, audited and answered.

Every call passes through ``_run``: it validates the arguments against the spec's model (one clear
line on failure), sets the correlation id, calls the handler, and turns our errors into an
``isError`` result with one line: ``failed to <action>: <reason>``. Anything unexpected is logged
with its traceback on the server and reaches the client only as a line with the correlation id.
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ValidationError

from app import errors
from app.observability import Metrics, audit, correlation_id, new_correlation_id, session_id
from app.tools.registry import Deps, ToolSpec

log = logging.getLogger("k8s_mcp.tools")

SENSITIVE_ARGS = frozenset({"token", "password", "resource", "values", "yamlContent"})


def describe_validation_error(error: ValidationError) -> str:
    """The first problem of a pydantic error, as one line a model can act on."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "arguments"
    kind = first["type"]
    if kind == "missing":
        return f"missing required argument '{field}'"
    if kind == "extra_forbidden":
        return f"unknown argument '{field}'"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"invalid argument '{field}': {message}"


def validate_args(spec: ToolSpec[Any], arguments: dict[str, Any] | None) -> BaseModel:
    try:
        args: BaseModel = spec.params.model_validate(arguments or {})
        return args
    except ValidationError as e:
        raise errors.ToolInputError(describe_validation_error(e)) from e


def error_result(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _redacted(arguments: dict[str, Any] | None) -> dict[str, Any]:
    return {k: ("<redacted>" if k in SENSITIVE_ARGS else v) for k, v in (arguments or {}).items() if v is not None}


async def run_tool(
    spec: ToolSpec[Any], deps: Deps, metrics: Metrics, arguments: dict[str, Any], headers: Any
) -> CallToolResult:
    """Run one call of ``spec``; never raises for anything a client could cause."""
    cid = (headers or {}).get("x-correlation-id") or new_correlation_id()
    cid_token = correlation_id.set(cid)
    # The session id keys per-session state below (switchContext's default context). Over HTTP it is
    # the Mcp-Session-Id the SDK has already validated (unknown ids get 404 before any tool runs);
    # stdio has exactly one client, hence one fixed key; stateless requests have none ("-").
    stdio = deps.settings.transport == "stdio"
    sid_token = session_id.set((headers or {}).get("mcp-session-id") or ("stdio" if stdio else "-"))
    started = time.perf_counter()
    outcome = "error"
    metrics.inflight.inc()
    try:
        try:
            args = validate_args(spec, arguments)
        except errors.ToolInputError as e:
            outcome = "invalid"
            return error_result(f"invalid arguments for {spec.name}: {e}")
        action = spec.describe(args)
        try:
            result = await spec.handler(args, deps)
        except errors.ToolInputError as e:
            outcome = "invalid"
            return error_result(f"failed to {action}: {e}")
        except errors.PolicyDenied as e:
            outcome = "denied"
            return error_result(f"failed to {action}: {e}")
        except errors.K8sMcpError as e:
            outcome = "failed"
            return error_result(f"failed to {action}: {e}")
        except Exception:
            log.exception("tool %s crashed", spec.name)
            return error_result(f"failed to {action}: internal error (correlation id {cid})")
        outcome = "ok"
        return CallToolResult(
            content=[TextContent(type="text", text=result.text)],
            structured_content=result.data.model_dump(mode="json", by_alias=True),
        )
    finally:
        elapsed = time.perf_counter() - started
        metrics.inflight.dec()
        metrics.tool_calls.labels(spec.name, outcome).inc()
        metrics.tool_latency.labels(spec.name).observe(elapsed)
        audit(
            "tool call",
            tool=spec.name,
            arguments=_redacted(arguments),
            outcome=outcome,
            duration_ms=round(elapsed * 1000, 1),
            identity=None,
        )
        correlation_id.reset(cid_token)
        session_id.reset(sid_token)


def _signature(spec: ToolSpec[Any]) -> inspect.Signature:
    """The handler's arguments as a function signature, so the SDK derives the same inputSchema."""
    parameters = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    for name, field in spec.params.model_fields.items():
        annotation = Annotated[field.annotation, field] if field.metadata or field.description else field.annotation
        default = inspect.Parameter.empty if field.is_required() else field.default
        parameters.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        )
    return inspect.Signature(parameters, return_annotation=Annotated[CallToolResult, spec.output])


def register(server: MCPServer, spec: ToolSpec[Any], deps: Deps, metrics: Metrics) -> None:
    async def call(ctx: Context, **arguments: Any) -> CallToolResult:
        return await run_tool(spec, deps, metrics, arguments, ctx.headers)

    call.__name__ = spec.name
    call.__doc__ = spec.description
    call.__signature__ = _signature(spec)  # type: ignore[attr-defined]
    call.__annotations__ = {"ctx": Context, "return": Annotated[CallToolResult, spec.output]}
    server.add_tool(
        call,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        annotations=ToolAnnotations(
            title=spec.title,
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=spec.idempotent,
            open_world_hint=spec.open_world,
        ),
    )


def validation_middleware(specs: dict[str, ToolSpec[Any]], deps: Deps, metrics: Metrics) -> Any:
    """MCP middleware: a tools/call whose arguments fail our model gets our one-line error,
    before the SDK would answer with a multi-line pydantic dump."""

    async def middleware(ctx: Any, call_next: Any) -> Any:
        if ctx.method == "tools/call" and ctx.params:
            spec = specs.get(str(ctx.params.get("name")))
            arguments = ctx.params.get("arguments")
            if spec is not None:
                if arguments is not None and not isinstance(arguments, dict):
                    metrics.tool_calls.labels(spec.name, "invalid").inc()
                    return error_result(f"invalid arguments for {spec.name}: arguments must be an object")
                try:
                    validate_args(spec, arguments)
                except errors.ToolInputError:
                    headers = getattr(ctx.request, "headers", None)
                    return await run_tool(spec, deps, metrics, arguments or {}, headers)
        return await call_next(ctx)

    return middleware
