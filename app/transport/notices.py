"""Progress and log notifications of a tool call, sent through the SDK: the transport side of ``app.notify``.

``ClientNotifier`` is bound for each tool call (``app.scope.notifying``) and turns what handlers say
into MCP notifications on the call's own response stream:

- ``notifications/progress`` only when the request carried ``_meta.progressToken`` (the SDK drops
  it otherwise). ``progress`` strictly increases, as the protocol requires: a count of work done
  (``total`` known) creeps towards the next unit while nothing changes, and work without a count
  reports the seconds it has run. ``heartbeat()`` repeats the last message with the time elapsed
  whenever the call has been silent for ``HEARTBEAT_SECONDS``, so a client that resets its
  timeout on progress (the TypeScript SDK's ``resetTimeoutOnProgress``) keeps waiting.
- ``notifications/message`` at or above the level the client chose: per session with
  ``logging/setLevel`` on 2025-era sessions (``SessionLevels``; ``DEFAULT_LEVEL`` until it is set),
  and per request with ``_meta["io.modelcontextprotocol/logLevel"]`` on 2026-07-28, where the SDK
  itself sends nothing unless the request opted in.

Every text is scrubbed of credentials like any other output. Sending is best effort: a client that
went away costs the call nothing.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections import OrderedDict
from typing import Any

import anyio
from mcp import MCPDeprecationWarning
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.types import EmptyResult, SetLevelRequestParams
from mcp_types.version import is_version_at_least

from app import redaction
from app.notify import LEVELS, Level, at_least
from app.scope import session_key

log = logging.getLogger("k8s_mcp.notices")

#: A listening client hears from a working call at least this often (seconds).
HEARTBEAT_SECONDS = 3.0
#: The level a 2025-era session receives until it sends ``logging/setLevel``.
DEFAULT_LEVEL: Level = "info"
#: The first protocol revision where the log level travels with each request.
REQUEST_SCOPED_LOGGING = "2026-07-28"
#: Seconds over which a count's creep covers half of the way to the next unit.
CREEP_SECONDS = 60.0
LOGGER_NAME = "k8s-mcp"

# The SDK marks MCP logging deprecated for 2026-07-28; 2025-era sessions still use it, and so do we.
warnings.filterwarnings("ignore", message="The logging capability is deprecated", category=MCPDeprecationWarning)


class SessionLevels:
    """The log level each 2025-era session asked for, bounded: the least recently set are forgotten."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._levels: OrderedDict[str, Level] = OrderedDict()

    def set(self, session: str | None, level: Level) -> None:
        if session is None:  # a stateless request: nothing lasts beyond it
            return
        self._levels[session] = level
        self._levels.move_to_end(session)
        while len(self._levels) > self.capacity:
            self._levels.popitem(last=False)

    def get(self, session: str | None) -> Level:
        return self._levels.get(session, DEFAULT_LEVEL) if session is not None else DEFAULT_LEVEL

    def __len__(self) -> int:
        return len(self._levels)

    def handler(self) -> Any:
        """The ``logging/setLevel`` request handler: remember the level for the caller's session, answer {}."""

        async def set_level(ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
            self.set(session_key(), params.level)
            return EmptyResult()

        return set_level


class ProgressCounter:
    """Strictly increasing ``progress`` values for one call, from counts where known, else seconds."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.last = float("-inf")
        self.total: float | None = None
        self._base: float | None = None  # the last count reported, and when
        self._base_at = started

    def value(self, now: float, done: float | None, total: float | None) -> float:
        if total is not None or done is not None:
            self.total = total
        if done is not None:
            self._base, self._base_at = float(done), now
            candidate = float(done)
        elif self._base is not None:  # nothing new counted: creep towards the next unit, never reaching it
            elapsed = now - self._base_at
            candidate = self._base + 0.9 * elapsed / (elapsed + CREEP_SECONDS)
        else:
            candidate = round(now - self.started, 1)
        self.last = max(candidate, self.last + 0.001)
        return self.last


class ClientNotifier:
    """One tool call's notices, sent to its client through the SDK (see the module docstring)."""

    def __init__(self, ctx: Context[Any, Any], levels: SessionLevels, tool: str, *, scrub: bool = True) -> None:
        request = ctx.request_context
        meta: dict[str, Any] = dict(request.meta or {})
        self._request = request
        self._tool = tool
        self._scrub = scrub
        # The SDK hands the request's _meta over with its own field names (progress_token) or as sent.
        self._wants_progress = any(meta.get(key) is not None for key in ("progress_token", "progressToken"))
        self._modern = bool(request.protocol_version) and is_version_at_least(
            request.protocol_version, REQUEST_SCOPED_LOGGING
        )
        if self._modern:
            requested = meta.get("io.modelcontextprotocol/logLevel")
            self._threshold: Level | None = requested if requested in LEVELS else None
        else:
            self._threshold = levels.get(session_key())
        self._started = time.monotonic()
        self._counter = ProgressCounter(self._started)
        self._last_sent = self._started
        self._message = ""
        self._lock = anyio.Lock()

    @property
    def listening(self) -> bool:
        return self._wants_progress or self._threshold is not None

    @property
    def wants_progress(self) -> bool:
        return self._wants_progress

    async def progress(self, message: str, done: float | None = None, total: float | None = None) -> None:
        if not self._wants_progress:
            return
        self._message = message
        await self._send_progress(message, done, total)

    async def log(self, level: Level, text: str) -> None:
        if self._threshold is None or not at_least(level, self._threshold):
            return
        try:
            await self._request.session.send_log_message(
                level=level, data=self._clean(text), logger=LOGGER_NAME, related_request_id=self._request.request_id
            )
        except Exception as e:  # noqa: BLE001 - best effort: the client may be gone
            log.debug("log notification not sent: %s", e)

    async def heartbeat(self) -> None:
        """Runs beside the call: repeat the last message whenever the call has been quiet too long."""
        if not self._wants_progress:
            return
        while True:
            quiet = time.monotonic() - self._last_sent
            if quiet < HEARTBEAT_SECONDS:
                await anyio.sleep(HEARTBEAT_SECONDS - quiet)
                continue
            elapsed = int(time.monotonic() - self._started)
            said = self._message or f"{self._tool}: working"
            await self._send_progress(f"{said} ({elapsed}s elapsed)", None, self._counter.total)

    async def _send_progress(self, message: str, done: float | None, total: float | None) -> None:
        async with self._lock:
            now = time.monotonic()
            value = self._counter.value(now, done, total)
            self._last_sent = now
            try:
                await self._request.session.report_progress(
                    value, total=self._counter.total, message=self._clean(message)
                )
            except Exception as e:  # noqa: BLE001 - best effort: the client may be gone
                log.debug("progress notification not sent: %s", e)

    def _clean(self, text: str) -> str:
        return redaction.scrub_text(text) if self._scrub else text
