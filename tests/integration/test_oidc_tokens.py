"""Bearer tokens from a real OpenID provider that must be refused, each with its precise reason.

RFC 6750 §3 says how: 400 invalid_request for a malformed Authorization header, 401 invalid_token with
an error_description for a token that fails, 403 insufficient_scope (with the scope to ask for) for a
token that lacks a scope; RFC 9728 §5.1 adds resource_metadata to each challenge. Also: the issuer
found by discovery alone, an unreachable issuer at start-up (the server starts; /readyz 503), and key
rotation on a running provider (a new key is accepted at once, a removed one refused after refresh).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from tests.integration.conftest import ACCEPT, INIT, ServerProcess, free_port, start_server
from tests.integration.oidc import MemoryStorage, Provider, discovery, oauth_session, read_provider, register, run_rig
from tests.integration.oidc import token_for as mint

pytestmark = pytest.mark.anyio


def oidc_server(tmp: Path, provider: Provider, kubeconfig: Path, *extra: str) -> ServerProcess:
    return start_server(
        tmp,
        "--kubeconfig",
        str(kubeconfig),
        "--oidc-issuer",
        provider.issuer,
        "--oidc-ca-file",
        str(provider.ca_file),
        "--required-scopes",
        "mcp",
        *extra,
    )


@pytest.fixture(scope="module")
def server(
    kubeconfig: Path, oidc_provider: Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    proc = oidc_server(tmp_path_factory.mktemp("tokens"), oidc_provider, kubeconfig)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def spare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """A second provider of its own (own CA, keys and issuer URL), for rotation and for 'another issuer'."""
    directory = tmp_path_factory.mktemp("spare-oidc")
    run_rig("up", directory)
    yield read_provider(directory)
    run_rig("clean", directory)


def post(server: ServerProcess, authorization: str | None) -> httpx2.Response:
    headers = dict(ACCEPT)
    if authorization is not None:
        headers["Authorization"] = authorization
    return httpx2.post(server.url, json=INIT, headers=headers, timeout=30)


def challenge(response: httpx2.Response) -> dict[str, str]:
    """The parameters of a ``Bearer`` challenge."""
    value = response.headers["www-authenticate"]
    assert value.startswith("Bearer "), value
    params: dict[str, str] = {}
    for part in value[len("Bearer ") :].split('", '):
        key, _, raw = part.partition("=")
        params[key.strip()] = raw.strip().strip('"')
    return params


def unsigned(token: str) -> str:
    """The same claims with ``alg: none`` and no signature."""
    claims = jwt.decode(token, options={"verify_signature": False})

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def tampered(token: str) -> str:
    """The provider's signature over other claims (sub changed to bob)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "bob"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def test_without_a_token_the_challenge_points_at_the_metadata_and_scope(server: ServerProcess) -> None:
    response = post(server, None)
    assert response.status_code == 401
    params = challenge(response)
    assert "error" not in params  # RFC 6750 §3.1: no error code when no credentials were sent
    assert params["scope"] == "mcp"
    assert params["resource_metadata"] == f"{server.base}/.well-known/oauth-protected-resource/mcp"
    metadata = httpx2.get(params["resource_metadata"]).json()
    assert metadata["resource"] == server.url and metadata["scopes_supported"] == ["mcp"]


def test_the_metadata_names_the_issuer_exactly_and_discovery_finds_the_rest(
    server: ServerProcess, oidc_provider: Provider
) -> None:
    metadata = httpx2.get(f"{server.base}/.well-known/oauth-protected-resource/mcp").json()
    # Clients compare issuers as strings (RFC 8414 §3.3): no trailing slash may be added to a root issuer.
    assert metadata["authorization_servers"] == [oidc_provider.issuer]
    document = discovery(oidc_provider)
    assert document["issuer"] == oidc_provider.issuer
    assert {"authorization_code", "refresh_token"} <= set(document["grant_types_supported"])
    assert "S256" in document["code_challenge_methods_supported"] and document["registration_endpoint"]
    # The server was given the issuer and nothing else: its keys came through discovery.
    assert post(server, f"Bearer {mint(oidc_provider, 'carol', server.url)['access_token']}").status_code == 200


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Basic YWxpY2U6c2VjcmV0", "must use the Bearer scheme"),
        ("Bearer", "carries no token after 'Bearer'"),
        ("Bearer two parts", "characters a token cannot have"),
        ("Bearer a,b", "characters a token cannot have"),
    ],
)
def test_a_malformed_authorization_header_gets_400_invalid_request(
    server: ServerProcess, header: str, reason: str
) -> None:
    response = post(server, header)
    assert response.status_code == 400
    params = challenge(response)
    assert params["error"] == "invalid_request" and reason in params["error_description"]
    assert response.json() == {"error": "invalid_request", "error_description": params["error_description"]}


