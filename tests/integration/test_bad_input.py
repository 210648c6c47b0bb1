"""Bad input and cluster failures come back as one clear isError line, never a trace or a raw body."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import ServerProcess, connect, free_port, start_server, text_of

pytestmark = pytest.mark.anyio


def assert_one_clean_line(result, *fragments: str) -> None:
    text = text_of(result)
    assert result.is_error, text
    assert "\n" not in text, text
    assert "Traceback" not in text and "{" not in text, text
    for fragment in fragments:
        assert fragment in text, text


@pytest.mark.parametrize(
    ("tool", "arguments", "fragments"),
    [
        ("pods_list_in_namespace", {"namespace": "no-such-ns"}, ["namespace 'no-such-ns' not found"]),
        ("pods_get", {"name": "ghost", "namespace": "no-such-ns"}, ["failed to get pod", "not found"]),
        ("pods_get", {"name": "ghost", "namespace": "default"}, ['pods "ghost" not found']),
        ("resources_list", {"apiVersion": "v1", "kind": "Gizmo"}, ["unknown kind 'Gizmo'", "known kinds:"]),
        ("resources_list", {"apiVersion": "nope.example.com/v9", "kind": "Gizmo"}, ["unknown apiVersion"]),
        ("resources_get", {"apiVersion": "apps//v1", "kind": "Deployment", "name": "x"}, ["invalid apiVersion"]),
        ("pods_list", {"labelSelector": "app in (web"}, ["malformed selector"]),
        ("pods_list", {"fieldSelector": "status.phase=Running", "bogus": 1}, ["unknown argument 'bogus'"]),
        ("pods_get", {}, ["missing required argument 'name'"]),
        ("resources_get", {"apiVersion": "v1", "kind": "Pod"}, ["missing required argument 'name'"]),
        ("pods_list_in_namespace", {"namespace": "Not_A_Label"}, ["invalid namespace"]),
        ("pods_list", {"context": "nowhere"}, ["unknown context 'nowhere'"]),
        ("pods_list", {"limit": 0}, ["invalid argument 'limit'"]),
    ],
)
async def test_bad_input_is_one_clear_line(
    server: ServerProcess, era: str, tool: str, arguments: dict, fragments: list[str]
) -> None:
    async with connect(server.url, era) as client:
        result = await client.call_tool(tool, arguments)
    assert_one_clean_line(result, *fragments)


async def test_a_field_selector_the_api_rejects_is_reported_with_its_reason(server: ServerProcess, era: str) -> None:
    async with connect(server.url, era) as client:
        result = await client.call_tool("pods_list", {"fieldSelector": "spec.bogusField=1"})
    assert_one_clean_line(result, "failed to list pods", "field label not supported")


@pytest.fixture(scope="module")
def unreachable_server(tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    """A server whose kubeconfig points at a port where nothing listens."""
    tmp = tmp_path_factory.mktemp("unreachable")
    kubeconfig = Path(tmp) / "kubeconfig"
    kubeconfig.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: dead, cluster: {{server: "https://127.0.0.1:{free_port()}", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: not-a-real-token}}}}]
contexts: [{{name: dead, context: {{cluster: dead, user: u}}}}]
current-context: dead
""")
    proc = start_server(tmp, "--kubeconfig", str(kubeconfig), "--api-timeout", "3")
    yield proc
    proc.stop()


async def test_an_unreachable_cluster_is_one_line_and_the_server_still_serves(
    unreachable_server: ServerProcess, era: str
) -> None:
    async with connect(unreachable_server.url, era) as client:
        tools = await client.list_tools()
        result = await client.call_tool("pods_list", {})
    assert len(tools.tools) >= 8
    assert_one_clean_line(result, "failed to list pods in all namespaces", "cannot reach the API server")
    assert "not-a-real-token" not in unreachable_server.logs()


async def test_no_kubeconfig_at_all_still_starts_and_says_why(tmp_path: Path, era: str) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(tmp_path / "missing"), "--in-cluster", "false")
    try:
        async with connect(proc.url, era) as client:
            result = await client.call_tool("namespaces_list", {})
        assert_one_clean_line(result, "failed to list namespaces", "kubeconfig")
    finally:
        proc.stop()
