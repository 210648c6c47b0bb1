"""Pure rendering of what tools return: compact tables, YAML objects, redaction and size caps.

Nothing here does I/O. Tables come from the API server's own Table rendering (the columns
``kubectl get`` shows); single objects become YAML without ``managedFields``; Secret values never
leave in clear; every text is capped, and the cap is always announced with the way to get the rest.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
Cell = str | int | float | bool | None


SENSITIVE_NAME = re.compile(r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)", re.I)
REDACTED = "<redacted>"

# Things that are secrets wherever they appear in text: JWTs, PEM private keys, bearer tokens, cloud keys,
# service-account tokens and "password=..." style assignments.
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    # (pattern, replacement, literals of which every match contains at least one: the pattern runs only then;
    # lower-case literals are looked for in the lower-cased text)
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)"),
        "<redacted private key>",
        ("-----BEGIN ",),
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "<redacted jwt>", ("eyJ",)),
    (
        re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{16,}"),
        r"\1 <redacted>",
        ("bearer",),  # case-insensitive pattern: looked for in the lower-cased text
    ),
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), "<redacted access key>", ("AKIA", "ASIA")),
    (
        re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})\b"),
        "<redacted token>",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "sk-"),
    ),
)
_ASSIGNMENT = re.compile(
    r"(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)[A-Za-z0-9_.-]*)"
    r"([ \t]*[=:][ \t]*|\"[ \t]*:[ \t]*\")(?!<redacted)([^\s\",;&]{3,})(?![^\s]*:)"
)
# Lower-case literals of which every match of _ASSIGNMENT contains one (its key alternatives).
_ASSIGNMENT_HINTS = (
    "passw",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "access-key",
)
# Keys that name or point at a secret rather than hold one (secretName, tokenPath, secretKeyRef, ...).
_REFERENCE_KEY = re.compile(r"(?i)(name|ref|path|file|namespace|seconds|expiration|audience|type)$")


def _assignment(match: re.Match[str]) -> str:
    if _REFERENCE_KEY.search(match.group(1)):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def scrub_text(text: str) -> str:
    """Replace anything that looks like a credential in free text (logs, messages, YAML).

    Every tool result passes through here, so it must be cheap on the common case of text with nothing
    secret-looking in it: each pattern runs only when a literal its matches cannot do without is present,
    and the assignment pattern (the costly one) only on the lines that name a secret-looking key. Matches
    never span lines, so the result is the same as running every pattern over the whole text. Non-ASCII
    text skips the shortcuts (case-insensitive matching folds some non-ASCII letters onto ASCII ones).
    """
    ascii_only = text.isascii()
    for pattern, replacement, hints in _SECRET_PATTERNS:
        haystack = text.lower() if pattern.flags & re.IGNORECASE else text
        if not ascii_only or _has_hint(haystack, hints):
            text = pattern.sub(replacement, text)
    if not ascii_only:
        return _ASSIGNMENT.sub(_assignment, text)
    if not _has_hint(text.lower(), _ASSIGNMENT_HINTS):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _has_hint(line.lower(), _ASSIGNMENT_HINTS):
            lines[i] = _ASSIGNMENT.sub(_assignment, line)
    return "\n".join(lines)


def _has_hint(text: str, hints: tuple[str, ...]) -> bool:
    return any(hint in text for hint in hints)


def redact_object(obj: dict[str, Any], *, reveal_secrets: bool = False) -> dict[str, Any]:
    """A copy fit to show: no managedFields, no last-applied copy, no Secret values, no secret-looking env."""
    out = copy.deepcopy(obj)
    if reveal_secrets:
        meta = out.get("metadata")
        if isinstance(meta, dict):
            meta.pop("managedFields", None)
        return out
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            annotations[LAST_APPLIED] = "<omitted: copy of the applied object>"
    if out.get("kind") == "Secret":
        for key in ("data", "stringData"):
            values = out.get(key)
            if isinstance(values, dict):
                out[key] = {name: f"<redacted {len(str(v))} chars>" for name, v in values.items()}
    _redact_env(out)
    return out


def _redact_env(node: Any) -> None:
    """Literal env values whose name looks sensitive, anywhere in a pod template."""
    if isinstance(node, dict):
        env = node.get("env")
        if isinstance(env, list):
            for var in env:
                if isinstance(var, dict) and "value" in var and SENSITIVE_NAME.search(str(var.get("name", ""))):
                    var["value"] = REDACTED
        for value in node.values():
            _redact_env(value)
    elif isinstance(node, list):
        for item in node:
            _redact_env(item)


# libyaml's emitter when PyYAML has it (same text, about 4x faster than the pure-Python one).
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def to_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)


@dataclass(frozen=True)
class Table:
    """A Table response reduced to what a reader needs."""

    columns: list[str]
    rows: list[list[Cell]]
    continue_token: str | None = None
    remaining: int | None = None


def table_from_api(payload: dict[str, Any], *, with_namespace: bool, wide: bool = False) -> Table:
    """Reduce a meta.k8s.io Table to priority-0 columns (all columns when ``wide``)."""
    definitions = payload.get("columnDefinitions") or []
    keep = [i for i, d in enumerate(definitions) if wide or int(d.get("priority", 0)) == 0]
    columns = [str(definitions[i]["name"]).upper() for i in keep]
    rows: list[list[Cell]] = []
    for row in payload.get("rows") or []:
        cells = row.get("cells") or []
        values: list[Cell] = [cells[i] if i < len(cells) else None for i in keep]
        if with_namespace:
            meta = (row.get("object") or {}).get("metadata") or {}
            values.insert(0, meta.get("namespace", ""))
        rows.append(values)
    if with_namespace:
        columns.insert(0, "NAMESPACE")
    meta = payload.get("metadata") or {}
    return Table(columns, rows, meta.get("continue") or None, meta.get("remainingItemCount"))


def _cell_text(value: Cell) -> str:
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value)
    return text if text else "<none>"


@dataclass
class Rendered:
    """Text for the model plus the rows it shows (structured content mirrors the text)."""

    text: str
    rows: list[list[Cell]] = field(default_factory=list)
    truncated: bool = False


def render_table(table: Table, *, noun: str, where: str, max_chars: int) -> Rendered:
    """kubectl-like aligned columns, capped at ``max_chars`` on a row boundary."""
    if not table.rows:
        return Rendered(f"No {noun} found{where}.")
    texts = [[_cell_text(c) for c in row] for row in table.rows]
    widths = [len(h) for h in table.columns]
    for row in texts:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "   ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    lines = [line(table.columns)]
    used = len(lines[0]) + 1
    shown = 0
    for row in texts:
        rendered = line(row)
        if used + len(rendered) + 1 > max_chars:
            break
        lines.append(rendered)
        used += len(rendered) + 1
        shown += 1
    notes = _list_notes(table, shown=shown, noun=noun)
    return Rendered("\n".join(lines + notes), table.rows[:shown], truncated=shown < len(table.rows))


def _list_notes(table: Table, *, shown: int, noun: str) -> list[str]:
    notes: list[str] = []
    hidden = len(table.rows) - shown
    if hidden:
        notes.append(
            f"[output capped: {hidden} more {noun} fetched but not shown; narrow with labelSelector/"
            f"fieldSelector or pass a smaller limit]"
        )
    if table.continue_token:
        more = f"{table.remaining} more" if table.remaining else "more"
        notes.append(f'[{more} {noun} on the server: call again with continue="{table.continue_token}"]')
    return notes


def cap_text(text: str, max_chars: int, *, hint: str) -> tuple[str, bool]:
    """Cut ``text`` at a line boundary within ``max_chars`` and say what was left out."""
    if len(text) <= max_chars:
        return text, False
    cut = text.rfind("\n", 0, max_chars)
    cut = cut if cut > 0 else max_chars
    omitted = len(text) - cut
    return f"{text[:cut]}\n[output capped: {omitted} more characters not shown; {hint}]", True
