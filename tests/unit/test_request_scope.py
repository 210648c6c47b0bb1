"""One request scope for every message: tools, resources, prompts and completion see the same session.

The server is assembled in process for the stdio transport (one client, one session) with two
contexts whose API servers are two closed loopback ports; a failed read names the server it tried,
so the error lines show which context each kind of message used. The same case against the real
control plane, over a real stdio pipe, is tests/integration/test_stdio_session.py.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from mcp import Client, MCPError

from app.config import load_settings
from app.identity import Identity
from app.scope import call_scope, dry_run_active, identity, identity_key, previewing, session_id, session_key
from app.server import assemble


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def two_dead_contexts(tmp_path: Path) -> tuple[Path, str, str]:
    first, second = (f"https://127.0.0.1:{closed_port()}" for _ in range(2))
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": s}} for n, s in (("a", first), ("b", second))],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": n, "context": {"cluster": n, "user": "u"}} for n in ("a", "b")],
        "current-context": "a",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path, first.removeprefix("https://"), second.removeprefix("https://")


def test_over_stdio_a_switched_context_reaches_resources_prompts_and_completion(tmp_path: Path) -> None:
    kubeconfig, first, second = two_dead_contexts(tmp_path)
    settings = load_settings(
        ["--transport", "stdio", "--tool-profile", "infra", "--kubeconfig", str(kubeconfig), "--in-cluster", "false"],
        environ={},
    )
    server = assemble(settings).mcp
    uri = "k8s://current/default/pods/web"
    pod = {"namespace": "default", "pod": "web"}

    async def error_of(read: Any) -> str:
        with pytest.raises(MCPError) as caught:
            await read
        return caught.value.message

    async def main() -> dict[str, Any]:
        async with Client(server) as client:
            seen: dict[str, Any] = {"resource before": await error_of(client.read_resource(uri))}
            seen["prompt before"] = (await client.get_prompt("troubleshoot_pod", pod)).messages[0].content.text
            seen["switch"] = await client.call_tool("switchContext", {"contextName": "b"})
            seen["resource after"] = await error_of(client.read_resource(uri))
            seen["summary after"] = await error_of(client.read_resource("k8s://summary"))
            seen["prompt after"] = (await client.get_prompt("troubleshoot_pod", pod)).messages[0].content.text
            seen["tool after"] = await client.call_tool("listPods", {"namespace": "default"})
        return seen

    seen = anyio.run(main)
    assert first in seen["resource before"] and first in seen["prompt before"]
    assert not seen["switch"].is_error, seen["switch"].content
    for key in ("resource after", "summary after", "prompt after"):
        assert second in seen[key] and first not in seen[key], (key, seen[key])
    assert second in seen["tool after"].content[0].text


def test_call_scope_binds_and_restores_the_request_values() -> None:
    alice = Identity(user="alice", client_id="cli")
    assert session_key() is None and identity_key() == "anonymous" and not dry_run_active()
    with call_scope(correlation=None, session="s-1", caller=alice):
        assert session_key() == "s-1" and identity.get() == alice and identity_key() == "|cli|alice"
        with previewing():
            assert dry_run_active()
        assert not dry_run_active()
        with call_scope(correlation="c", session=None, caller=None):
            assert session_key() is None and identity.get() is None
        assert session_id.get() == "s-1"
    assert session_key() is None and identity.get() is None
