"""An OpenID issuer as this resource server sees it: discovery, signing keys, and the check of one JWT.

Discovery: ``<issuer>/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4), else the
RFC 8414 ``/.well-known/oauth-authorization-server`` document; either must name the configured issuer
exactly, and its ``jwks_uri`` gives the keys (``oidc_jwks_url`` overrides it). No JWKS URL needs to be
set by hand.

Keys (parsed and used through PyJWT): fetched once, reused for ``oidc_jwks_cache_seconds``, fetched
again at once when a token names a key id not seen before (at most once a second, so made-up key ids
cannot turn into a flood of fetches). A key the issuer stopped publishing is refused once the keys are
fetched again. When the issuer cannot be reached, keys already held keep working; with none held, a
token cannot be checked at all (``IssuerUnavailable``: 503, and ``/readyz`` says why).

PyJWT's own ``PyJWKClient`` is not used: with its per-key cache a removed key stays trusted for the life
of the process, and nothing limits how often an unknown key id makes it fetch.

Every failure is a ``Rejection`` carrying the one line the client gets in ``WWW-Authenticate``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.transport.challenge import IssuerUnavailable, Rejection

if TYPE_CHECKING:
    import jwt

log = logging.getLogger("k8s_mcp.auth")

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
REQUIRED_CLAIMS = ("exp", "iss", "sub", "aud")
MIN_REFETCH_SECONDS = 1.0
MAX_DOCUMENT_BYTES = 1 << 20


def _reason(error: BaseException) -> str:
    """A fetch failure as a short phrase (never a body)."""
    if isinstance(error, urllib.error.HTTPError):
        return f"it answered HTTP {error.code}"
    cause = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(cause, ssl.SSLCertVerificationError):
        return "its TLS certificate is not trusted (set K8S_MCP_OIDC_CA_FILE to its CA)"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, TimeoutError):
        return "no answer in time"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return type(cause).__name__ if isinstance(cause, BaseException) else str(cause)


class NeedsFetch(Exception):
    """The keys must be fetched (or are being fetched) before this token can be checked."""


class Issuer:
    """One trusted issuer: its metadata and current signing keys, fetched and refreshed as described above."""

    def __init__(
        self,
        issuer: str,
        *,
        jwks_url: str | None = None,
        ca_file: str | None = None,
        cache_seconds: float = 300,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import jwt  # here, not at module level: PyJWT with cryptography adds to every start, and only OIDC needs it

        self._jwt = jwt
        self.issuer = issuer
        self._jwks_uri = jwks_url
        self._tls = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
        self._cache_seconds = cache_seconds
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._declared_alg: dict[str, str] = {}  # a key's own "alg", when its JWK names one
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._problem = "not contacted yet"

    # --- fetching --------------------------------------------------------------------------------

    def _get(self, url: str) -> Any:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"not an http(s) URL: {url}")
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - checked above
        with urllib.request.urlopen(request, timeout=self._timeout, context=self._tls) as response:  # noqa: S310
            return json.loads(response.read(MAX_DOCUMENT_BYTES))

    def _discover(self) -> str:
        base = self.issuer.rstrip("/")
        problems: list[str] = []
        for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
            try:
                document = self._get(base + path)
            except urllib.error.HTTPError as e:
                problems.append(_reason(e))
                continue
            if not isinstance(document, dict) or not document.get("jwks_uri"):
                problems.append(f"{path} has no jwks_uri")
                continue
            if document.get("issuer") != self.issuer:
                raise IssuerUnavailable(
                    f"the discovery document of {self.issuer} names the issuer {document.get('issuer')!r}; "
                    "K8S_MCP_OIDC_ISSUER must be exactly the issuer the provider announces"
                )
            return str(document["jwks_uri"])
        raise IssuerUnavailable(f"cannot discover the issuer {self.issuer}: {'; '.join(problems)}")

    def _fetch_keys(self) -> None:
        """Discovery (once) and the key set; raises IssuerUnavailable with the reason."""
        try:
            if self._jwks_uri is None:
                self._jwks_uri = self._discover()
            document = self._get(self._jwks_uri)
        except IssuerUnavailable:
            raise
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise IssuerUnavailable(f"cannot reach the issuer {self.issuer}: {_reason(e)}") from e
        keys: dict[str, jwt.PyJWK] = {}
        declared: dict[str, str] = {}
        for entry in document.get("keys") or [] if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = self._jwt.PyJWK(entry)
            except self._jwt.PyJWTError:
                continue  # a key type or algorithm this server cannot use; the others still count
            keys[str(entry.get("kid") or "")] = key
            if entry.get("alg"):
                declared[str(entry.get("kid") or "")] = str(entry["alg"])
        if not keys:
            raise IssuerUnavailable(f"the issuer {self.issuer} publishes no usable signing key")
        self._keys, self._declared_alg = keys, declared
        self._fetched_at = self._clock()

    def _refresh(self, now: float) -> None:
        self._last_attempt = now
        try:
            self._fetch_keys()
        except IssuerUnavailable as e:
            self._problem = e.description
            raise
        self._problem = ""
        log.info("issuer keys fetched", extra={"issuer": self.issuer, "key_ids": sorted(self._keys)})

    def key_for(self, kid: str | None, *, may_block: bool = True) -> jwt.PyJWK:
        """The signing key ``kid`` (any key when the set has only one and the token names none).

        ``may_block=False`` (on the event loop) raises ``NeedsFetch`` instead of fetching or waiting for
        a fetch in progress; the caller then asks again from a worker thread."""
        if not self._lock.acquire(blocking=may_block):
            raise NeedsFetch
        try:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._cache_seconds
            unknown = (kid or "") not in self._keys and not (kid is None and len(self._keys) == 1)
            may_fetch = self._last_attempt is None or now - self._last_attempt >= MIN_REFETCH_SECONDS
            if (stale or unknown) and may_fetch:
                if not may_block:
                    raise NeedsFetch
                try:
                    self._refresh(now)
                except IssuerUnavailable:
                    if not self._keys:
                        raise
                    log.warning("issuer keys not refreshed; keeping those held", extra={"issuer": self.issuer})
            if not self._keys:
                raise IssuerUnavailable(self._problem)
            if kid is None:
                if len(self._keys) == 1:
                    return next(iter(self._keys.values()))
                raise Rejection("the token names no key id (kid) and the issuer has several keys")
            found = self._keys.get(kid)
            if found is None:
                raise Rejection(f"the token is signed with a key the issuer does not publish (kid {kid})")
            return found
        finally:
            self._lock.release()

    def probe(self) -> tuple[bool, str]:
        """For /readyz: can tokens be checked now? Fetches when no keys are held or they are stale."""
        try:
            with self._lock:
                now = self._clock()
                stale = self._fetched_at is None or now - self._fetched_at >= self._cache_seconds
                if stale and (self._last_attempt is None or now - self._last_attempt >= MIN_REFETCH_SECONDS):
                    try:
                        self._refresh(now)
                    except IssuerUnavailable:
                        if not self._keys:
                            raise
                if not self._keys:
                    raise IssuerUnavailable(self._problem)
                return True, f"issuer {self.issuer}: {len(self._keys)} signing key(s)"
        except IssuerUnavailable as e:
            return False, e.description

    # --- one token -------------------------------------------------------------------------------

    def verify(self, token: str, audience: str, *, may_block: bool = True) -> dict[str, Any]:
        """The token's claims when it is a JWT this issuer signed for ``audience``, unexpired; else Rejection.

        With keys at hand this is CPU work of about a millisecond, fine on the event loop
        (``may_block=False``); ``NeedsFetch`` says the keys must be fetched first, from a worker thread."""
        jwt = self._jwt
        header, unverified = peek(token)
        alg = str(header.get("alg") or "none")
        if alg.lower() == "none":
            raise Rejection("the token is not signed (alg none)")
        if alg not in ALGORITHMS:
            raise Rejection(f"the token's signing algorithm {alg} is not accepted")
        issuer = unverified.get("iss")
        if issuer != self.issuer:
            named = f"by {issuer}" if isinstance(issuer, str) and issuer else "with no issuer (iss)"
            raise Rejection(f"the token was issued {named}, not by {self.issuer}")
        kid = header.get("kid")
        key = self.key_for(str(kid) if kid is not None else None, may_block=may_block)
        declared = self._declared_alg.get(str(kid) if kid is not None else "")
        if declared and declared != alg:
            raise Rejection(f"the token says {alg} but its key is for {declared}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audience,
                issuer=self.issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as e:
            raise Rejection(f"the token expired at {_when(unverified.get('exp'))}") from e
        except jwt.ImmatureSignatureError as e:
            raise Rejection("the token is not valid yet (nbf or iat in the future)") from e
        except jwt.InvalidAudienceError as e:
            raise Rejection(f"the token is for {_audiences(unverified.get('aud'))}, not for {audience}") from e
        except jwt.MissingRequiredClaimError as e:
            raise Rejection(f"the token has no {e.claim} claim") from e
        except jwt.InvalidSignatureError as e:
            raise Rejection("the token's signature does not verify with the issuer's key") from e
        except jwt.PyJWTError as e:
            raise Rejection(f"the token is not valid: {e}") from e
        return claims


def _segment(text: str) -> Any:
    return json.loads(base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True))


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, unverified, for the checks that come before the signature (and name the reason).

    Decoded here once rather than through PyJWT's unverified decode, which validates each segment
    character by character in Python: that made up most of the cost of a token check."""
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three segments")
        header, claims = _segment(parts[0]), _segment(parts[1])
    except (ValueError, binascii.Error) as e:
        raise Rejection("the bearer token is not a JWT") from e
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Rejection("the bearer token is not a JWT")
    return header, claims


def _when(exp: Any) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(float(exp), tz=datetime.UTC)
    except (TypeError, ValueError, OverflowError):
        return "an unreadable time"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _audiences(aud: Any) -> str:
    if isinstance(aud, list) and aud:
        return "audience " + ", ".join(str(a) for a in aud)
    return f"audience {aud}" if aud else "no audience"
