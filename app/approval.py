"""One-time approval tokens for the ``confirm`` approval mode.

The first call of a change runs as a server-side dry run and returns a token; the second call with
that token executes. A token is an HMAC over (caller, tool, exact arguments, expiry, nonce), so it
cannot be used by another identity, for another tool, with altered arguments, after it expires, or
twice. "Twice" holds across replicas: a spent nonce is recorded in a ``SpentLedger`` shared by every
replica (``app.kube.ledger`` keeps it in the cluster itself), and this process also remembers the
nonces it spent, so a replay here is refused without asking the ledger. When the ledger cannot
record the nonce the approval fails closed: nothing runs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from app.errors import K8sMcpError, PolicyDenied

TOKEN_ARGUMENT = "approvalToken"  # noqa: S105 - an argument name, not a secret


class SpentLedger(Protocol):
    """Where spent nonces are recorded so that every replica sees them."""

    async def spend(self, nonce: str, expires_at: int) -> bool:
        """Record ``nonce`` as spent until ``expires_at`` (unix seconds): True the first time, False when it
        was already recorded. Raises ``K8sMcpError`` when the record cannot be made."""
        ...


def canonical_arguments(arguments: dict[str, Any]) -> str:
    """The arguments as signed: sorted keys, no token, no nulls (a default and an explicit null are the same call)."""
    kept = {k: v for k, v in arguments.items() if k != TOKEN_ARGUMENT and v is not None}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Approvals:
    def __init__(
        self,
        secret: str | None,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
        ledger: SpentLedger | None = None,
    ) -> None:
        self._key = secret.encode() if secret else secrets.token_bytes(32)
        self._ttl = ttl_seconds
        self._clock = clock
        self._ledger = ledger
        self._spent: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def _mac(self, payload: str, caller: str, tool: str, arguments: dict[str, Any]) -> str:
        message = "\n".join((payload, caller, tool, canonical_arguments(arguments))).encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def mint(self, caller: str, tool: str, arguments: dict[str, Any]) -> str:
        # 128 random bits: nonces minted by many replicas over the ledger's lifetime never collide.
        payload = _b64(json.dumps({"e": int(self._clock()) + self._ttl, "n": secrets.token_hex(16)}).encode())
        return f"{payload}.{self._mac(payload, caller, tool, arguments)}"

    async def redeem(self, token: str, caller: str, tool: str, arguments: dict[str, Any]) -> None:
        """Accept the token once, for exactly this caller, tool and arguments; raise PolicyDenied otherwise."""
        payload, _, mac = token.partition(".")
        try:
            claims = json.loads(_unb64(payload))
            expiry, nonce = int(claims["e"]), str(claims["n"])
        except (ValueError, KeyError, TypeError) as e:
            raise PolicyDenied("the approval token is malformed; call again without approvalToken for a new one") from e
        if not hmac.compare_digest(mac, self._mac(payload, caller, tool, arguments)):
            raise PolicyDenied(
                "the approval token does not match this call (other tool, other arguments or other caller); "
                "call again without approvalToken for a new preview"
            )
        now = self._clock()
        if now > expiry:
            raise PolicyDenied("the approval token has expired; call again without approvalToken for a new preview")
        with self._lock:
            self._spent = {n: e for n, e in self._spent.items() if e >= now}
            if nonce in self._spent:
                raise PolicyDenied("the approval token was already used; each token approves one call")
            # Claimed here before the ledger is asked, so two concurrent calls on this replica cannot both pass.
            self._spent[nonce] = expiry
        if self._ledger is None:
            return
        try:
            first = await self._ledger.spend(nonce, expiry)
        except K8sMcpError as e:
            with self._lock:
                self._spent.pop(nonce, None)  # not spent: the call did not run and may be retried
            raise PolicyDenied(f"the approval could not be recorded as spent, so the change was not made: {e}") from e
        except BaseException:
            with self._lock:
                self._spent.pop(nonce, None)
            raise
        if not first:
            raise PolicyDenied("the approval token was already used; each token approves one call")
