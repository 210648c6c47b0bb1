"""What a long tool call may tell its client while it works: progress, and notable events as log lines.

Handlers and ``app/kube`` never know whether anyone listens. They ask ``app.scope.notices()`` for the
call's ``Notifier`` and say what is happening; the transport binds one that turns it into MCP
``notifications/progress`` and ``notifications/message`` (scrubbed, filtered by the session's log
level, sent only when the client asked for them), and everywhere else (tests, previews, prompts) the
default ``SILENT`` one drops it all.

A notifier keeps its own promises: a client that asked for progress hears from the call at least
every few seconds while it works, even while a subprocess or a wait loop has nothing new to say,
so handlers only speak when something happens.
"""

from __future__ import annotations

from typing import Literal, Protocol

Level = Literal["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
#: The syslog severities MCP logging uses (RFC 5424), least severe first.
LEVELS: tuple[Level, ...] = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


def at_least(level: str, threshold: str) -> bool:
    """Whether ``level`` is ``threshold`` or more severe (unknown levels count as the least severe)."""
    rank: dict[str, int] = {name: index for index, name in enumerate(LEVELS)}
    return rank.get(level, 0) >= rank.get(threshold, 0)


class Notifier(Protocol):
    """What a call may say while it works; every method is best effort and never raises."""

    @property
    def listening(self) -> bool:
        """True when a client hears progress or log lines: worth the cost of producing detail."""
        ...

    async def progress(self, message: str, done: float | None = None, total: float | None = None) -> None:
        """Where the work stands, in words a person understands; ``done`` of ``total`` where known."""
        ...

    async def log(self, level: Level, text: str) -> None:
        """A notable event of the call (an output line, a condition that changed, a warning)."""
        ...


class Silent:
    """The notifier when nobody listens: every notice is dropped."""

    @property
    def listening(self) -> bool:
        return False

    async def progress(self, message: str, done: float | None = None, total: float | None = None) -> None:
        return None

    async def log(self, level: Level, text: str) -> None:
        return None


SILENT = Silent()
