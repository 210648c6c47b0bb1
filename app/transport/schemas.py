"""The tool definitions a client sees in tools/list: computed once from each spec, without pydantic's noise.

A definition's input schema is the JSON schema of the spec's argument model (titled
``<tool>Arguments``, plus ``approvalToken`` for tools that need confirm-mode approval); its output
schema is that of the spec's output model; its annotations are the spec's four hints.

Every session pays for tools/list in tokens, so the advertised input and output schemas drop what
tells a model nothing: a ``title`` on every property ("Apiversion"), ``default: null``, and
``anyOf: [{type: X}, {type: null}]``, which becomes the equivalent ``type: [X, "null"]``. What a
schema accepts is unchanged (tests/unit/test_schemas.py checks instances against both forms);
validation of calls runs on the pydantic models, not on these dicts. The input schema leaves out
``additionalProperties: false``, as tools/list always has: the model still refuses unknown arguments,
with a line naming them.
"""

from __future__ import annotations

from typing import Any

from mcp.types import Tool, ToolAnnotations
from pydantic import BaseModel, Field

from app.approval import TOKEN_ARGUMENT
from app.spec import ToolSpec

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


class _Approval(BaseModel):
    """The argument confirm-mode tools take besides their own."""

    approvalToken: str | None = Field(
        None,
        description="One-time token from this tool's preview; pass it with the same arguments to apply the change",
    )


NEEDS_APPROVAL = " Needs approval: the first call previews (dry run) and returns an approvalToken."


def input_schema(spec: ToolSpec[Any], *, with_token: bool) -> dict[str, Any]:
    """The JSON schema of a call's arguments, as published (before compaction)."""
    schema: dict[str, Any] = spec.params.model_json_schema(by_alias=True)
    schema.pop("additionalProperties", None)
    schema["title"] = f"{spec.name}Arguments"
    if with_token:
        token: dict[str, Any] = _Approval.model_json_schema()["properties"][TOKEN_ARGUMENT]
        schema["properties"] = {**schema.get("properties", {}), TOKEN_ARGUMENT: token}
    return schema


def tool_definition(spec: ToolSpec[Any], *, with_token: bool) -> Tool:
    """What tools/list says about ``spec``: computed once, since the tools never change while serving."""
    return Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description + (NEEDS_APPROVAL if with_token else ""),
        input_schema=compact_schema(input_schema(spec, with_token=with_token)),
        output_schema=compact_schema(spec.output.model_json_schema()),
        annotations=ToolAnnotations(
            title=spec.title,
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=spec.idempotent,
            open_world_hint=spec.open_world,
        ),
    )
