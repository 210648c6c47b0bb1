"""Safety and security against the real control plane, including attempts to get around each rule."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integration.conftest import ACCEPT, INIT, Kubectl, ServerProcess, connect, free_port, start_server, text_of

pytestmark = pytest.mark.anyio

PLANTED = "PLANTED-s3cr3t-" + uuid.uuid4().hex[:8]


def assert_never_leaked(*texts: str) -> None:
    for text in texts:
        assert PLANTED not in text


@pytest.fixture(scope="module")
def planted(kubectl: Kubectl) -> Iterator[str]:
    """A namespace holding a Secret and a pod whose env carries the planted value."""
    ns = f"sec-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", ns)
    kubectl.wait_until("service account", lambda: kubectl("get", "sa", "default", "-n", ns, check=False) != "")
    kubectl("create", "secret", "generic", "db", "-n", ns, f"--from-literal=password={PLANTED}")
    kubectl.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: app, annotations: {{note: "password={PLANTED}"}}}}
spec:
  containers:
  - name: app
    image: busybox
    env: [{{name: DB_PASSWORD, value: "{PLANTED}"}}]
""",
        ns,
    )
    yield ns
    kubectl("delete", "namespace", ns, "--wait=false", check=False)


async def test_secret_contents_are_denied_by_default(server: ServerProcess, planted: str, era: str) -> None:
    async with connect(server.url, era) as client:
        got = await client.call_tool(
            "resources_get", {"apiVersion": "v1", "kind": "Secret", "name": "db", "namespace": planted}
        )
        listed = await client.call_tool("resources_list", {"apiVersion": "v1", "kind": "secrets", "namespace": planted})
    for result in (got, listed):
        assert result.is_error and "access to secrets is denied by server policy" in text_of(result)
    assert_never_leaked(text_of(got), text_of(listed))


async def test_planted_secrets_appear_in_no_output_log_or_metric(
    kubeconfig: Path, tmp_path: Path, planted: str, era: str
) -> None:
    """Even with Secrets allowed, values are redacted in get, list, pod env, annotations and logs."""
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--denied-resources", "")
    try:
        async with connect(proc.url, era) as client:
            results = [
                await client.call_tool(
                    "resources_get", {"apiVersion": "v1", "kind": "Secret", "name": "db", "namespace": planted}
                ),
                await client.call_tool("resources_list", {"apiVersion": "v1", "kind": "Secret", "namespace": planted}),
                await client.call_tool("pods_get", {"name": "app", "namespace": planted}),
                await client.call_tool("pods_list_in_namespace", {"namespace": planted}),
                await client.call_tool("events_list", {"namespace": planted}),
            ]
        assert not any(r.is_error for r in results), [text_of(r) for r in results]
        assert "password: <redacted" in text_of(results[0])
        for result in results:
            assert_never_leaked(text_of(result), json.dumps(result.structured_content))
        metrics = httpx2.get(f"{proc.base}/metrics").text
        assert_never_leaked(proc.logs(), metrics)
    finally:
        proc.stop()


async def test_namespace_limits_hold_for_every_tool(
    kubeconfig: Path, tmp_path: Path, planted: str, namespace: str
) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--allowed-namespaces", namespace)
    try:
        async with connect(proc.url, "auto") as client:
            inside = await client.call_tool("pods_list_in_namespace", {"namespace": namespace})
            outside = await client.call_tool("pods_get", {"name": "app", "namespace": planted})
            everywhere = await client.call_tool("pods_list", {})
        assert not inside.is_error
        assert outside.is_error and "not in the server's allowed namespaces" in text_of(outside)
        assert everywhere.is_error and "across all namespaces are not available" in text_of(everywhere)
    finally:
        proc.stop()


def write_tokens(tmp_path: Path) -> Path:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('alice-token-0123456789,alice,1,"team-a"\nbob-token-0123456789,bob,2\n')
    return tokens


