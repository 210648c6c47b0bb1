"""Pure rendering of what tools return: compact tables, YAML objects, manifests, diffs and size caps.

Nothing here does I/O. Tables come from the API server's own Table rendering (the columns
``kubectl get`` shows); single objects become YAML without ``managedFields`` (``app.redaction`` decides
what is hidden); every text is capped, and the cap is always announced with the way to get the rest.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from app.redaction import redact_object

Cell = str | int | float | bool | None


# libyaml's emitter when PyYAML has it (same text, about 4x faster than the pure-Python one).
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALARS: dict[type, tuple[str, Any]] = {
    bool: ("tag:yaml.org,2002:bool", lambda v: "true" if v else "false"),
    int: ("tag:yaml.org,2002:int", str),
    type(None): ("tag:yaml.org,2002:null", lambda v: "null"),
}
#: The tag the resolver gives a plain scalar, by its value.
_RESOLVED: dict[str, str] = {}


class _SharedNode(Exception):
    """The same dict or list twice in one value: PyYAML's own path writes it once with an anchor."""


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """PyYAML's safe dumper with a direct path for JSON-shaped values: the same node graph (so the same
    text), built without the generic dispatch and alias bookkeeping, and with the resolver's answers
    remembered. Anything else (a float, a str subclass, a shared container) takes PyYAML's own path."""

    def represent(self, data: Any) -> None:
        try:
            node = self._node(data, set())
        except _SharedNode:
            super().represent(data)
            return
        self.serialize(node)

    def _node(self, data: Any, seen: set[int]) -> yaml.Node:
        kind = type(data)
        if kind is str:
            return yaml.ScalarNode(_STR, data, style="|" if "\n" in data else None)
        if kind is dict:
            if id(data) in seen:
                raise _SharedNode
            seen.add(id(data))
            pairs = [(self._node(k, seen), self._node(v, seen)) for k, v in data.items()]
            return yaml.MappingNode(_MAP, pairs, flow_style=False)
        if kind is list:
            if id(data) in seen:
                raise _SharedNode
            seen.add(id(data))
            return yaml.SequenceNode(_SEQ, [self._node(v, seen) for v in data], flow_style=False)
        scalar = _SCALARS.get(kind)
        if scalar is not None:
            return yaml.ScalarNode(scalar[0], scalar[1](data))
        node: yaml.Node = self.represent_data(data)
        return node

    # The emitter asks the resolver about every node; with no path resolvers (the safe dumper has none)
    # a collection's tag and a quoted scalar's never depend on the value, and a plain scalar's tag depends
    # on its value alone: remembered.
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if self.yaml_path_resolvers or kind is not yaml.ScalarNode or len(value) > 64:
            return super().resolve(kind, value, implicit)
        if not implicit[0]:
            return self.DEFAULT_SCALAR_TAG
        tag = _RESOLVED.get(value)
        if tag is None:
            if len(_RESOLVED) > 50_000:
                _RESOLVED.clear()
            tag = _RESOLVED[value] = super().resolve(kind, value, implicit)
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        if self.yaml_path_resolvers:
            super().descend_resolver(current_node, current_index)

    def ascend_resolver(self) -> None:
        if self.yaml_path_resolvers:
            super().ascend_resolver()


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar(_STR, data, style=style)


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


def render_table(
    table: Table, *, noun: str, where: str, max_chars: int, narrow: str = "labelSelector/fieldSelector"
) -> Rendered:
    """kubectl-like aligned columns, capped at ``max_chars`` on a row boundary; ``narrow`` names the filters."""
    if not table.rows:
        # A filtered page can be empty and still have more after it: say so.
        more = f"\n{_continue_note(table, noun)}" if table.continue_token else ""
        return Rendered(f"No {noun} found{where}.{more}")
    texts = [[_cell_text(c) for c in row] for row in table.rows]
    widths = [len(h) for h in table.columns]
    for row in texts:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        # Two spaces between columns: runs of spaces cost one token whatever their length, so a third
        # space adds ~7% characters (and eats into the cap) for no token saved (bench/output_size.py).
        return "  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    lines = [line(table.columns)] + [line(row) for row in texts]
    closing = [_continue_note(table, noun)] if table.continue_token else []
    budget = max_chars - sum(len(note) + 1 for note in closing)
    if sum(len(text) + 1 for text in lines) - 1 > budget:
        # The closing notes count against the cap too: reserve the longest the "capped" note can be.
        budget -= len(_hidden_note(len(texts), noun=noun, narrow=narrow)) + 1
        used = len(lines[0])
        shown = 0
        for text in lines[1:]:
            used += len(text) + 1
            if used > budget:
                break
            shown += 1
        lines = lines[: shown + 1]
        closing.insert(0, _hidden_note(len(texts) - shown, noun=noun, narrow=narrow))
    shown = len(lines) - 1
    return Rendered("\n".join(lines + closing), table.rows[:shown], truncated=shown < len(table.rows))


def _hidden_note(hidden: int, *, noun: str, narrow: str) -> str:
    return f"[output capped: {hidden} more {noun} fetched but not shown; narrow with {narrow} or pass a smaller limit]"


