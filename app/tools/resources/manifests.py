"""Pure parsing of the manifests a model sends to ``resources_create_or_update``.

YAML or JSON, one or many documents (``---``), ``kind: List`` expanded. Every document is checked
before anything is sent, so a typo in document 3 fails the whole call up front, with its document
number and line. Secret values found in the input are collected so that no error line can echo them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from dataclasses import dataclass
from typing import Any

import yaml

from app.errors import ToolInputError

MAX_DOCUMENTS = 200


@dataclass(frozen=True)
class Manifest:
    """One object to apply, with where it came from in the input (1-based)."""

    index: int
    line: int
    obj: dict[str, Any]

    @property
    def api_version(self) -> str:
        return str(self.obj["apiVersion"])

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        ns = self.obj["metadata"].get("namespace")
        return str(ns) if ns else None

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def where(self) -> str:
        return f"document {self.index}, line {self.line}"


def parse_manifests(text: str) -> list[Manifest]:
    """All objects in ``text``; raises ``ToolInputError`` naming the first bad document and line."""
    if not text.strip():
        raise ToolInputError("resource is empty: pass one or more YAML or JSON objects")
    raw: list[tuple[int, Any]] = []
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            raw.append((node.start_mark.line + 1, loader.construct_document(node)))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = e.problem or e.context or "malformed"
        raise ToolInputError(f"resource is not valid YAML or JSON: {where}: {problem}") from None
    except yaml.YAMLError as e:
        raise ToolInputError(f"resource is not valid YAML or JSON: {type(e).__name__}") from None
    finally:
        loader.dispose()

    manifests: list[Manifest] = []
    for line, data in raw:
        for obj in _expand(data):
            manifests.append(_check(len(manifests) + 1, line, obj))
            if len(manifests) > MAX_DOCUMENTS:
                raise ToolInputError(f"resource holds more than {MAX_DOCUMENTS} objects; apply it in parts")
    if not manifests:
        raise ToolInputError("resource contains no objects (only empty documents)")
    return manifests


def _expand(data: Any) -> list[Any]:
    if data is None:
        return []
    if isinstance(data, list):
        return [item for element in data for item in _expand(element)]
    if isinstance(data, dict) and str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
        return [item for element in data["items"] for item in _expand(element)]
    return [data]


def _check(index: int, line: int, obj: Any) -> Manifest:
    where = f"document {index}, line {line}"
    if not isinstance(obj, dict):
        raise ToolInputError(f"{where}: expected a Kubernetes object (a mapping), got {_type_name(obj)}")
    for key in ("apiVersion", "kind"):
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ToolInputError(f"{where}: missing {key}")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        raise ToolInputError(f"{where}: {obj['kind']} has no metadata")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        hint = " (generateName cannot be applied; give a name)" if metadata.get("generateName") else ""
        raise ToolInputError(f"{where}: {obj['kind']} has no metadata.name{hint}")
    ns = metadata.get("namespace")
    if ns is not None and not isinstance(ns, str):
        raise ToolInputError(f"{where}: metadata.namespace must be a string")
    return Manifest(index, line, obj)


def _type_name(value: Any) -> str:
    return {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list"}.get(
        type(value), type(value).__name__
    )


def secret_values(manifests: list[Manifest]) -> set[str]:
    """Every Secret value in the input (as given and base64-decoded), to keep out of any message."""
    values: set[str] = set()
    for m in manifests:
        if m.kind != "Secret":
            continue
        for key in ("data", "stringData"):
            section = m.obj.get(key)
            if not isinstance(section, dict):
                continue
            for value in section.values():
                text = str(value)
                values.add(text)
                if key == "data":
                    with contextlib.suppress(binascii.Error, ValueError):
                        values.add(base64.b64decode(text, validate=True).decode("utf-8"))
    return {v for v in values if len(v) >= 3}


def scrub(message: str, values: set[str]) -> str:
    """``message`` with every secret value replaced; longest first so overlaps are covered."""
    for value in sorted(values, key=len, reverse=True):
        message = message.replace(value, "<redacted>")
    return message
