"""The only importers of ``mcp`` and ``starlette``: the MCP server, HTTP guards and operational endpoints."""
