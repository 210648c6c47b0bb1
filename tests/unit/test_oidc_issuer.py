"""The issuer's key policy and each token check, against a small local issuer (discovery + JWKS over HTTP).

The clock is the test's, so refresh timing is exact without waiting: keys are reused for the cache
period, a new key id fetches at once (at most once a second), a removed key is refused once refetched,
and keys already held survive an issuer outage. The real provider is exercised in
tests/integration/test_oidc_tokens.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.transport.challenge import IssuerUnavailable, Rejection, malformed_authorization, quoted
from app.transport.oidc import Issuer, NeedsFetch

AUDIENCE = "https://mcp.example/mcp"


class LocalIssuer:
    """Discovery and a JWKS whose keys a test can change; counts JWKS fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0
        self.announced_issuer: str | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body: Any = {"issuer": outer.announced_issuer or outer.issuer, "jwks_uri": f"{outer.issuer}/jwks"}
                elif self.path == "/jwks":
                    outer.fetches += 1
                    body = {"keys": [outer.public(kid) for kid in outer.keys]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add_key(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def public(self, kid: str) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
        return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}

    def sign(self, kid: str, **overrides: Any) -> str:
        claims = {"iss": self.issuer, "sub": "alice", "aud": AUDIENCE, "exp": int(time.time()) + 300}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def local() -> Iterator[LocalIssuer]:
    found = LocalIssuer()
    found.add_key("k1")
    yield found
    found.httpd.shutdown()


def issuer_for(local: LocalIssuer, clock: Clock, cache_seconds: float = 300) -> Issuer:
    return Issuer(local.issuer, cache_seconds=cache_seconds, clock=clock, timeout=2)


def test_discovery_finds_the_keys_and_they_are_reused(local: LocalIssuer) -> None:
    clock = Clock()
    issuer = issuer_for(local, clock)
    for _ in range(3):
        assert issuer.verify(local.sign("k1"), AUDIENCE)["sub"] == "alice"
    assert local.fetches == 1
    assert issuer.probe() == (True, f"issuer {local.issuer}: 1 signing key(s)")


def test_a_new_key_id_fetches_at_once_but_at_most_once_a_second(local: LocalIssuer) -> None:
    clock = Clock()
    issuer = issuer_for(local, clock)
    issuer.verify(local.sign("k1"), AUDIENCE)
    local.add_key("k2")
    with pytest.raises(Rejection, match=r"a key the issuer does not publish \(kid k2\)"):
        issuer.verify(local.sign("k2"), AUDIENCE)  # the same instant as the last fetch: no new fetch
    assert local.fetches == 1
    clock.now += 1
    assert issuer.verify(local.sign("k2"), AUDIENCE)["sub"] == "alice"
    assert local.fetches == 2
    for made_up in ("x1", "x2", "x3"):  # made-up key ids within the second cause no fetch
        with pytest.raises(Rejection):
            issuer.key_for(made_up)
    assert local.fetches == 2


def test_a_removed_key_is_refused_once_the_keys_are_fetched_again(local: LocalIssuer) -> None:
    clock = Clock()
    issuer = issuer_for(local, clock, cache_seconds=60)
    old = local.sign("k1")
    issuer.verify(old, AUDIENCE)
    local.add_key("k2")
    del local.keys["k1"]
    clock.now += 59
    assert issuer.verify(old, AUDIENCE)["sub"] == "alice"  # still within the cache period
    clock.now += 1
    with pytest.raises(Rejection, match=r"does not publish \(kid k1\)"):
        issuer.verify(old, AUDIENCE)
    assert issuer.verify(local.sign("k2"), AUDIENCE)["sub"] == "alice"


def test_keys_held_survive_an_issuer_outage_and_none_held_means_unavailable(local: LocalIssuer) -> None:
    clock = Clock()
    issuer = issuer_for(local, clock, cache_seconds=10)
    token = local.sign("k1")
    issuer.verify(token, AUDIENCE)
    local.httpd.shutdown()
    local.httpd.server_close()
    clock.now += 60
    assert issuer.verify(token, AUDIENCE)["sub"] == "alice"
    fresh = Issuer(local.issuer, clock=clock, timeout=2)
    with pytest.raises(IssuerUnavailable, match=f"cannot reach the issuer {local.issuer}: connection refused"):
        fresh.verify(token, AUDIENCE)
    assert fresh.probe() == (False, f"cannot reach the issuer {local.issuer}: connection refused")


def test_a_discovery_document_for_another_issuer_is_refused(local: LocalIssuer) -> None:
    local.announced_issuer = "https://elsewhere.example"
    ok, detail = issuer_for(local, Clock()).probe()
    assert not ok and "names the issuer 'https://elsewhere.example'" in detail


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda li: "abc.def", "the bearer token is not a JWT"),
        (lambda li: jwt.encode({"iss": li.issuer}, None, algorithm="none"), "the token is not signed (alg none)"),
        (
            lambda li: jwt.encode({"iss": li.issuer}, "k" * 32, algorithm="HS256"),
            "signing algorithm HS256 is not accepted",
        ),
        (lambda li: li.sign("k1", iss="https://evil.example"), "issued by https://evil.example, not by"),
        (lambda li: li.sign("k1", iss=None), "issued with no issuer (iss), not by"),
        (
            lambda li: li.sign("k1", aud="https://other/mcp"),
            f"the token is for audience https://other/mcp, not for {AUDIENCE}",
        ),
        (lambda li: li.sign("k1", exp=int(time.time()) - 5), "the token expired at 20"),
        (lambda li: li.sign("k1", exp=None), "the token has no exp claim"),
        (lambda li: li.sign("k1", nbf=int(time.time()) + 600), "not valid yet"),
        (lambda li: li.sign("k1")[:-6] + "AAAAAA", "signature does not verify"),
    ],
)
def test_each_bad_token_is_refused_with_its_own_reason(local: LocalIssuer, make: Any, reason: str) -> None:
    with pytest.raises(Rejection) as info:
        issuer_for(local, Clock()).verify(make(local), AUDIENCE)
    assert reason in info.value.description and info.value.status == 401


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("Bearer abc.DEF-ghi_jkl~+/==", None),
        ("bearer abc", None),
        ("Basic dXNlcjpwYXNz", "must use the Bearer scheme"),
        ("Bearer", "carries no token"),
        ("Bearer   ", "carries no token"),
        ("Bearer a b", "characters a token cannot have"),
        ('Bearer "quoted"', "characters a token cannot have"),
    ],
)
def test_the_authorization_header_syntax(header: str, problem: str | None) -> None:
    found = malformed_authorization(header)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_descriptions_keep_to_the_characters_a_quoted_header_value_allows() -> None:
    assert quoted('say "hi" \\ to é\n') == "say 'hi'  to "


def test_on_the_event_loop_a_check_never_fetches_or_waits(local: LocalIssuer) -> None:
    clock = Clock()
    issuer = issuer_for(local, clock)
    token = local.sign("k1")
    with pytest.raises(NeedsFetch):  # no keys yet: the caller must go to a worker thread
        issuer.verify(token, AUDIENCE, may_block=False)
    assert local.fetches == 0
    issuer.verify(token, AUDIENCE)
    assert issuer.verify(token, AUDIENCE, may_block=False)["sub"] == "alice"
    local.add_key("k2")
    clock.now += 5
    with pytest.raises(NeedsFetch):  # a new key id needs a fetch: not on the loop
        issuer.verify(local.sign("k2"), AUDIENCE, may_block=False)
    with issuer._lock, pytest.raises(NeedsFetch):  # a fetch in progress elsewhere: do not wait for it
        issuer.verify(token, AUDIENCE, may_block=False)
    assert local.fetches == 1
