"""The JSON schemas a client sees in tools/list, without pydantic's noise.

Every session pays for tools/list in tokens, so the advertised input and output schemas drop what
tells a model nothing: a ``title`` on every property ("Apiversion"), ``default: null``, and
``anyOf: [{type: X}, {type: null}]``, which becomes the equivalent ``type: [X, "null"]``. What a
schema accepts is unchanged (tests/unit/test_schemas.py checks instances against both forms);
validation of calls still runs on the pydantic models, not on these dicts.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import Tool

#: Keys whose values are maps of name -> subschema (the names themselves are not schema keywords).
_SUBSCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})


def compact_schema(schema: Any, *, top: bool = True) -> Any:
    """The same schema, smaller: property titles, null defaults and simple nullable anyOfs folded."""
    if isinstance(schema, list):
        return [compact_schema(item, top=False) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and not top and isinstance(value, str):
            continue
        if key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, top=False) for name, sub in value.items()}
        elif key in ("enum", "const", "default", "examples", "required"):
            out[key] = value  # data, not schemas
        else:
            out[key] = compact_schema(value, top=False)
    members = out.get("anyOf")
    if (
        isinstance(members, list)
        and "type" not in out
        and all(isinstance(m, dict) and set(m) == {"type"} and isinstance(m["type"], str) for m in members)
    ):
        del out["anyOf"]
        out["type"] = [m["type"] for m in members]
    if "default" in out and out["default"] is None:
        del out["default"]
    return out


class CompactSchemaServer(MCPServer):
    """MCPServer whose tools/list carries compacted schemas (computed once: the tools never change)."""

    _compacted: list[Tool] | None = None

    async def list_tools(self) -> list[Tool]:
        if self._compacted is None:
            self._compacted = [
                tool.model_copy(
                    update={
                        "input_schema": compact_schema(tool.input_schema),
                        "output_schema": compact_schema(tool.output_schema) if tool.output_schema else None,
                    }
                )
                for tool in await super().list_tools()
            ]
        return self._compacted