def _continue_note(table: Table, noun: str) -> str:
    more = f"{table.remaining} more" if table.remaining else "more"
    return f'[{more} {noun} on the server: call again with continue="{table.continue_token}"]'


def cap_text(text: str, max_chars: int, *, hint: str) -> tuple[str, bool]:
    """Cut ``text`` at a line boundary so that it and the note saying what was left out fit ``max_chars``."""
    if len(text) <= max_chars:
        return text, False

    def note(omitted: int) -> str:
        return f"\n[output capped: {omitted} more characters not shown; {hint}]"

    room = max(max_chars - len(note(len(text))), 1)
    cut = text.rfind("\n", 0, room)
    cut = cut if cut > 0 else room
    return text[:cut] + note(len(text) - cut), True


_DOC_SPLIT = re.compile(r"^---[ \t]*$", re.M)


def manifest_documents(manifest: str) -> list[tuple[str, dict[str, Any] | None]]:
    """Split a multi-document manifest into (text, parsed object or None) pairs, skipping empty ones."""
    docs: list[tuple[str, dict[str, Any] | None]] = []
    for chunk in _DOC_SPLIT.split(manifest):
        if not chunk.strip():
            continue
        try:
            parsed = yaml.safe_load(chunk)
        except yaml.YAMLError:
            parsed = None
        if parsed is None and all(line.lstrip().startswith("#") or not line.strip() for line in chunk.splitlines()):
            continue
        docs.append((chunk.strip("\n"), parsed if isinstance(parsed, dict) else None))
    return docs


def manifest_objects(manifest: str) -> list[str]:
    """Kind/name of every object in a manifest, in order."""
    names = []
    for _, obj in manifest_documents(manifest):
        if obj and obj.get("kind"):
            names.append(f"{obj['kind']}/{(obj.get('metadata') or {}).get('name', '?')}")
    return names


def redact_manifest(manifest: str) -> str:
    """The manifest with Secret values redacted (the ``# Source:`` comments of each document are kept)."""
    out = []
    for text, obj in manifest_documents(manifest):
        if obj and obj.get("kind") == "Secret":
            comments = [line for line in text.splitlines() if line.startswith("#")]
            text = "\n".join([*comments, to_yaml(redact_object(obj)).rstrip("\n")])
        out.append(text)
    return "".join(f"---\n{doc}\n" for doc in out)


#: Metadata the server sets on every write: noise in a "what would change" diff.
DIFF_NOISE = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")


def _diff_view(obj: dict[str, Any] | None) -> dict[str, Any]:
    if not obj:
        return {}
    out = redact_object(obj)
    out.pop("status", None)  # writes to the main resource never change status
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in DIFF_NOISE:
            meta.pop(key, None)
    return out


def object_diff(before: dict[str, Any] | None, after: dict[str, Any], *, name: str, context: int = 2) -> str:
    """A compact unified diff of two versions of an object, over redacted YAML.

    Secret values are never shown; a value that changed is marked as changed (never as its text),
    so a reader sees that a key moved without seeing either side. Empty when nothing changed.
    """
    old, new = _diff_view(before), _diff_view(after)
    if after.get("kind") == "Secret":
        for key in ("data", "stringData"):
            was = (before or {}).get(key) or {}
            now = after.get(key) or {}
            shown = new.get(key)
            if isinstance(shown, dict) and isinstance(was, dict) and isinstance(now, dict):
                for item in shown:
                    if item in was and was[item] != now.get(item):
                        shown[item] = f"<redacted {len(str(now.get(item)))} chars, changed>"
    a = to_yaml(old).splitlines() if old else []
    b = to_yaml(new).splitlines()
    lines = difflib.unified_diff(a, b, fromfile=f"live/{name}", tofile=f"new/{name}", n=context, lineterm="")
    return "\n".join(lines)


def human_age(then: str | None, now: datetime) -> str:
    """kubectl-style age ('45s', '12m', '5h', '3d') of an RFC 3339 timestamp; '<unknown>' if absent."""
    if not then:
        return "<unknown>"
    try:
        stamp = datetime.fromisoformat(then.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    seconds = max(0, int((now - stamp).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def cap_tail(text: str, max_chars: int, *, hint: str) -> tuple[str, bool]:
    """Keep the LAST lines of ``text`` (logs: the newest matter most) so that they and a closing line
    saying how much earlier text was left out fit ``max_chars``."""
    if len(text) <= max_chars:
        return text, False

    def note(lines: int, characters: int) -> str:
        return f"[output capped: {lines} earlier lines ({characters} characters) not shown; {hint}]"

    room = max(max_chars - len(note(text.count("\n") + 1, len(text))) - 1, 1)
    start = text.find("\n", len(text) - room)
    start = start + 1 if start >= 0 else len(text) - room
    omitted = text[:start]
    lines = omitted.count("\n") + (0 if omitted.endswith("\n") or not omitted else 1)
    closing = note(lines, len(omitted))
    return f"{text[start:]}\n{closing}" if not text.endswith("\n") else f"{text[start:]}{closing}", True
