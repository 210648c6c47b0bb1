"""Turn ``ToolSpec``s into MCP tools whose calls all go through ``ToolRunner``.

The SDK derives each tool's inputSchema from a function signature, so we give it one built from the
spec's argument model (plus ``approvalToken`` for tools that need confirm-mode approval) and the
output model as the declared outputSchema. A middleware catches calls whose arguments fail our model
before the SDK would answer with a multi-line pydantic dump.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import Field

from app import errors
from app.approval import TOKEN_ARGUMENT
from app.spec import ToolSpec
from app.transport.calls import ToolRunner, error_result, validate_args

ApprovalToken = Annotated[
    str | None,
    Field(description="One-time token from this tool's preview; pass it with the same arguments to apply the change"),
]


def _signature(spec: ToolSpec[Any], with_token: bool) -> inspect.Signature:
    """The handler's arguments as a function signature, so the SDK derives the same inputSchema."""
    parameters = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    for name, field in spec.params.model_fields.items():
        has_meta = field.metadata or field.description or field.alias
        annotation = Annotated[field.annotation, field] if has_meta else field.annotation
        default = inspect.Parameter.empty if field.is_required() else field.default
        parameters.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        )
    if with_token:
        parameters.append(
            inspect.Parameter(TOKEN_ARGUMENT, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ApprovalToken)
        )
    return inspect.Signature(parameters, return_annotation=Annotated[CallToolResult, spec.output])


def register(server: MCPServer, spec: ToolSpec[Any], runner: ToolRunner) -> None:
    async def call(ctx: Context, **arguments: Any) -> CallToolResult | InputRequiredResult:
        return await runner.run(spec, arguments, ctx.headers, ctx)

    with_token = runner.takes_token(spec)
    call.__name__ = spec.name
    call.__doc__ = spec.description
    call.__signature__ = _signature(spec, with_token)  # type: ignore[attr-defined]
    call.__annotations__ = {"ctx": Context, "return": Annotated[CallToolResult, spec.output]}
    description = spec.description
    if with_token:
        description += " Needs approval: the first call previews (dry run) and returns an approvalToken."
    server.add_tool(
        call,
        name=spec.name,
        title=spec.title,
        description=description,
        annotations=ToolAnnotations(
            title=spec.title,
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=spec.idempotent,
            open_world_hint=spec.open_world,
        ),
    )


def validation_middleware(specs: dict[str, ToolSpec[Any]], runner: ToolRunner) -> Any:
    """MCP middleware: a tools/call whose arguments fail our model gets our one-line error."""

    async def middleware(ctx: Any, call_next: Any) -> Any:
        if ctx.method == "tools/call" and ctx.params:
            spec = specs.get(str(ctx.params.get("name")))
            arguments = ctx.params.get("arguments")
            if spec is not None:
                if arguments is not None and not isinstance(arguments, dict):
                    runner.metrics.tool_calls.labels(spec.name, "invalid").inc()
                    return error_result(f"invalid arguments for {spec.name}: arguments must be an object")
                checked = {
                    k: v for k, v in (arguments or {}).items() if not (k == TOKEN_ARGUMENT and runner.takes_token(spec))
                }
                try:
                    validate_args(spec, checked)
                except errors.ToolInputError:
                    headers = getattr(ctx.request, "headers", None)
                    return await runner.run(spec, arguments or {}, headers)
        return await call_next(ctx)

    return middleware
