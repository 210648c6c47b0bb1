"""Field documentation from the cluster's OpenAPI v3 schemas, shaped like ``kubectl explain``.

Pure: given one group/version's OpenAPI document, find the kind's schema, walk a dotted field path
through ``$ref``/``allOf``/array items/maps, and render the field with its type, its description
and its child fields. Child descriptions are cut to their first sentence to keep the answer small;
explaining a child field gives its full text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.errors import NotFound, ToolInputError

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
