"""Field documentation from OpenAPI v3 schemas, shaped like ``kubectl explain``, and a keyword search over it.

Pure: given one group/version's OpenAPI document (the cluster's, or the one rebuilt from the
kubernetes client when no cluster answers), find the kind's schema, walk a dotted field path
through ``$ref``/``allOf``/array items/maps, and render the field with its type, its description
and its child fields. Child descriptions are cut to their first sentence to keep the answer small;
explaining a child field gives its full text. ``Search`` finds kinds and field paths by keyword.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from app.errors import NotFound, ToolInputError
from app.kinds import plural_of

_REF_PREFIX = "#/components/schemas/"
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(\s|$)", re.S)


@dataclass(frozen=True)
class FieldDoc:
    name: str
    type: str
    required: bool
    description: str
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Explanation:
    api_version: str
    kind: str
    path: str | None
    type: str
    description: str
    fields: list[FieldDoc]
    enum: tuple[str, ...] = ()


def _schemas(doc: dict[str, Any]) -> dict[str, Any]:
    return (doc.get("components") or {}).get("schemas") or {}


def find_kind(doc: dict[str, Any], group: str, version: str, kind: str) -> dict[str, Any]:
    """The schema whose x-kubernetes-group-version-kind names this kind (case-insensitive kind)."""
    for schema in _schemas(doc).values():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            if (
                gvk.get("group", "") == group
                and gvk.get("version") == version
                and str(gvk.get("kind", "")).lower() == kind.lower()
            ):
                return dict(schema)
    gv = f"{group}/{version}" if group else version
    raise NotFound(f"no schema for kind {kind!r} in the OpenAPI document of {gv}")


def _deref(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and single-entry ``allOf`` wrappers; the outer description wins."""
    seen = 0
    merged = dict(schema)
    while seen < 20:
        seen += 1
        ref = merged.get("$ref")
        if ref is None and len(merged.get("allOf") or []) == 1:
            ref = merged["allOf"][0].get("$ref")
        if not ref or not str(ref).startswith(_REF_PREFIX):
            return merged
        target = dict(_schemas(doc).get(str(ref)[len(_REF_PREFIX) :]) or {})
        outer = {k: v for k, v in merged.items() if k not in ("$ref", "allOf")}
        target.update({k: v for k, v in outer.items() if k == "description"})
        merged = target
    return merged


def type_name(doc: dict[str, Any], schema: dict[str, Any]) -> str:
    """kubectl explain's type words: string, integer, []Container, map[string]string, Object, ..."""
    ref = schema.get("$ref") or ((schema.get("allOf") or [{}])[0].get("$ref") if schema.get("allOf") else None)
    if ref:
        target = _schemas(doc).get(str(ref)[len(_REF_PREFIX) :]) or {}
        if target.get("format") == "int-or-string":
            return "IntOrString"
        return str(ref).rsplit(".", 1)[-1]
    if schema.get("format") == "int-or-string" or schema.get("x-kubernetes-int-or-string"):
        return "IntOrString"
    kind = schema.get("type")
    if kind == "array":
        return "[]" + type_name(doc, schema.get("items") or {})
    if kind == "object" or (kind is None and ("properties" in schema or "additionalProperties" in schema)):
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not schema.get("properties"):
            return "map[string]" + type_name(doc, extra)
        return "Object"
    if kind:
        return str(kind)
    return "Object" if schema.get("x-kubernetes-preserve-unknown-fields") else "<unknown>"


