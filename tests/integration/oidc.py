"""The rig's OpenID provider from the tests' side: start it (rig/oidc.sh), and get tokens from it as a person would.

A person's part of an OAuth login is following redirects, filling the login form and pressing Allow;
``Browser`` does exactly that with plain HTTP requests (cookies kept, redirects followed one by one)
until the provider redirects to the client's redirect URI, and hands back that URL with its ``code``.
``register`` and ``token_for`` are the client's part (dynamic registration, PKCE, code exchange),
for tests that want a token without an MCP client in between; ``oauth_session`` is the Python SDK's
own OAuth client doing that part instead.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import secrets
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

ROOT = Path(__file__).resolve().parents[2]
OIDC_SH = ROOT / "rig" / "oidc.sh"
PASSWORDS = {"alice": "alice-password", "bob": "bob-password", "carol": "carol-password"}
REDIRECT_URI = "http://127.0.0.1:1/callback"  # never contacted: the redirect is read, not followed


@dataclass(frozen=True)
class Provider:
    """One running provider: its issuer URL and the CA file that its TLS certificate chains to."""

    directory: Path
    issuer: str
    ca_file: Path

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def http(self, **kwargs: Any) -> httpx2.Client:
        return httpx2.Client(verify=self.ssl_context(), timeout=30, **kwargs)

    def rig(self, command: str) -> None:
        run_rig(command, self.directory)


def run_rig(command: str, directory: Path) -> str:
    result = subprocess.run(
        [str(OIDC_SH), command],
        env={**os.environ, "K8S_MCP_OIDC_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"rig/oidc.sh {command} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def read_provider(directory: Path) -> Provider:
    values = dict(line.split("=", 1) for line in (directory / "provider.env").read_text().splitlines() if "=" in line)
    return Provider(directory, values["K8S_MCP_OIDC_ISSUER"], Path(values["K8S_MCP_OIDC_CA_FILE"]))


def is_running(directory: Path) -> bool:
    env = {**os.environ, "K8S_MCP_OIDC_DIR": str(directory)}
    return subprocess.run([str(OIDC_SH), "status"], env=env, capture_output=True, check=False).returncode == 0


class Browser:
    """A person at the provider's pages: follows redirects, signs in, allows; returns the final redirect."""

    def __init__(self, provider: Provider, user: str, password: str | None = None) -> None:
        self.provider = provider
        self.user = user
        self.password = PASSWORDS[user] if password is None else password
        self.pages: list[str] = []

    def authorize(self, authorization_url: str, redirect_prefix: str) -> str:
        """Follow ``authorization_url`` through login and consent until it redirects to ``redirect_prefix``."""
        with self.provider.http(follow_redirects=False) as http:
            response = http.get(authorization_url)
            for _ in range(20):
                if response.status_code in (301, 302, 303, 307, 308):
                    target = urljoin(str(response.url), response.headers["location"])
                    if target.startswith(redirect_prefix):
                        return target
                    response = http.get(target)
                    continue
                if response.status_code != 200:
                    raise AssertionError(f"provider answered {response.status_code}: {response.text[:500]}")
                self.pages.append(response.text)
                action = _form_action(response.text, ("/login", "/confirm"))
                url = urljoin(str(response.url), action)
                if action.endswith("/login"):
                    response = http.post(url, data={"login": self.user, "password": self.password})
                    if response.status_code == 401:
                        raise LoginRefused(f"{self.user}: wrong user name or password")
                else:
                    response = http.post(url)
            raise AssertionError("too many redirects at the provider")


class LoginRefused(AssertionError):
    pass


def _form_action(html: str, suffixes: tuple[str, ...]) -> str:
    for action in re.findall(r'<form[^>]*action="([^"]+)"', html):
        if action.endswith(suffixes):
            return action.replace("&amp;", "&")
    raise AssertionError(f"no form ending in {suffixes} on the page:\n{html[:500]}")


def discovery(provider: Provider) -> dict[str, Any]:
    with provider.http() as http:
        document: dict[str, Any] = http.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    return document


def register(provider: Provider, **metadata: Any) -> dict[str, Any]:
    """Dynamic client registration (RFC 7591) of a public client using PKCE."""
    body = {
        "client_name": "k8s-mcp tests",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    with provider.http() as http:
        response = http.post(discovery(provider)["registration_endpoint"], json=body)
    assert response.status_code == 201, response.text
    client: dict[str, Any] = response.json()
    return client


def token_for(
    provider: Provider,
    user: str,
    resource: str,
    *,
    scope: str = "mcp",
    client: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The token response for ``user`` and ``resource``: authorization code + PKCE, as an MCP client does it."""
    client = client or register(provider)
    meta = discovery(provider)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    state = secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": resource,
    }
    landed = Browser(provider, user).authorize(f"{meta['authorization_endpoint']}?{urlencode(query)}", REDIRECT_URI)
    params = parse_qs(urlparse(landed).query)
    assert params.get("state") == [state], landed
    assert "code" in params, landed
    with provider.http() as http:
        response = http.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": REDIRECT_URI,
                "client_id": client["client_id"],
                "code_verifier": verifier,
                "resource": resource,
            },
        )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


class MemoryStorage:
    """What the SDK's OAuth client remembers (tokens, its registration), in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


@contextlib.asynccontextmanager
async def oauth_session(
    url: str, provider: Provider, user: str, mode: str, storage: MemoryStorage | None = None
) -> AsyncIterator[tuple[Client, MemoryStorage]]:
    """The Python SDK's own OAuth client in front of an MCP client that knows only ``url``.

    The SDK discovers, registers, builds the authorization URL (PKCE, resource indicator) and exchanges
    the code; ``Browser`` plays the person who logs in at the provider when the SDK "opens" that URL.
    """
    storage = storage or MemoryStorage()
    landed: dict[str, str] = {}
    redirect = "http://127.0.0.1:1/callback"

    async def open_in_browser(authorization_url: str) -> None:
        landed["url"] = await anyio.to_thread.run_sync(
            lambda: Browser(provider, user).authorize(authorization_url, redirect)
        )

    async def read_redirect() -> AuthorizationCodeResult:
        query = parse_qs(urlparse(landed.pop("url")).query)
        return AuthorizationCodeResult(
            code=query["code"][0], state=query.get("state", [None])[0], iss=query.get("iss", [None])[0]
        )

    metadata = OAuthClientMetadata(
        client_name="k8s-mcp tests (python sdk)",
        redirect_uris=[AnyUrl(redirect)],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    auth = OAuthClientProvider(url, metadata, storage, open_in_browser, read_redirect)
    async with (
        httpx2.AsyncClient(auth=auth, verify=provider.ssl_context(), timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client, storage