def test_each_bad_token_gets_401_with_its_own_reason(
    server: ServerProcess, oidc_provider: Provider, spare: Provider
) -> None:
    good = mint(oidc_provider, "alice", server.url)["access_token"]
    short_lived = register(oidc_provider, rig_access_token_ttl=1)
    expiring = mint(oidc_provider, "alice", server.url, client=short_lived)["access_token"]
    cases = {
        "not-a-jwt-at-all": "the bearer token is not a JWT",
        unsigned(good): "the token is not signed (alg none)",
        tampered(good): "signature does not verify",
        mint(oidc_provider, "alice", "https://other.example/mcp")["access_token"]: (
            "the token is for audience https://other.example/mcp, kubernetes, not for " + server.url
        ),
        mint(spare, "alice", server.url)["access_token"]: (
            f"the token was issued by {spare.issuer}, not by {oidc_provider.issuer}"
        ),
    }
    deadline = jwt.decode(expiring, options={"verify_signature": False})["exp"] + 1.5
    while time.time() < deadline:  # let the short-lived token expire
        time.sleep(0.25)
    cases[expiring] = "the token expired at"
    assert post(server, f"Bearer {good}").status_code == 200  # the unaltered token is fine
    for token, reason in cases.items():
        response = post(server, f"Bearer {token}")
        assert response.status_code == 401, (reason, response.text)
        params = challenge(response)
        assert params["error"] == "invalid_token" and reason in params["error_description"], params
        assert params["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")
        assert token not in response.text and token not in response.headers["www-authenticate"]
    logs = server.logs()
    assert all(token not in logs for token in [good, *cases])


async def test_a_missing_scope_gets_403_and_the_python_sdk_steps_up(
    kubeconfig: Path, oidc_provider: Provider, tmp_path: Path
) -> None:
    proc = oidc_server(tmp_path, oidc_provider, kubeconfig, "--required-scopes", "mcp,mcp:admin")
    try:
        client = register(oidc_provider)
        narrow = mint(oidc_provider, "alice", proc.url, scope="mcp", client=client)
        response = post(proc, f"Bearer {narrow['access_token']}")
        assert response.status_code == 403
        params = challenge(response)
        assert params["error"] == "insufficient_scope" and params["scope"] == "mcp mcp:admin"

        # The SDK client holding that narrow token gets the 403, asks for the union of scopes, and goes on.
        storage = MemoryStorage()
        storage.client = OAuthClientInformationFull.model_validate(client)
        storage.tokens = OAuthToken.model_validate(narrow)

        async with oauth_session(proc.url, oidc_provider, "alice", "legacy", storage) as (session, _):
            assert (await session.list_tools()).tools
        assert storage.tokens is not None and storage.tokens.access_token != narrow["access_token"]
        granted = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})["scope"]
        assert set(granted.split()) == {"mcp", "mcp:admin"}
    finally:
        proc.stop()


def test_a_refresh_token_gets_a_new_access_token_that_works(server: ServerProcess, oidc_provider: Provider) -> None:
    client = register(oidc_provider)
    first = mint(oidc_provider, "bob", server.url, client=client)
    assert first.get("refresh_token")
    with oidc_provider.http() as http:
        response = http.post(
            discovery(oidc_provider)["token_endpoint"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": first["refresh_token"],
                "client_id": client["client_id"],
                "resource": server.url,
            },
        )
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["access_token"] != first["access_token"]
    assert jwt.decode(second["access_token"], options={"verify_signature": False})["sub"] == "bob"
    assert post(server, f"Bearer {second['access_token']}").status_code == 200


def test_an_unreachable_issuer_at_start_up_leaves_the_server_up_and_unready(kubeconfig: Path, tmp_path: Path) -> None:
    issuer = f"https://127.0.0.1:{free_port()}"  # nothing listens there
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--oidc-issuer", issuer)
    try:
        assert httpx2.get(f"{proc.base}/healthz").status_code == 200
        ready = httpx2.get(f"{proc.base}/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["oidc"]["ready"] is False
        assert body["reason"] == f"identity provider: cannot reach the issuer {issuer}: connection refused"
        # A token from that issuer cannot be checked at all: 503 (retry later), not 401 (log in again).
        claims = {"iss": issuer, "sub": "alice", "aud": proc.url, "exp": int(time.time()) + 60}
        forged = jwt.encode(claims, "not-the-key-of-anyone-at-all-32b", algorithm="HS256")
        _, payload, signature = forged.split(".")
        as_rs256 = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"k1"}').decode().rstrip("=")
        response = post(proc, f"Bearer {as_rs256}.{payload}.{signature}")
        assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
        assert "cannot reach the issuer" in response.json()["error_description"]
        assert "identity provider unusable" in proc.logs()
    finally:
        proc.stop()


def test_a_new_signing_key_is_accepted_at_once_and_a_removed_one_refused_after_refresh(
    kubeconfig: Path, spare: Provider, tmp_path: Path
) -> None:
    proc = oidc_server(tmp_path, spare, kubeconfig, "--oidc-jwks-cache-seconds", "2")
    try:
        old = mint(spare, "alice", proc.url)["access_token"]
        assert post(proc, f"Bearer {old}").status_code == 200

        spare.rig("rotate")
        new = mint(spare, "alice", proc.url)["access_token"]
        old_kid, new_kid = (jwt.get_unverified_header(t)["kid"] for t in (old, new))
        assert old_kid != new_kid
        # A key id the server has not seen makes it fetch the keys again (at most once a second).
        wait_for_status(proc, new, 200)
        assert post(proc, f"Bearer {old}").status_code == 200  # still published: still good

        spare.rig("retire")
        refused = wait_for_status(proc, old, 401)  # once the server's copy of the keys is refreshed
        assert f"a key the issuer does not publish (kid {old_kid})" in challenge(refused)["error_description"]
        assert post(proc, f"Bearer {new}").status_code == 200
    finally:
        proc.stop()


def wait_for_status(proc: ServerProcess, token: str, status: int, timeout: float = 30) -> httpx2.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = post(proc, f"Bearer {token}")
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            return response
        time.sleep(0.3)
