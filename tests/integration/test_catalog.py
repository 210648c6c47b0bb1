"""The tool catalog: a golden snapshot of tools/list, and names compatible with the Go server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.conftest import ServerProcess, connect

pytestmark = pytest.mark.anyio
GOLDEN = Path(__file__).parent / "golden" / "tools_list.json"


async def test_tools_list_matches_the_golden_snapshot(server: ServerProcess) -> None:
    async with connect(server.url, "legacy") as client:
        tools = (await client.list_tools()).tools
    snapshot = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
    rendered = json.dumps(snapshot, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(rendered)
    assert rendered == GOLDEN.read_text(), "tools/list changed: review, then rerun with UPDATE_GOLDEN=1"


async def test_every_tool_declares_an_output_schema_and_all_four_hints(server: ServerProcess) -> None:
    async with connect(server.url, "auto") as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        assert tool.output_schema and tool.output_schema.get("properties"), tool.name
        hints = tool.annotations
        assert None not in (
            hints.read_only_hint,
            hints.destructive_hint,
            hints.idempotent_hint,
            hints.open_world_hint,
        ), tool.name


async def test_the_go_servers_names_and_arguments_are_kept(server: ServerProcess) -> None:
    peers = json.loads((Path(__file__).parent / "peers" / "kubernetes-mcp-server.interface.json").read_text())
    async with connect(server.url, "auto") as client:
        ours = {t.name: t for t in (await client.list_tools()).tools}
    for peer in peers:
        if peer["name"] not in ours:
            continue
        schema = ours[peer["name"]].input_schema
        assert set(peer["params"]) <= set(schema["properties"]), peer["name"]
        assert set(schema.get("required", [])) <= set(peer["required"]) | {"namespace"}, peer["name"]
