"""Serve ``ToolSpec``s as MCP tools: definitions computed once, every call straight to ``ToolRunner``.

tools/list answers with definitions computed from the specs (``schemas.tool_definition``) once, on the
first tools/list, not at start-up: a server is ready sooner, and one that is only ever called never
builds the JSON schemas of its 40-odd tools.
tools/call goes from the SDK's ``tools/call`` handler to ``ToolRunner.run``, which validates the
arguments once, against the spec's own model, with our one-line error; the SDK's per-function
argument model, its validation and its output validation are never involved (``MCPServer.list_tools``
and ``MCPServer.call_tool`` are the two methods its handlers call, and ``ToolServer`` answers them).

One check has to run before the SDK parses the request: ``arguments`` that are not a JSON object
would otherwise be a JSON-RPC error; ``arguments_must_be_an_object`` makes them our ``isError`` line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, InputRequiredResult, Tool

from app.spec import ToolSpec
from app.transport.calls import ToolRunner, error_result
from app.transport.schemas import tool_definition


class ToolServer(MCPServer):
    """An MCPServer whose tools are our specs, listed from precomputed definitions and run by ``ToolRunner``."""

    def __init__(self, name: str, *, specs: Sequence[ToolSpec[Any]], runner: ToolRunner, **options: Any) -> None:
        super().__init__(name, **options)
        self._specs = {spec.name: spec for spec in specs}
        self._definitions: list[Tool] | None = None
        self._runner = runner
        self.middleware.append(arguments_must_be_an_object(self._specs, runner))

    async def list_tools(self) -> list[Tool]:
        if self._definitions is None:
            runner = self._runner
            self._definitions = [tool_definition(s, with_token=runner.takes_token(s)) for s in self._specs.values()]
        return self._definitions

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        spec = self._specs.get(name)
        if spec is None:
            raise ToolError(f"Unknown tool: {name}")  # the SDK's own answer: an isError result
        return await self._runner.run(spec, arguments, context)


def arguments_must_be_an_object(specs: dict[str, ToolSpec[Any]], runner: ToolRunner) -> Any:
    """MCP middleware: a tools/call whose arguments are not an object gets our one-line error."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and ctx.params:
            spec = specs.get(str(ctx.params.get("name")))
            arguments = ctx.params.get("arguments")
            if spec is not None and arguments is not None and not isinstance(arguments, dict):
                runner.metrics.tool_calls.labels(spec.name, "invalid").inc()
                return error_result(f"invalid arguments for {spec.name}: arguments must be an object")
        return await call_next(ctx)

    return middleware
