"""The text scrub: every rule that knows a credential format, run over any text that leaves the server.

A ``Rule`` is a pattern, what replaces its match, and the literals ("hints") that every match contains
(compared case-insensitively). Every tool result, resource, prompt, error line, audit line and log line
passes through ``scrub_text``, so it must be cheap on the common case of text with nothing secret in it:
a rule's pattern runs only when one of its hints is in the text, and rules marked ``per_line`` (the
costly ones) only on the lines that carry a hint. No pattern of a per-line rule can match across a
line break, so the result is exactly that of running every rule over the whole text in order
(``scrub_everywhere``, which the unit tests hold it to). Non-ASCII text skips the shortcuts, because
case-insensitive matching folds some non-ASCII letters onto ASCII ones.

``scrub_json`` scrubs a JSON-shaped value (structured content, audit arguments) as one dumped text with
one value per line, and falls back to scrubbing each string on its own in the rare case where a
replacement cut through JSON syntax.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

REDACTED = "<redacted>"

Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True, slots=True)
class Rule:
    """One credential format: what to find, what to put instead, and the literals that gate it."""

    name: str
    pattern: re.Pattern[str]
    #: Lower-case literals; every match contains at least one of them (case-insensitively).
    hints: tuple[str, ...]
    replace: Replacement
    #: Run only on the lines that carry a hint (the pattern must never match across a line break).
    per_line: bool = False


def scrub_with(rules: Sequence[Rule], text: str) -> str:
    """``text`` with every match of every rule replaced, running each rule only where it can match."""
    if not text:
        return text
    if not text.isascii():
        return scrub_everywhere(rules, text)
    low = text.lower()
    present: dict[str, bool] = {}
    for rule in rules:
        if not _any_hint(rule.hints, low, present):
            continue
        if rule.per_line:
            text = _per_line(rule, text)
        else:
            text = rule.pattern.sub(rule.replace, text)
    return text


def scrub_everywhere(rules: Sequence[Rule], text: str) -> str:
    """The definition ``scrub_with`` keeps: every rule over the whole text, in order, no shortcuts."""
    for rule in rules:
        text = rule.pattern.sub(rule.replace, text)
    return text


def _any_hint(hints: tuple[str, ...], low: str, present: dict[str, bool]) -> bool:
    """Whether one of ``hints`` is in ``low``; each distinct hint is looked for once per text.

    ``low`` is the text before any replacement: a replacement only removes text and adds
    ``<redacted ...>`` labels, which contain no hint, so a hint missing from ``low`` is missing
    from the replaced text too (a hint that was removed only costs one pattern run that finds nothing).
    """
    for hint in hints:
        found = present.get(hint)
        if found is None:
            found = present[hint] = hint in low
        if found:
            return True
    return False


def _per_line(rule: Rule, text: str) -> str:
    lines = text.split("\n")
    changed = False
    for i, line in enumerate(lines):
        low = line.lower()
        if any(hint in low for hint in rule.hints):
            new = rule.pattern.sub(rule.replace, line)
            if new is not line and new != line:
                lines[i] = new
                changed = True
    return "\n".join(lines) if changed else text


def scrub_json_with(rules: Sequence[Rule], data: Any, sensitive_key: Callable[[str], bool]) -> Any:
    """A JSON-shaped value with credentials scrubbed from every key and string in it.

    Dumped with one value per line, so per-line rules run only on the values that need them and the
    key of each value sits on its line (``"password": "..."``). When a replacement happened to cut
    through JSON syntax (an escaped quote inside a match), each string is scrubbed on its own instead,
    and values under keys that name a secret are replaced whole.
    """
    dumped = json.dumps(data, indent=0, default=str)
    scrubbed = scrub_with(rules, dumped)
    if scrubbed == dumped:
        return data
    try:
        return json.loads(scrubbed)
    except ValueError:
        return _walk(rules, data, sensitive_key)


def _walk(rules: Sequence[Rule], value: Any, sensitive_key: Callable[[str], bool]) -> Any:
    if isinstance(value, dict):
        return {
            scrub_with(rules, str(k)): (
                REDACTED
                if isinstance(v, str) and v and sensitive_key(str(k))
                else _walk(rules, v, sensitive_key)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_walk(rules, v, sensitive_key) for v in value]
    if isinstance(value, str):
        return scrub_with(rules, value)
    return value
