"""Bearer-token authentication for remote clients, as an MCP resource server (RFC 9728 metadata).

Two kinds of token are accepted: static tokens from a CSV file or the environment (compared in
constant time) and JWTs from one OpenID issuer (``app.transport.oidc``: discovery, keys, signature,
issuer, audience, expiry). The SDK's middleware turns a missing or bad token into 401 and a missing
scope into 403, publishes /.well-known/oauth-protected-resource/mcp (naming the issuer as the
authorization server, so a client can find it, register and log in), and binds each legacy session to
the identity that opened it; ``app.transport.challenge`` makes each of those answers say exactly why.
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
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.auth.settings import AuthSettings
from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter, ValidationError

from app.config import Settings
from app.errors import ConfigError
from app.transport.challenge import BearerChallenges, Rejection, reject
from app.transport.oidc import Issuer, NeedsFetch

log = logging.getLogger("k8s_mcp.auth")

#: URLs exactly as written: a root issuer keeps no trailing slash, since clients compare issuers as strings.
_EXACT_URL: TypeAdapter[AnyHttpUrl] = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))


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
    """JWTs of one issuer, for this server's audience; a failure's reason goes to the challenge."""

    def __init__(self, issuer: Issuer, audience: str, *, username_claim: str, groups_claim: str) -> None:
        self.issuer = issuer
        self._audience = audience
        self._user_claim = username_claim
        self._groups_claim = groups_claim

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            try:  # with the keys at hand, on the loop: cheaper than a trip to a worker thread
                claims = self.issuer.verify(token, self._audience, may_block=False)
            except NeedsFetch:
                claims = await anyio.to_thread.run_sync(self.issuer.verify, token, self._audience)
            user = claims.get(self._user_claim) or claims["sub"]
            if not isinstance(user, str) or not user:
                raise Rejection(f"the token's {self._user_claim} claim is not a user name")
        except Rejection as e:
            log.info("bearer token refused", extra={"reason": e.description})
            reject(e)
            return None
        scopes = claims.get("scope") or claims.get("scp") or ""
        groups = claims.get(self._groups_claim) or []
        return AccessToken(
            token=token,
            client_id=str(claims.get("azp") or claims.get("client_id") or user),
            scopes=scopes.split() if isinstance(scopes, str) else [str(s) for s in scopes],
            expires_at=int(claims["exp"]),
            resource=self._audience,
            subject=user,
            claims={"groups": [str(g) for g in groups] if isinstance(groups, list) else [], "iss": claims["iss"]},
        )


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


@dataclass(frozen=True)
class Auth:
    """Everything authentication adds to the server: the verifier and SDK settings, the precise
    challenges around /mcp, and the issuer (for /readyz)."""

    verifier: TokenVerifier
    settings: AuthSettings
    issuer: Issuer | None

    def challenges(self, app: Any) -> BearerChallenges:
        return BearerChallenges(
            app,
            path="/mcp",
            resource_metadata_url=str(build_resource_metadata_url(self.settings.resource_server_url)),  # type: ignore[arg-type]
            scopes=tuple(self.settings.required_scopes or ()),
        )


def _url(value: str, setting: str) -> AnyHttpUrl:
    try:
        return _EXACT_URL.validate_python(value)
    except ValidationError as e:
        raise ConfigError(f"{setting} is not an http(s) URL: {value!r}") from e


def build_auth(settings: Settings) -> Auth | None:
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
    issuer: Issuer | None = None
    if settings.oidc_issuer:
        _url(settings.oidc_issuer, "K8S_MCP_OIDC_ISSUER")
        if settings.oidc_ca_file and not Path(settings.oidc_ca_file).is_file():
            raise ConfigError(f"K8S_MCP_OIDC_CA_FILE {settings.oidc_ca_file} is not a readable file")
        issuer = Issuer(
            settings.oidc_issuer,
            jwks_url=settings.oidc_jwks_url,
            ca_file=settings.oidc_ca_file,
            cache_seconds=settings.oidc_jwks_cache_seconds,
        )
        audience = settings.oidc_audience or f"{settings.base_url}/mcp"
        verifiers.append(
            JwtVerifier(
                issuer,
                audience,
                username_claim=settings.oidc_username_claim,
                groups_claim=settings.oidc_groups_claim,
            )
        )
    auth = AuthSettings(
        issuer_url=_url(settings.oidc_issuer or settings.base_url, "the issuer URL"),
        resource_server_url=_url(f"{settings.base_url}/mcp", "K8S_MCP_PUBLIC_URL"),
        required_scopes=list(settings.required_scopes) or None,
        validate_token_resource=False,
    )
    return Auth(ChainVerifier(verifiers), auth, issuer)