def _children(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The object whose properties a path segment indexes: through arrays and maps of objects."""
    current = _deref(doc, schema)
    for _ in range(5):
        if current.get("properties"):
            return current
        if current.get("type") == "array" and current.get("items"):
            current = _deref(doc, current["items"])
        elif isinstance(current.get("additionalProperties"), dict):
            current = _deref(doc, current["additionalProperties"])
        else:
            break
    return current


def first_sentence(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    match = _FIRST_SENTENCE.match(text)
    short = match.group(1) if match else text
    return short if len(short) <= limit else short[: limit - 1].rstrip() + "…"


def explain(doc: dict[str, Any], *, group: str, version: str, kind: str, path: str | None) -> Explanation:
    """The kind (or the field at ``path``, dotted, an optional leading kind name allowed)."""
    root = find_kind(doc, group, version, kind)
    segments = [s for s in (path or "").strip().strip(".").split(".") if s]
    if segments and segments[0].lower() == kind.lower():
        segments = segments[1:]
    schema: dict[str, Any] = root
    walked: list[str] = []
    for segment in segments:
        holder = _children(doc, schema)
        props = holder.get("properties") or {}
        if segment not in props:
            where = ".".join(walked) or kind
            known = ", ".join(sorted(props)) or "none (not an object)"
            raise ToolInputError(f"field {segment!r} does not exist in {where}; its fields: {known}")
        schema = props[segment]
        walked.append(segment)
    shown_type = type_name(doc, schema) if segments else kind
    resolved = _children(doc, schema)
    required = set(resolved.get("required") or [])
    fields = [
        FieldDoc(
            name,
            type_name(doc, child),
            name in required,
            str(child.get("description") or ""),
            tuple(str(v) for v in child.get("enum") or ()),
        )
        for name, child in sorted((resolved.get("properties") or {}).items())
    ]
    description = str(schema.get("description") or _deref(doc, schema).get("description") or "")
    api_version = f"{group}/{version}" if group else version
    enum = tuple(str(v) for v in schema.get("enum") or ()) if segments else ()
    return Explanation(api_version, kind, ".".join(walked) or None, shown_type, description, fields, enum)


def render(ex: Explanation) -> str:
    """Text laid out as ``kubectl explain`` prints it, child descriptions shortened."""
    group, _, version = ex.api_version.rpartition("/")
    lines = [
        f"GROUP:      {group}" if group else "GROUP:      (core)",
        f"KIND:       {ex.kind}",
        f"VERSION:    {version}",
    ]
    lines.append("")
    if ex.path:
        lines.append(f"FIELD: {ex.path.rsplit('.', 1)[-1]} <{ex.type}>")
        if ex.enum:
            lines.append(f"ENUM: {', '.join(ex.enum)}")
        lines.append("")
    lines.append("DESCRIPTION:")
    for paragraph in (ex.description or "<empty>").splitlines():
        lines.append(f"    {paragraph}".rstrip())
    if ex.fields:
        lines += ["", "FIELDS:"]
        shortened = False
        for f in ex.fields:
            enum = f"\n    enum: {', '.join(f.enum)}" if f.enum else ""
            lines.append(f"  {f.name}\t<{f.type}>{' -required-' if f.required else ''}{enum}")
            short = first_sentence(f.description)
            shortened = shortened or short != " ".join(f.description.split())
            if short:
                lines.append(f"    {short}")
        if shortened:
            prefix = f"{ex.path}." if ex.path else ""
            lines += ["", f"[descriptions shortened to one sentence; pass field='{prefix}<name>' for the full text]"]
    return "\n".join(lines)


# -- search: keyword -> kinds and field paths -----------------------------------------------------

#: Schemas that carry a group-version-kind but are not kinds anyone writes.
_NOT_KINDS = frozenset({"Status", "WatchEvent", "DeleteOptions", "APIResourceList", "APIGroup", "APIVersions"})


@dataclass(frozen=True)
class TopKind:
    group: str
    version: str
    kind: str
    schema: dict[str, Any]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def top_kinds(doc: dict[str, Any]) -> list[TopKind]:
    """The kinds a document defines (not lists or meta types), core group first, then by group and kind."""
    found = []
    for schema in _schemas(doc).values():
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if len(gvks) != 1:
            continue
        kind = str(gvks[0].get("kind", ""))
        if kind.endswith("List") or kind in _NOT_KINDS or "metadata" not in (schema.get("properties") or {}):
            continue
        found.append(TopKind(str(gvks[0].get("group", "")), str(gvks[0].get("version", "")), kind, schema))
    return sorted(found, key=lambda k: (k.group != "", k.group, k.kind, k.version))


@dataclass
class Match:
    api_version: str
    kind: str
    path: str | None
    """None when the kind itself matched."""
    type: str
    description: str
    score: int
    depth: int
    kinds: set[str]
    """Every kind with this same field (the same property of the same type), this one included."""
    order: int = 0


def _first_ref(schema: dict[str, Any]) -> str | None:
    """The type a property holds: its $ref, or its items' or map values' (through single allOf wrappers)."""
    for _ in range(4):
        ref = schema.get("$ref") or ((schema.get("allOf") or [{}])[0].get("$ref") if schema.get("allOf") else None)
        if ref:
            return str(ref)
        nested = schema.get("items") or schema.get("additionalProperties")
        if not isinstance(nested, dict):
            return None
        schema = nested
    return None


class Search:
    """A keyword search over one or more OpenAPI documents: every word must appear in the kind's name,
    the field's name, or the field's path and description. Each kind is walked breadth-first, each
    type once per kind, so the shortest path to a field is the one shown; a field that many kinds
    share (same property of the same type, e.g. metadata.labels) is listed once, with how many
    other kinds have it."""

    def __init__(self, keyword: str, *, kind: str | None = None, max_depth: int = 10) -> None:
        self.words = keyword.lower().split()
        self.kind = kind.lower() if kind else None
        self.max_depth = max_depth
        self._found: dict[tuple[str, str], Match] = {}

    def visit(self, doc: dict[str, Any]) -> None:
        for top in top_kinds(doc):
            if self.kind and self.kind not in (top.kind.lower(), plural_of(top.kind)):
                continue
            self._walk(doc, top)

    def _more_than(self, prefix: str, text: str) -> bool:
        """Every word is in the text, and not all of them already in the parent's path (whose match is shown)."""
        lower = text.lower()
        return all(w in lower for w in self.words) and not all(w in prefix.lower() for w in self.words)

    def _add(self, key: tuple[str, str], match: Match) -> None:
        known = self._found.get(key)
        if known is None:
            match.order = len(self._found)
            self._found[key] = match
        else:
            known.kinds |= match.kinds

    def _walk(self, doc: dict[str, Any], top: TopKind) -> None:
        label = f"{top.kind}.{top.api_version}"
        if all(w in top.kind.lower() for w in self.words):
            description = first_sentence(str(top.schema.get("description") or ""), 120)
            self._add(("kind", label), Match(top.api_version, top.kind, None, top.kind, description, 0, 0, {label}))
        queue: deque[tuple[dict[str, Any], str | None, str, int]] = deque([(top.schema, None, "", 1)])
        seen: set[str] = set()
        while queue:
            schema, owner, prefix, depth = queue.popleft()
            for name, child in sorted((_children(doc, schema).get("properties") or {}).items()):
                path = prefix + name
                description = str(child.get("description") or _deref(doc, child).get("description") or "")
                score = 1 if all(w in name.lower() for w in self.words) else None
                if score is None and self._more_than(prefix, f"{path} {description}"):
                    score = 2
                if score is not None:
                    key = (owner or f"{label}:{prefix}", name)
                    short = first_sentence(description, 120)
                    match = Match(top.api_version, top.kind, path, type_name(doc, child), short, score, depth, {label})
                    self._add(key, match)
                ref = _first_ref(child)
                if (
                    depth < self.max_depth
                    and (ref is None or ref not in seen)
                    and _children(doc, child).get("properties")
                ):
                    if ref:
                        seen.add(ref)
                    queue.append((child, ref, path + ".", depth + 1))

    def results(self) -> list[Match]:
        """Kinds first, then fields by name, then by description; shallow before deep; core kinds first."""
        return sorted(self._found.values(), key=lambda m: (m.score, m.depth, m.order))
