"""Live subscriptions without a cluster: the capability, URI parsing, refusals before any API call, the settings.

The server is assembled in process for stdio against a kubeconfig whose API server is a closed port,
so nothing here can reach a cluster; what is checked is decided before the first API call. The live
behaviour (updates, deletion, sharing, caps, resume) is tests/integration/test_subscriptions.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.types import INVALID_PARAMS

from app import errors
from app.config import load_settings
from app.documents.objects import parse_object_uri
from app.server import assemble
from tests.unit.test_request_scope import two_dead_contexts

# resources/subscribe is the 2025-era method; the SDK warns that 2026-07-28 replaced it with listen.
pytestmark = pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")


def test_object_uris_parse_into_their_four_parts_percent_decoded() -> None:
    assert parse_object_uri("k8s://current/default/deployments/web") == ("current", "default", "deployments", "web")
    assert parse_object_uri("k8s://current/_cluster/nodes/n1") == ("current", "_cluster", "nodes", "n1")
    assert parse_object_uri("k8s://arn%3Aaws%2Fx/ns/pods/p") == ("arn:aws/x", "ns", "pods", "p")


@pytest.mark.parametrize(
    "uri",
    ["k8s://summary", "k8s://current/summary", "k8s-template://index", "k8s://current/default/pods", "pods/web", ""],
)
def test_anything_but_an_object_uri_is_refused_with_the_forms_it_takes(uri: str) -> None:
    with pytest.raises(errors.ToolInputError, match=r"not an object URI: expected k8s://\{context\}"):
        parse_object_uri(uri)


def test_the_caps_are_settings_with_flags_and_environment_variables() -> None:
    settings = load_settings(
        ["--subscriptions-per-session", "3"], environ={"K8S_MCP_MAX_SUBSCRIPTIONS": "7", "KUBECONFIG": "/nonexistent"}
    )
    assert (settings.subscriptions_per_session, settings.max_subscriptions) == (3, 7)
    defaults = load_settings([], environ={})
    assert (defaults.subscriptions_per_session, defaults.max_subscriptions) == (100, 1000)


def test_the_server_declares_subscribe_and_refuses_a_bad_uri_in_one_line(tmp_path: Path) -> None:
    kubeconfig, _, _ = two_dead_contexts(tmp_path)
    settings = load_settings(["--transport", "stdio", "--kubeconfig", str(kubeconfig)], environ={})
    parts = assemble(settings)

    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with parts.subscriptions.running(), Client(parts.mcp, mode="legacy") as client:
            seen["subscribe"] = client.server_capabilities.resources.subscribe
            for uri in ("k8s://summary", "k8s://current/default/pods"):
                with pytest.raises(MCPError) as caught:
                    await client.subscribe_resource(uri)
                seen[uri] = caught.value
            seen["unsubscribe"] = await client.unsubscribe_resource("k8s://current/default/pods/never-subscribed")
        return seen

    seen = anyio.run(main)
    assert seen["subscribe"] is True
    for uri in ("k8s://summary", "k8s://current/default/pods"):
        error = seen[uri]
        assert error.code == INVALID_PARAMS
        assert error.message.startswith(f"failed to subscribe to {uri}: ") and "\n" not in error.message
    assert seen["unsubscribe"] is not None
    assert parts.subscriptions.subscription_count == 0
