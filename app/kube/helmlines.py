"""What helm prints on stderr while it works, read as progress and as log lines of the right level.

Pure: ``Helm.execute`` feeds each stderr line of a change run with ``--debug`` to ``HelmWatch.read``,
which answers the level to log it at and, when the line says where the work stands, a progress
message a person understands. Helm's ``--wait`` names the number of resources it waits for, then
(every couple of seconds) the first one that is not ready yet and why; that is what the messages
say. ``without_debug`` takes the debug lines out of stderr again before an error is translated.

Both of helm's debug formats are read: ``file.go:NN: <time> [debug] message`` (helm v3's ``log``,
the time since v3.x) and ``time=... level=DEBUG msg="message"`` (``log/slog``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.notify import Level

_GO_LOG = re.compile(r"^(?:\S+\.go:\d+: )?[^\[]*\[debug\] (?P<text>.*)$")
_SLOG = re.compile(r'^time=\S+ level=(?P<level>[A-Z]+) msg=(?P<msg>"(?:[^"\\]|\\.)*"|\S+)(?P<rest>.*)$')
_WAIT = re.compile(r"beginning wait for (?P<count>\d+) resources?(?P<deleted> to be deleted)?")
_CREATING = re.compile(r"creating (?P<count>\d+) resource")
_DELETING = re.compile(r'Starting delete for "(?P<name>[^"]+)" (?P<kind>\w+)')
_NOT_READY = re.compile(
    r"(?P<kind>[A-Z]\w*) (?:is not ready|is not bound|does not have[^:]*|has not[^:]*|not yet[^:]*): (?P<what>.*)$"
)
_SLOG_LEVELS: dict[str, Level] = {"DEBUG": "debug", "INFO": "info", "WARN": "warning", "ERROR": "error"}


@dataclass(frozen=True)
class Line:
    """One stderr line: its text without helm's prefixes, whether it is debug output, and its level."""

    text: str
    debug: bool
    level: Level


def read_line(raw: str, after_debug: bool = False) -> Line | None:
    """One stderr line as a ``Line``; None for a blank one.

    A line without helm's prefixes right after a debug line continues it (a multi-line message, or
    the stack trace helm prints after its error with ``--debug``): it is debug output too.
    """
    line = raw.strip()
    if not line:
        return None
    found = _GO_LOG.match(line)
    if found:
        return Line(found.group("text").strip(), True, "debug")
    slog = _SLOG.match(line)
    if slog:
        msg = slog.group("msg")
        text = (msg[1:-1].replace('\\"', '"') if msg.startswith('"') else msg) + slog.group("rest")
        level = _SLOG_LEVELS.get(slog.group("level"), "debug")
        return Line(text.strip(), level == "debug", level)
    if line.startswith("Error:"):
        return Line(line, False, "error")
    if line.lower().startswith("warning"):
        return Line(line, False, "warning")
    if after_debug:
        return Line(line, True, "debug")
    return Line(line, False, "info")


def without_debug(stderr: str) -> str:
    """stderr without helm's debug output (stack trace included): what the error translation reads."""
    kept = []
    after_debug = False
    for raw in stderr.splitlines():
        line = read_line(raw, after_debug)
        if line is None:
            continue
        after_debug = line.debug
        if not line.debug:
            kept.append(raw)
    return "\n".join(kept)


class HelmWatch:
    """Reads one helm run's stderr: what to log at which level, and the progress messages it implies."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.resources: int | None = None
        self.deleting = False
        self.waiting_on: str | None = None
        self._after_debug = False

    def read(self, raw: str) -> tuple[Line | None, str | None]:
        """The line (None if blank) and a progress message when the line moves the work on."""
        line = read_line(raw, self._after_debug)
        if line is None:
            return None, None
        self._after_debug = line.debug
        text = line.text
        wait = _WAIT.search(text)
        if wait:
            self.resources = int(wait.group("count"))
            self.deleting = bool(wait.group("deleted"))
            self.waiting_on = None
            goal = "to be deleted" if self.deleting else "to be ready"
            return _notable(line), f"helm: waiting for {self._counted()} {goal}"
        creating = _CREATING.search(text)
        if creating:
            return _notable(line), f"helm {self.command}: creating {self._plural(int(creating.group('count')))}"
        deleting = _DELETING.search(text)
        if deleting:
            return _notable(line), f"helm {self.command}: deleting {deleting.group('kind')} {deleting.group('name')}"
        not_ready = _NOT_READY.search(text)
        if not_ready:
            what = not_ready.group("what").rstrip(".")
            name, _, why = what.partition(". ")
            first_time = name != self.waiting_on
            self.waiting_on = name
            subject = f"{not_ready.group('kind')} {name}"
            detail = f" ({why})" if why else ""
            message = f"helm: waiting for {self._counted()}; {subject} is not ready yet{detail}"
            return (_notable(line) if first_time else line), message
        return line, None

    def _counted(self) -> str:
        return self._plural(self.resources) if self.resources is not None else "resources"

    @staticmethod
    def _plural(count: int | None) -> str:
        return f"{count} resource{'s' if count != 1 else ''}"


def _notable(line: Line) -> Line:
    """A debug line that says something a person watching the call wants to see: logged at info."""
    return Line(line.text, line.debug, "info") if line.level == "debug" else line
