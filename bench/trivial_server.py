"""A bare ``mcp`` SDK server with one tool that answers "ok": the SDK's own cost, the floor under any tool.

    python bench/trivial_server.py PORT [--json-response]

Started by bench/profile_call.py. It imports only what serving needs (uvicorn and the SDK's server),
so its start-up time and idle memory are the SDK's floor too.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, Tool


class Trivial(MCPServer):
    async def list_tools(self) -> list[Tool]:
        return [Tool(name="ok", input_schema={"type": "object", "properties": {}})]

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text="ok")])


def main() -> None:
    port = int(sys.argv[1])
    app = Trivial("trivial").streamable_http_app(
        streamable_http_path="/mcp", json_response="--json-response" in sys.argv[2:]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
