"""The request scope: what every layer may know about the request it is serving, and nothing else.

One MCP message (a tool call, a resource read, a prompt render, a completion) runs inside one
``call_scope``, entered once by the transport for every message. Inside it:

- ``correlation_id``: on every log and audit line and API-call log line; the client's
  ``X-Correlation-Id`` or a new id.
- ``session_id``: keys the per-session default context (``switchContext``); the ``Mcp-Session-Id``,
  ``stdio`` over stdio (one client), ``-`` for stateless requests (no session).
- ``identity``: impersonation, approval tokens, audit; from the verified bearer token, ``None``
  without authentication.
- ``dry_run``: every write is sent with ``dryRun=All`` and exec and Helm do not act; set only by
  ``previewing()``, around an approval preview.
- ``notifier``: where a long call reports progress and notable events (``app.notify``); silent
  unless the transport bound one for a tool call whose client listens (``notifying()``), and
  silent again inside a preview.

Trace ids (W3C trace context) belong here too when tracing records them: one more variable, set by
``call_scope`` from the request like the others.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar, Token
from typing import Any

from app.identity import Identity
from app.notify import SILENT, Notifier

NO_SESSION = "-"
STDIO_SESSION = "stdio"

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="-")
session_id: ContextVar[str] = ContextVar("session_id", default=NO_SESSION)
identity: ContextVar[Identity | None] = ContextVar("identity", default=None)
dry_run: ContextVar[bool] = ContextVar("dry_run", default=False)
notifier: ContextVar[Notifier] = ContextVar("notifier", default=SILENT)


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


def identity_key() -> str:
    """A stable string for binding things (approval tokens, rate buckets) to the caller."""
    caller = identity.get()
    return caller.key() if caller else "anonymous"


def session_key() -> str | None:
    """The MCP session of the running call; None when there is none (stateless requests)."""
    key = session_id.get()
    return None if key in ("", NO_SESSION) else key


def dry_run_active() -> bool:
    """True while a change is only previewed: nothing may be persisted or executed."""
    return dry_run.get()


@contextlib.contextmanager
def call_scope(*, correlation: str | None, session: str | None, caller: Identity | None) -> Iterator[None]:
    """Correlation id, session id and identity for the work done inside, reset afterwards."""
    with _bound(
        (correlation_id, correlation or new_correlation_id()),
        (session_id, session or NO_SESSION),
        (identity, caller),
    ):
        yield


def notices() -> Notifier:
    """The running call's notifier (``SILENT`` when nobody listens or the work is only previewed)."""
    return notifier.get()


@contextlib.contextmanager
def notifying(target: Notifier) -> Iterator[None]:
    """Report the progress and notable events of the work inside to ``target``."""
    with _bound((notifier, target)):
        yield


@contextlib.contextmanager
def previewing() -> Iterator[None]:
    """Run the work inside as a preview: writes are sent with ``dryRun=All``, exec and Helm do not act.

    A preview is silent: its progress would describe work that is not being done."""
    with _bound((dry_run, True), (notifier, SILENT)):
        yield


@contextlib.contextmanager
def _bound(*pairs: tuple[ContextVar[Any], Any]) -> Iterator[None]:
    tokens: list[tuple[ContextVar[Any], Token[Any]]] = [(var, var.set(value)) for var, value in pairs]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
