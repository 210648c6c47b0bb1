"""The whole MCP authorization flow with real clients and a real OpenID provider (rig/oidc.sh).

Each client starts from the /mcp URL alone: the 401 points it at the protected-resource metadata
(RFC 9728), that names the provider, the provider's discovery document gives the endpoints, the
client registers itself (RFC 7591), sends the person to log in (authorization code + PKCE, with this
server as the resource indicator, RFC 8707), exchanges the code, and then lists and calls tools with
the JWT access token the provider minted for this server's audience.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from tests.integration.conftest import Kubectl, ServerProcess, start_server, text_of
from tests.integration.oidc import Provider, oauth_session
from tests.integration.test_rig import running_pods

pytestmark = pytest.mark.anyio

INTEROP = Path(__file__).resolve().parents[1] / "interop"


@pytest.fixture(scope="module")
def oauth_server(
    kubeconfig: Path, oidc_provider: Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    proc = start_server(
        tmp_path_factory.mktemp("oauth"),
        "--kubeconfig",
        str(kubeconfig),
        "--oidc-issuer",
        oidc_provider.issuer,
        "--oidc-ca-file",
        str(oidc_provider.ca_file),
        "--required-scopes",
        "mcp",
        "--rate-limit",
        "",
    )
    yield proc
    proc.stop()


@pytest.fixture
def pod(kubectl: Kubectl, namespace: str) -> str:
    kubectl("run", "solo", "--image=busybox", "-n", namespace)
    kubectl.wait_until("the pod runs", lambda: running_pods(kubectl, namespace, "run=solo") == ["solo"])
    return "solo"


async def test_the_python_sdk_client_logs_in_from_the_mcp_url_alone(
    oauth_server: ServerProcess, oidc_provider: Provider, namespace: str, pod: str, era: str
) -> None:
    async with oauth_session(oauth_server.url, oidc_provider, "alice", era) as (client, storage):
        tools = {t.name for t in (await client.list_tools()).tools}
        listed = await client.call_tool("pods_list_in_namespace", {"namespace": namespace})
    assert {"pods_list", "pods_get", "resources_get"} <= tools
    assert not listed.is_error and pod in text_of(listed), text_of(listed)

    assert storage.client is not None and storage.client.client_id  # it registered itself
    assert storage.tokens is not None and storage.tokens.refresh_token
    claims = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})
    assert claims["iss"] == oidc_provider.issuer and claims["sub"] == "alice" and claims["groups"] == ["team-a"]
    assert oauth_server.url in claims["aud"] and claims["scope"] == "mcp"

    logs = oauth_server.logs()
    audit = [json.loads(line) for line in logs.splitlines() if '"tool call"' in line]
    assert any(line.get("identity") == "alice" and line["tool"] == "pods_list_in_namespace" for line in audit)
    assert storage.tokens.access_token not in logs and storage.tokens.refresh_token not in logs


def test_the_typescript_sdk_client_logs_in_from_the_mcp_url_alone(
    oauth_server: ServerProcess, oidc_provider: Provider, namespace: str, pod: str
) -> None:
    node = shutil.which("node")
    assert node, "node is required for the interoperability test (the README lists it)"
    assert (INTEROP / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir(), "run: npm ci --prefix tests/interop"
    completed = subprocess.run(
        [node, str(INTEROP / "oauth.mjs"), oauth_server.url, "bob", "bob-password", namespace],
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(oidc_provider.ca_file)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)

    assert report["firstConnect"] == "unauthorized"
    assert report["steps"] == ["registered", "authorize", "tokens"]
    asked = {"resource": oauth_server.url, "codeChallengeMethod": "S256", "scope": "mcp"}
    assert report["authorizationParams"] == asked
    assert report["tokenType"].lower() == "bearer" and report["refreshToken"]
    assert "pods_list_in_namespace" in report["tools"]
    assert not report["call"]["isError"] and pod in report["call"]["text"], report["call"]

    claims = jwt.decode(report["accessToken"], options={"verify_signature": False})
    assert claims["sub"] == "bob" and claims["groups"] == ["team-b"] and oauth_server.url in claims["aud"]
    logs = oauth_server.logs()
    assert any('"identity": "bob"' in line for line in logs.splitlines() if '"tool call"' in line)
    assert report["accessToken"] not in logs
