"""Kubernetes field documentation without a cluster, read from the installed ``kubernetes`` client's source.

The official Python client is generated from one Kubernetes release's OpenAPI document (its
``kubernetes.client`` package names it, e.g. "release-1.37"). Every model class keeps that
document's descriptions (class docstring, ``Field(description=...)``), types (``openapi_types``)
and JSON names (``attribute_map``), and the API classes' list operations say which group/version
serves each kind. This module reads those files as text and parses only each class's declarations
with ``ast``: importing the 845 model modules would cost seconds and tens of MB. It rebuilds an
OpenAPI-v3-shaped document, so ``resources_explain`` explains and searches it with the same code
as a cluster's own OpenAPI. Built on first use (about a second), then kept.

What the client does not carry: descriptions on fields whose type is another object (the
referenced type's own description is shown instead), enum values and CRDs.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes

_CLASS = re.compile(r"^class (\w+)\(BaseModel\):\n.*?(?=\n    __properties)", re.S | re.M)
_NAME = re.compile(r"^(.*?)(V\d+(?:(?:alpha|beta)\d+)?)([A-Z]\w*)$")
_API_GV = re.compile(r"resource_path='/(?:apis/([^/'{]+)/([^/'{]+)|api/(v1))/")
_LIST = re.compile(r"'200': \"(\w+)List\"")
_RELEASE = re.compile(r"The version of the OpenAPI document: release-(\d+\.\d+)")
_PRIMITIVES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "bytes": {"type": "string", "format": "byte"},
}
_REF = "#/components/schemas/"


@dataclass(frozen=True)
class Source:
    """Which Kubernetes release the bundled documentation describes, and which client carries it."""

    kubernetes: str
    client: str

    def line(self) -> str:
        return f"Kubernetes {self.kubernetes} field documentation from the kubernetes Python client {self.client}"


def _client_dir() -> Path:
    return Path(kubernetes.__file__).parent / "client"


@functools.cache
def source() -> Source:
    header = (_client_dir() / "__init__.py").read_text(encoding="utf-8")
    match = _RELEASE.search(header)
    return Source(match.group(1) if match else "unknown", str(kubernetes.__version__))


def schema_key(class_name: str) -> str:
    """'V1ObjectMeta' -> 'v1.ObjectMeta', 'CoreV1Event' -> 'core.v1.Event' (the part after the last dot is the type)."""
    match = _NAME.match(class_name)
    if not match:
        return class_name
    prefix, version, kind = match.groups()
    return ".".join(part for part in (prefix.lower(), version.lower(), kind) if part)


def _property(openapi_type: str, annotation: str) -> dict[str, Any]:
    """A property's schema from its ``openapi_types`` entry (``annotation``: names in its Python type)."""
    if openapi_type in _PRIMITIVES:
        return dict(_PRIMITIVES[openapi_type])
    if openapi_type == "object":
        if "StrictInt" in annotation and "StrictStr" in annotation:
            return {"type": "string", "format": "int-or-string"}
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    if openapi_type.startswith("List[") and openapi_type.endswith("]"):
        return {"type": "array", "items": _property(openapi_type[5:-1], annotation)}
    if openapi_type.startswith("Dict[str, ") and openapi_type.endswith("]"):
        return {"type": "object", "additionalProperties": _property(openapi_type[10:-1], annotation)}
    return {"$ref": _REF + schema_key(openapi_type)}


def _class_schema(node: ast.ClassDef) -> dict[str, Any]:
    """One model class's declarations as a schema: description, properties (JSON names), required."""
    doc = (ast.get_docstring(node) or "").split("Attributes:")[0].strip()
    fields: dict[str, tuple[ast.expr, str | None, bool]] = {}
    types: dict[str, str] = {}
    names: dict[str, str] = {}
    for stmt in node.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        attr = stmt.target.id
        if attr in ("openapi_types", "attribute_map") and stmt.value is not None:
            (types if attr == "openapi_types" else names).update(ast.literal_eval(stmt.value))
            continue
        description: str | None = None
        required = stmt.value is None
        if isinstance(stmt.value, ast.Call):
            keywords = {k.arg: k.value for k in stmt.value.keywords}
            text = keywords.get("description")
            description = text.value if isinstance(text, ast.Constant) and isinstance(text.value, str) else None
            required = "default" not in keywords and "default_factory" not in keywords
        fields[attr] = (stmt.annotation, description, required)
    properties: dict[str, Any] = {}
    required_names: list[str] = []
    for attr, json_name in names.items():
        annotation, description, required = fields.get(attr, (ast.Constant(None), None, False))
        openapi_type = types.get(attr, "object")
        names_used = (
            " ".join(n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)) if "object" in openapi_type else ""
        )
        prop = _property(openapi_type, names_used)
        if description:
            prop["description"] = description
        properties[json_name] = prop
        if required:
            required_names.append(json_name)
    schema: dict[str, Any] = {"type": "object", "description": doc, "properties": properties}
    if required_names:
        schema["required"] = required_names
    return schema


def _names(annotation: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)]


def _served_kinds(api_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """Model class -> the (group, version)s whose API lists it: the top-level kinds."""
    served: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(api_dir.glob("*_api.py")):
        text = path.read_text(encoding="utf-8")
        match = _API_GV.search(text)
        if not match:
            continue
        gv = (match.group(1), match.group(2)) if match.group(1) else ("", match.group(3))
        for name in sorted(set(_LIST.findall(text)) - {"V1APIResource"}):
            served.setdefault(name, []).append(gv)
    return served


@functools.cache
def document() -> dict[str, Any]:
    """Every model of the installed client as one OpenAPI-v3-shaped document (cached; ~1 s to build)."""
    client = _client_dir()
    schemas: dict[str, Any] = {}
    for path in sorted((client / "models").glob("*.py")):
        match = _CLASS.search(path.read_text(encoding="utf-8"))
        if not match:
            continue
        node = ast.parse(match.group(0)).body[0]
        if isinstance(node, ast.ClassDef):
            schemas[schema_key(node.name)] = _class_schema(node)
    for name, gvs in _served_kinds(client / "api").items():
        schema = schemas.get(schema_key(name))
        parsed = _NAME.match(name)
        if schema is None or parsed is None:
            continue
        kind = parsed.group(3)
        schema["x-kubernetes-group-version-kind"] = [
            {"group": group, "version": version, "kind": kind}
            for group, version in gvs
            if version == parsed.group(2).lower()
        ]
    for schema in schemas.values():  # an object-typed field without words of its own: its type's description
        for prop in schema["properties"].values():
            ref = str(prop.get("$ref", ""))
            if ref and not prop.get("description"):
                described = schemas.get(ref[len(_REF) :], {}).get("description")
                if described:
                    prop["description"] = described
    return {"components": {"schemas": schemas}}