@pytest.fixture(scope="module")
def authed_server(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("auth")
    proc = start_server(tmp, "--kubeconfig", str(kubeconfig), "--auth-tokens-file", str(write_tokens(tmp)))
    yield proc
    proc.stop()


def test_no_or_bad_token_gets_401_pointing_at_the_resource_metadata(authed_server: ServerProcess) -> None:
    for headers in (ACCEPT, {**ACCEPT, "Authorization": "Bearer wrong-token"}):
        response = httpx2.post(authed_server.url, json=INIT, headers=headers)
        assert response.status_code == 401
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer") and "resource_metadata=" in challenge
    metadata_url = challenge.split('resource_metadata="')[1].split('"')[0]
    path = metadata_url.split("://", 1)[1].split("/", 1)[1]
    metadata = httpx2.get(f"{authed_server.base}/{path}").json()
    assert metadata["resource"].endswith("/mcp")
    assert httpx2.get(f"{authed_server.base}/healthz").status_code == 200


async def test_a_valid_token_works_in_both_eras(authed_server: ServerProcess, era: str) -> None:
    async with connect(authed_server.url, era, {"Authorization": "Bearer alice-token-0123456789"}) as client:
        result = await client.call_tool("namespaces_list", {})
    assert not result.is_error
    audit = [json.loads(line) for line in authed_server.logs().splitlines() if '"tool call"' in line]
    assert any(line.get("identity") == "alice" for line in audit)
    assert "alice-token-0123456789" not in authed_server.logs()


def test_a_session_cannot_be_used_by_another_identity(authed_server: ServerProcess) -> None:
    alice = {**ACCEPT, "Authorization": "Bearer alice-token-0123456789"}
    opened = httpx2.post(authed_server.url, json=INIT, headers=alice)
    sid = opened.headers["mcp-session-id"]
    listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    common = {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
    bob = {**ACCEPT, **common, "Authorization": "Bearer bob-token-0123456789"}
    assert httpx2.post(authed_server.url, json=listed, headers=bob).status_code == 404
    assert httpx2.post(authed_server.url, json=listed, headers={**alice, **common}).status_code == 200


def test_a_missing_scope_gets_403(kubeconfig: Path, tmp_path: Path) -> None:
    proc = start_server(
        tmp_path,
        "--kubeconfig",
        str(kubeconfig),
        "--auth-tokens-file",
        str(write_tokens(tmp_path)),
        "--required-scopes",
        "k8s:admin",
    )
    try:
        response = httpx2.post(proc.url, json=INIT, headers={**ACCEPT, "Authorization": "Bearer bob-token-0123456789"})
        assert response.status_code == 403
        assert "insufficient_scope" in response.headers.get("www-authenticate", "") + response.text
    finally:
        proc.stop()


class Jwks:
    """A minimal local OIDC issuer: a discovery document, a JWKS endpoint and a signer."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        keys = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = keys
                if self.path == "/.well-known/openid-configuration":
                    body = json.dumps({"issuer": issuer.issuer, "jwks_uri": f"{issuer.issuer}/jwks"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.httpd = HTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.issuer = f"http://127.0.0.1:{self.port}"

    def sign(self, audience: str, **overrides: Any) -> str:
        claims = {
            "iss": self.issuer,
            "sub": "carol",
            "aud": audience,
            "exp": int(time.time()) + 300,
            "groups": ["team-c"],
            "scope": "mcp",
        }
        claims.update(overrides)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})


async def test_oidc_jwts_are_checked_for_signature_issuer_audience_and_expiry(kubeconfig: Path, tmp_path: Path) -> None:
    issuer = Jwks()
    audience = "https://k8s-mcp.example/mcp"
    proc = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--oidc-issuer", issuer.issuer, "--oidc-audience", audience
    )
    try:
        good = issuer.sign(audience)
        async with connect(proc.url, "auto", {"Authorization": f"Bearer {good}"}) as client:
            assert not (await client.call_tool("namespaces_list", {})).is_error
        other_key = Jwks()
        for bad in (
            issuer.sign("https://other.example/mcp"),
            issuer.sign(audience, exp=int(time.time()) - 10),
            issuer.sign(audience, iss="https://evil.example"),
            other_key.sign(audience, iss=issuer.issuer),
        ):
            response = httpx2.post(proc.url, json=INIT, headers={**ACCEPT, "Authorization": f"Bearer {bad}"})
            assert response.status_code == 401
        assert good not in proc.logs()
    finally:
        proc.stop()
        issuer.httpd.shutdown()


async def test_impersonation_lets_cluster_rbac_decide_per_caller(
    kubeconfig: Path, kubectl: Kubectl, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:6]
    ns_a, ns_b = f"imp-a-{suffix}", f"imp-b-{suffix}"
    for ns, user in ((ns_a, "alice"), (ns_b, "bob")):
        kubectl("create", "namespace", ns)
        kubectl("create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", ns)
        kubectl("create", "rolebinding", "pod-reader", "--role=pod-reader", f"--user={user}", "-n", ns)
    proc = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--auth-tokens-file", str(write_tokens(tmp_path)), "--impersonate"
    )
    try:
        for token, own, other in (("alice-token-0123456789", ns_a, ns_b), ("bob-token-0123456789", ns_b, ns_a)):
            async with connect(proc.url, "auto", {"Authorization": f"Bearer {token}"}) as client:
                mine = await client.call_tool("pods_list_in_namespace", {"namespace": own})
                theirs = await client.call_tool("pods_list_in_namespace", {"namespace": other})
            assert not mine.is_error, text_of(mine)
            assert theirs.is_error and "forbidden" in text_of(theirs).lower()
    finally:
        proc.stop()
        for ns in (ns_a, ns_b):
            kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_an_oversized_body_gets_413(kubeconfig: Path, tmp_path: Path) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--max-body-bytes", "4096")
    try:
        big = {**INIT, "params": {**INIT["params"], "padding": "x" * 10_000}}
        assert httpx2.post(proc.url, json=big, headers=ACCEPT).status_code == 413
        assert httpx2.post(proc.url, json=INIT, headers=ACCEPT).status_code == 200
    finally:
        proc.stop()


def test_a_caller_over_its_rate_gets_429_with_retry_after(kubeconfig: Path, tmp_path: Path) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--rate-limit", "3/minute")
    try:
        statuses = [httpx2.post(proc.url, json=INIT, headers=ACCEPT) for _ in range(4)]
        assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
        assert statuses[3].status_code == 429 and int(statuses[3].headers["retry-after"]) >= 1
    finally:
        proc.stop()
