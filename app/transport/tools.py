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

Each call runs with its own ``ClientNotifier`` bound (``notices``): progress and log notifications
for the client that asked for them, and a heartbeat beside the call while the client waits for
progress. ``logging/setLevel`` is answered here too (the SDK's ``MCPServer`` has no handler for it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, InputRequiredResult, SetLevelRequestParams, Tool

from app.scope import notifying
from app.spec import ToolSpec
from app.transport.calls import ToolRunner, error_result
from app.transport.notices import ClientNotifier, SessionLevels
from app.transport.schemas import tool_definition


class ToolServer(MCPServer):
    """An MCPServer whose tools are our specs, listed from precomputed definitions and run by ``ToolRunner``."""

    def __init__(
        self,
        name: str,
        *,
        specs: Sequence[ToolSpec[Any]],
        runner: ToolRunner,
        levels: SessionLevels | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        self._specs = {spec.name: spec for spec in specs}
        self._definitions: list[Tool] | None = None
        self._runner = runner
        self.levels = levels or SessionLevels()
        self.middleware.append(arguments_must_be_an_object(self._specs, runner))
        # The low-level server advertises the logging capability once this method has a handler.
        self._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, self.levels.handler())

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
        if context is None:
            return await self._runner.run(spec, arguments, context)
        notifier = ClientNotifier(context, self.levels, spec.name, scrub=not self._runner.settings.reveal_secrets)
        with notifying(notifier):
            if not notifier.wants_progress:
                return await self._runner.run(spec, arguments, context)
            return await _with_heartbeat(notifier, self._runner.run(spec, arguments, context))


async def _with_heartbeat(
    notifier: ClientNotifier, call: Awaitable[CallToolResult | InputRequiredResult]
) -> CallToolResult | InputRequiredResult:
    """The call, with the notifier's heartbeat running beside it until it ends (or is cancelled)."""
    outcome: list[CallToolResult | InputRequiredResult] = []
    failed: list[Exception] = []
    async with anyio.create_task_group() as beside:
        beside.start_soon(notifier.heartbeat)
        try:
            outcome.append(await call)
        except Exception as e:  # noqa: BLE001 - raised below as itself, not wrapped in a group
            failed.append(e)
        finally:
            beside.cancel_scope.cancel()
    if failed:
        raise failed[0]
    return outcome[0]


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
