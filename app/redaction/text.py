"""The text scrub: every rule that knows a credential format, run over any text that leaves the server.

A ``Rule`` is a pattern, what replaces its match, and the literals ("hints") of which every match
contains one. Every tool result, resource, prompt, error line, audit line and log line passes through
``RuleSet.scrub``, so it must be cheap on the common case of text with nothing secret in it. One
Aho-Corasick pass (``ahocorasick_rs``, the multi-literal search gitleaks also gates its rules with)
finds which hints occur at all, so the cost of that check does not grow with the number of rules; a
rule's pattern then runs only when one of its hints occurred, and rules marked ``per_line`` (the
costly ones) only on the lines that carry one of their hints. No per-line pattern can match across a
line break, so the result is exactly that of running every rule over the whole text in order
(``RuleSet.everywhere``, which the unit tests hold it to). Non-ASCII text skips the shortcuts, because
case-insensitive matching folds some non-ASCII letters onto ASCII ones.

``scrub_json`` scrubs a JSON-shaped value (structured content, audit arguments) as one dumped text with
one value per line, and falls back to scrubbing each string on its own in the rare case where a
replacement cut through JSON syntax.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ahocorasick_rs import AhoCorasick

REDACTED = "<redacted>"

Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True, slots=True)
class Rule:
    """One credential format: what to find, what to put instead, and the literals that gate it."""

    name: str
    pattern: re.Pattern[str]
    #: Every match contains one of these: lower-case, compared case-insensitively; as written when ``cased``.
    hints: tuple[str, ...]
    replace: Replacement
    #: Run only on the lines that carry a hint (the pattern must never match across a line break).
    per_line: bool = False
    #: The hints are compared with the text as it is (a case-sensitive pattern with a cased prefix).
    cased: bool = False


class _Hints:
    """One automaton over the hints of several rules: which of them occur in a text, and where."""

    def __init__(self, hints: Iterable[str]) -> None:
        self.words = sorted(set(hints))
        self.automaton = AhoCorasick(self.words) if self.words else None

    def ids(self, hints: Iterable[str]) -> frozenset[int]:
        index = {w: i for i, w in enumerate(self.words)}
        return frozenset(index[h] for h in hints)

    def found(self, text: str) -> list[tuple[int, int, int]]:
        if self.automaton is None:
            return []
        return self.automaton.find_matches_as_indexes(text, overlapping=True)


class RuleSet:
    """Rules in the order they run, with what lets each run only where it can match."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        for rule in self.rules:
            if not rule.hints or (not rule.cased and any(h != h.lower() for h in rule.hints)):
                raise ValueError(f"rule {rule.name}: hints must be non-empty (and lower-case unless cased)")
        self._lower = _Hints(h for r in self.rules if not r.cased for h in r.hints)
        self._cased = _Hints(h for r in self.rules if r.cased for h in r.hints)
        self._gates = [(self._cased if r.cased else self._lower).ids(r.hints) for r in self.rules]
        self._lines = {i: _Hints(r.hints) for i, r in enumerate(self.rules) if r.per_line}

    def scrub(self, text: str) -> str:
        """``text`` with every match of every rule replaced, running each rule only where it can match.

        The hints are looked for in the text before any replacement: a replacement only removes text
        and adds ``<redacted ...>`` labels, which no rule matches (a test checks), so a rule whose hints
        were missing before finds nothing afterwards either; a hint a replacement removed only costs one
        run that finds nothing.
        """
        if not text:
            return text
        if not text.isascii():
            return self.everywhere(text)
        lower = {i for i, _, _ in self._lower.found(text.lower())}
        cased = {i for i, _, _ in self._cased.found(text)}
        if not lower and not cased:
            return text
        for i, rule in enumerate(self.rules):
            if self._gates[i].isdisjoint(cased if rule.cased else lower):
                continue
            text = self._per_line(i, rule, text) if rule.per_line else rule.pattern.sub(rule.replace, text)
        return text

    def everywhere(self, text: str) -> str:
        """The definition ``scrub`` keeps: every rule over the whole text, in order, no shortcuts."""
        for rule in self.rules:
            text = rule.pattern.sub(rule.replace, text)
        return text

    def _per_line(self, i: int, rule: Rule, text: str) -> str:
        """Run ``rule`` on each line that carries one of its hints; the others are not looked at."""
        hits = self._lines[i].found(text if rule.cased else text.lower())
        starts: dict[int, int] = {}
        for _, at, _end in hits:
            start = text.rfind("\n", 0, at) + 1
            if start not in starts:
                end = text.find("\n", at)
                starts[start] = len(text) if end < 0 else end
        if not starts:
            return text
        pieces: list[str] = []
        done = 0
        for start in sorted(starts):
            end = starts[start]
            pieces.append(text[done:start])
            pieces.append(rule.pattern.sub(rule.replace, text[start:end]))
            done = end
        pieces.append(text[done:])
        return "".join(pieces)

    def scrub_json(self, data: Any, sensitive_key: Callable[[str], bool]) -> Any:
        """A JSON-shaped value with credentials scrubbed from every key and string in it.

        Dumped with one member per line, so per-line rules run only on the values that need them and the
        key of each value sits on its line (``"password":"..."``). When a replacement happened to cut
        through JSON syntax (a match running on past a string's end), each string is scrubbed on its
        own instead, and strings under keys that name a secret are replaced whole.
        """
        # Compact (the C encoder; ``indent`` would use the pure-Python one, several times slower), then one member per
        # line: inside a JSON string a quote is always escaped, so ``,"`` only ever starts the next member.
        dumped = json.dumps(data, separators=(",", ":"), default=str).replace(',"', ',\n"')
        scrubbed = self.scrub(dumped)
        if scrubbed == dumped:
            return data
        try:
            return json.loads(scrubbed)
        except ValueError:
            return self._walk(data, sensitive_key)

    def _walk(self, value: Any, sensitive_key: Callable[[str], bool]) -> Any:
        if isinstance(value, dict):
            return {
                self.scrub(str(k)): (
                    REDACTED if isinstance(v, str) and v and sensitive_key(str(k)) else self._walk(v, sensitive_key)
                )
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._walk(v, sensitive_key) for v in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.scrub(str(value))
