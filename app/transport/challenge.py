"""Precise bearer challenges on /mcp (RFC 6750 §3, RFC 9728 §5.1).

The SDK's middleware answers every failed token with the same 401 "Authentication required". This
wrapper knows why: a token verifier leaves its one-line reason (a ``Rejection``) in a slot that lives
for one request, and the 401 or 403 going out is rewritten with it:

- no Authorization header: 401 ``Bearer resource_metadata="…"`` (no error code, RFC 6750 §3.1);
- a header that is not ``Bearer <token>``: 400 ``invalid_request``, answered here (the SDK never sees it);
- a token that fails: 401 ``invalid_token`` with the reason (expired, other audience, other issuer,
  unsigned, unknown key, not a JWT, ...);
- the issuer's keys cannot be had: 503 with ``Retry-After`` (the token may be fine; nobody can tell);
- a missing scope: 403 ``insufficient_scope`` with ``scope="…"``, the scopes to ask for (step-up).

Descriptions never contain the token; they keep to the characters RFC 6750 allows in a quoted value.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: RFC 6750 §2.1: the b64token syntax of a bearer credential.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash, ASCII only).
_UNSAFE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")
RETRY_AFTER_SECONDS = 5


class Rejection(Exception):
    """Why a request's credentials were not accepted, as one line for the WWW-Authenticate header."""

    def __init__(self, description: str, *, status: int = 401, error: str = "invalid_token") -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.error = error


class IssuerUnavailable(Rejection):
    """The token could not be checked at all: the issuer's metadata or keys cannot be fetched."""

    def __init__(self, description: str) -> None:
        super().__init__(description, status=503, error="temporarily_unavailable")


_slot: ContextVar[list[Rejection] | None] = ContextVar("bearer_rejections", default=None)


def reject(rejection: Rejection) -> None:
    """Note why the current request's token failed (the first reason wins)."""
    slot = _slot.get()
    if slot is not None and not slot:
        slot.append(rejection)


def quoted(text: str, limit: int = 300) -> str:
    return _UNSAFE.sub("", text.replace('"', "'"))[:limit]


def malformed_authorization(value: str) -> str | None:
    """Why an Authorization header is not ``Bearer <b64token>``; None when it is."""
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return "the Authorization header must use the Bearer scheme"
    if not credentials.strip():
        return "the Authorization header carries no token after 'Bearer'"
    if not _B64TOKEN.fullmatch(credentials.strip()):
        return "the bearer token contains characters a token cannot have"
    return None


class BearerChallenges:
    """ASGI wrapper around the SDK's app: rewrites its 401/403 answers on ``path`` with the precise reason."""

    def __init__(self, app: ASGIApp, *, path: str, resource_metadata_url: str, scopes: tuple[str, ...]) -> None:
        self.app = app
        self.path = path
        self.resource_metadata_url = resource_metadata_url
        self.scopes = scopes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        authorization = Headers(scope=scope).get("authorization")
        if authorization is not None:
            problem = malformed_authorization(authorization)
            if problem is not None:
                await self._answer(send, Rejection(problem, status=400, error="invalid_request"))
                return
        slot: list[Rejection] = []
        token = _slot.set(slot)
        rewritten = False

        async def precise(message: Message) -> None:
            nonlocal rewritten
            if rewritten:
                return  # the body of the SDK's own answer, replaced
            if (
                message["type"] == "http.response.start"
                and message["status"] in (401, 403)
                and "www-authenticate" in Headers(raw=message.get("headers") or [])
            ):
                rewritten = True
                await self._answer(send, self._reason(message["status"], slot, authorization))
                return
            await send(message)

        try:
            await self.app(scope, receive, precise)
        finally:
            _slot.reset(token)

    def _reason(self, status: int, slot: list[Rejection], authorization: str | None) -> Rejection | None:
        if status == 403:
            missing = " ".join(self.scopes)
            return Rejection(f"this server needs the scopes: {missing}", status=403, error="insufficient_scope")
        if slot:
            return slot[0]
        if authorization is None:
            return None  # no credentials at all: a plain challenge
        return Rejection("the bearer token is not valid")

    async def _answer(self, send: Send, rejection: Rejection | None) -> None:
        params: list[str] = []
        body: dict[str, Any] = {}
        status = 401
        if rejection is not None:
            status = rejection.status
            description = quoted(rejection.description)
            params += [f'error="{rejection.error}"', f'error_description="{description}"']
            body = {"error": rejection.error, "error_description": description}
        else:
            body = {"error": "unauthorized", "error_description": "this endpoint needs a bearer token"}
        if self.scopes and status in (401, 403):
            params.append(f'scope="{" ".join(self.scopes)}"')
        params.append(f'resource_metadata="{self.resource_metadata_url}"')
        headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        if status == 503:
            headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
        else:
            headers.append((b"www-authenticate", ("Bearer " + ", ".join(params)).encode()))
        payload = json.dumps(body).encode()
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
