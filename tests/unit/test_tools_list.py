"""tools/list of the server as assembled, in process (no cluster): the golden snapshot, and the same answer per era.

The definitions are computed once from the specs; this checks that what a client receives is byte
for byte the reviewed snapshot that the integration suite also checks against a running server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from app.config import load_settings
from app.server import assemble

GOLDEN = Path(__file__).parents[1] / "integration" / "golden" / "tools_list.json"


def _server(tmp_path: Path, *args: str) -> Any:
    """The server as `k8s-mcp` assembles it, with no credentials at all (listing tools needs none)."""
    settings = load_settings(["--kubeconfig", str(tmp_path / "missing"), "--in-cluster", "false", *args], environ={})
    return assemble(settings).mcp


def _listed(server: Any, mode: str) -> list[dict[str, Any]]:
    async def main() -> list[dict[str, Any]]:
        async with Client(server, mode=mode) as client:
            tools = (await client.list_tools()).tools
        return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]

    return anyio.run(main)


def test_tools_list_in_process_matches_the_golden_snapshot(tmp_path: Path) -> None:
    rendered = json.dumps(_listed(_server(tmp_path), "legacy"), indent=1, sort_keys=True) + "\n"
    assert rendered == GOLDEN.read_text(), "tools/list changed: review, then regenerate the golden snapshot"


def test_both_protocol_eras_list_the_same_tools(tmp_path: Path) -> None:
    server = _server(tmp_path)
    assert _listed(server, "auto") == _listed(server, "legacy")


def test_confirm_mode_adds_the_approval_token_to_changing_tools_only(tmp_path: Path) -> None:
    server = _server(tmp_path, "--approval", "confirm", "--enable-destructive-operations")
    tools = {t["name"]: t for t in _listed(server, "legacy")}
    delete = tools["pods_delete"]
    assert "approvalToken" in delete["inputSchema"]["properties"]
    assert "approvalToken" not in delete["inputSchema"].get("required", [])
    assert delete["description"].endswith("returns an approvalToken.")
    assert "approvalToken" not in tools["pods_get"]["inputSchema"]["properties"]
