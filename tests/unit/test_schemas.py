"""Compacted tools/list schemas accept exactly what the pydantic-generated ones accept, and are smaller."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.approval import Approvals
from app.config import Settings
from app.observability import Metrics
from app.tools.catalog import all_specs
from app.transport.calls import ToolRunner
from app.transport.schemas import compact_schema, input_schema

PROBES: list[Any] = [None, "", "x", "2026-01-01", 0, 1, -1, 1.5, True, False, [], ["a"], [1], {}, {"a": 1}]


def _published(profile: str) -> list[tuple[str, dict[str, Any]]]:
    """Every input and output schema a profile publishes, before compaction (all tools exposed)."""
    settings = Settings(approval="confirm", enable_destructive_operations=True)
    runner = ToolRunner(None, Metrics(), settings, Approvals(None, 60))  # type: ignore[arg-type]
    specs = all_specs(profile)
    schemas = [(f"{s.name} input", input_schema(s, with_token=runner.takes_token(s))) for s in specs]
    return schemas + [(f"{s.name} output", s.output.model_json_schema()) for s in specs]


def _subschemas(root: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each property schema (top level and in $defs), wrapped with the root's $defs so refs resolve."""
    found = []
    for owner in [root, *(root.get("$defs") or {}).values()]:
        for name, sub in (owner.get("properties") or {}).items():
            found.append((name, {**sub, "$defs": root.get("$defs", {})}))
    return found


@pytest.mark.parametrize("profile", ["default", "infra"])
def test_compacted_schemas_accept_and_refuse_the_same_values(profile: str) -> None:
    checked = 0
    for label, schema in _published(profile):
        compacted = compact_schema(schema)
        Draft202012Validator.check_schema(compacted)
        for (name, before), (_, after) in zip(_subschemas(schema), _subschemas(compacted), strict=True):
            old, new = Draft202012Validator(before), Draft202012Validator(after)
            for probe in PROBES:
                assert old.is_valid(probe) == new.is_valid(probe), (label, name, probe)
                checked += 1
    assert checked > 1000


def test_compaction_folds_nullable_anyof_drops_titles_and_null_defaults_but_keeps_data() -> None:
    schema = {
        "title": "ArgsModel",
        "type": "object",
        "properties": {
            "namespace": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Namespace"},
            "mode": {"enum": ["a", "b"], "default": "a", "title": "Mode"},
            "title": {"type": "string", "title": "Title"},  # a property may be called "title"
        },
        "required": ["title"],
    }
    assert compact_schema(schema) == {
        "title": "ArgsModel",
        "type": "object",
        "properties": {
            "namespace": {"type": ["string", "null"]},
            "mode": {"enum": ["a", "b"], "default": "a"},
            "title": {"type": "string"},
        },
        "required": ["title"],
    }


def test_tools_list_is_at_least_a_sixth_smaller() -> None:
    schemas = _published("default")
    before = sum(len(json.dumps(s)) for _, s in schemas)
    after = sum(len(json.dumps(compact_schema(s))) for _, s in schemas)
    assert after < before * 5 / 6, (before, after)
