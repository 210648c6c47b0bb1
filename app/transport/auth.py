"""Bearer-token authentication for remote clients, as an MCP resource server (RFC 9728 metadata).

Two kinds of token are accepted: static tokens from a CSV file or the environment (compared in
constant time) and OIDC JWTs checked against the issuer's JWKS (signature, issuer, audience,
expiry). The SDK's middleware turns a missing or bad token into 401 with a WWW-Authenticate header
that points at /.well-known/oauth-protected-resource, a missing scope into 403, and binds each
legacy session to the identity that opened it. The client's token is never sent to the API server.
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from pydantic import AnyHttpUrl

from app.config import Settings
from app.errors import ConfigError

log = logging.getLogger("k8s_mcp.auth")


@dataclass(frozen=True)
class StaticUser:
    user: str
    uid: str
    groups: tuple[str, ...]


def parse_token_file(text: str) -> dict[str, StaticUser]:
    """Kubernetes' static-token format: ``token,user[,uid[,"group1,group2"]]`` per line; '#' comments."""
    tokens: dict[str, StaticUser] = {}
    rows = csv.reader(line for line in io.StringIO(text) if line.strip() and not line.lstrip().startswith("#"))
    for number, row in enumerate(rows, start=1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise ConfigError(f"auth tokens file: row {number} needs at least 'token,user'")
        groups = tuple(g.strip() for g in (row[3] if len(row) > 3 else "").split(",") if g.strip())
        tokens[row[0].strip()] = StaticUser(row[1].strip(), row[2].strip() if len(row) > 2 else "", groups)
    return tokens


class StaticTokenVerifier:
    def __init__(self, tokens: dict[str, StaticUser]) -> None:
        self._tokens = [(t.encode(), u) for t, u in tokens.items()]

    async def verify_token(self, token: str) -> AccessToken | None:
        offered = token.encode()
        found: StaticUser | None = None
        for known, user in self._tokens:  # compare against every token: no early exit, no timing signal
            if hmac.compare_digest(known, offered):
                found = user
        if found is None:
            return None
        return AccessToken(
            token=token,
            client_id=found.user,
            scopes=["mcp"],
            subject=found.user,
            claims={"groups": list(found.groups), "iss": "static"},
        )


class JwtVerifier:
    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer
        self._issuer = settings.oidc_issuer.rstrip("/")
        self._audience = settings.oidc_audience or f"{settings.base_url}/mcp"
        jwks_url = settings.oidc_jwks_url or f"{self._issuer}/.well-known/jwks.json"
        import jwt  # imported here: pyjwt with cryptography adds ~0.15 s to every start, and only OIDC needs it

        self._jwt = jwt
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._user_claim = settings.oidc_username_claim
        self._groups_claim = settings.oidc_groups_claim

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await anyio.to_thread.run_sync(self._decode, token)
        except (self._jwt.PyJWTError, self._jwt.PyJWKClientError) as e:
            log.info("rejected bearer JWT: %s", e)
            return None
        scopes = str(claims.get("scope") or claims.get("scp") or "").split()
        user = str(claims.get(self._user_claim) or claims["sub"])
        groups = claims.get(self._groups_claim) or []
        client = str(claims.get("azp") or claims.get("client_id") or user)
        return AccessToken(
            token=token,
            client_id=client,
            scopes=scopes,
            expires_at=int(claims["exp"]),
            subject=user,
            claims={"groups": list(groups) if isinstance(groups, list) else [], "iss": claims["iss"]},
        )

    def _decode(self, token: str) -> dict[str, Any]:
        key = self._jwks.get_signing_key_from_jwt(token)
        decoded: dict[str, Any] = self._jwt.decode(
            token,
            key.key,
            algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"],
            audience=self._audience,
            issuer=self._issuer,
            options={"require": ["exp", "iss", "sub", "aud"]},
        )
        return decoded


class ChainVerifier:
    """Static tokens first (cheap), then JWTs."""

    def __init__(self, verifiers: list[TokenVerifier]) -> None:
        self._verifiers = verifiers

    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self._verifiers:
            found = await verifier.verify_token(token)
            if found is not None:
                return found
        return None


def build_auth(settings: Settings) -> tuple[TokenVerifier, AuthSettings] | None:
    if not settings.auth_enabled:
        return None
    verifiers: list[TokenVerifier] = []
    static: dict[str, StaticUser] = {}
    if settings.auth_tokens_file:
        try:
            static.update(parse_token_file(Path(settings.auth_tokens_file).read_text(encoding="utf-8")))
        except OSError as e:
            raise ConfigError(f"cannot read auth tokens file {settings.auth_tokens_file}: {e.strerror}") from e
    if settings.auth_token:
        static[settings.auth_token] = StaticUser("mcp-user", "", ())
    if static:
        verifiers.append(StaticTokenVerifier(static))
    if settings.oidc_issuer:
        verifiers.append(JwtVerifier(settings))
    auth = AuthSettings(
        issuer_url=AnyHttpUrl(settings.oidc_issuer or settings.base_url),
        resource_server_url=AnyHttpUrl(f"{settings.base_url}/mcp"),
        required_scopes=list(settings.required_scopes) or None,
        validate_token_resource=False,
    )
    return ChainVerifier(verifiers), auth
