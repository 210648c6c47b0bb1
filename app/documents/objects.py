"""What the server offers as MCP resources: Kubernetes objects by URI, and a library of manifest templates.

Objects: ``k8s://{context}/{namespace}/{kind}/{name}`` for namespaced objects and
``k8s://{context}/_cluster/{kind}/{name}`` for cluster-scoped ones. ``context`` is a kubeconfig
context name (percent-encoded if it holds '/' or ':') or ``current`` for the session's default.
``kind`` is how kubectl spells a type: Kind (``Deployment``), plural (``deployments``), singular or
short name (``deploy``), optionally qualified with a group (``deployments.apps``,
``widgets.example.com``) or version and group (``deployments.v1.apps``, ``pods.v1``); it is found by
``Discovery.lookup`` (built-in groups first, so ``Event`` is the core v1 Event and a CRD kind is
found after the built-ins; qualify the kind to choose otherwise).

The object is then read exactly as ``resources_get`` reads it (``views.get_object``: policy, namespace
limits, impersonation, redaction, the output cap); the transport scrubs the text, as for tool
results. Templates are YAML files shipped in the package (``app/documents/templates``), read as
``k8s-template://{name}``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources as package_files
from urllib.parse import unquote

import yaml
from pydantic import TypeAdapter, ValidationError

from app import args as p
from app import errors, output
from app.kube.discovery import Resource
from app.spec import Deps, ToolResult
from app.views import get_object

OBJECT_SCHEME = "k8s://"
CLUSTER_SEGMENT = "_cluster"
CURRENT_CONTEXT = "current"
_NAME = TypeAdapter(p.Name)
_NAMESPACE = TypeAdapter(p.Namespace)


def object_uri(context: str | None, namespace: str | None, plural: str, name: str) -> str:
    return f"k8s://{context or CURRENT_CONTEXT}/{namespace or CLUSTER_SEGMENT}/{plural}/{name}"


def _checked(adapter: TypeAdapter[str], value: str) -> str:
    try:
        return adapter.validate_python(value)
    except ValidationError as e:
        raise errors.ToolInputError(str(e.errors()[0]["msg"]).removeprefix("Value error, ")) from e


@dataclass(frozen=True)
class Located:
    """An object URI's parts once checked: the context as given (``None`` = the default), the kind found."""

    context: str | None
    resource: Resource
    namespace: str | None
    name: str


async def locate_object(deps: Deps, context: str, namespace: str, kind: str, name: str) -> Located:
    """Check a URI's parts and find its kind; our errors (the transport words them) for every failure."""
    ctx = None if context == CURRENT_CONTEXT else context
    deps.kube.context(ctx)  # an unknown context fails here, naming the known ones
    name = _checked(_NAME, name)
    cluster = namespace == CLUSTER_SEGMENT
    if not cluster:
        namespace = _checked(_NAMESPACE, namespace)
    resource = await deps.discovery.lookup(kind, context=ctx)
    if resource.namespaced and cluster:
        raise errors.ToolInputError(
            f"{resource.kind} is namespaced: read {object_uri(context, '<namespace>', resource.plural, name)}"
        )
    if not resource.namespaced and not cluster:
        raise errors.ToolInputError(
            f"{resource.kind} is cluster-scoped: read {object_uri(context, None, resource.plural, name)}"
        )
    return Located(ctx, resource, None if cluster else namespace, name)


async def read_located(deps: Deps, found: Located) -> ToolResult:
    """The object read as the caller (policy, namespace limits, impersonation): redacted YAML and the object."""
    return await get_object(deps, found.resource, name=found.name, namespace=found.namespace, context=found.context)


async def read_object(deps: Deps, context: str, namespace: str, kind: str, name: str) -> str:
    """The object as redacted YAML; our errors for every failure (the transport words them)."""
    found = await read_located(deps, await locate_object(deps, context, namespace, kind, name))
    return found.text


def parse_object_uri(uri: str) -> tuple[str, str, str, str]:
    """``k8s://{context}/{namespace or _cluster}/{kind}/{name}`` as its four parts (percent-decoded)."""
    rest = uri.removeprefix(OBJECT_SCHEME)
    parts = rest.split("/")
    if rest == uri or len(parts) != 4 or not all(parts):
        raise errors.ToolInputError(
            f"{uri!r} is not an object URI: expected k8s://{{context}}/{{namespace}}/{{kind}}/{{name}} or "
            "k8s://{context}/_cluster/{kind}/{name} (context 'current' for the default)"
        )
    context, namespace, kind, name = (unquote(part) for part in parts)
    return context, namespace, kind, name


# --- templates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    name: str
    kind: str
    api_version: str
    description: str
    text: str

    @property
    def uri(self) -> str:
        return f"k8s-template://{self.name}"


#: libyaml's safe loader when PyYAML has it (the templates are read at start-up: about 5x faster).
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def templates() -> dict[str, Template]:
    """The shipped templates by name (file stem), read once from the package."""
    folder = package_files.files("app.documents").joinpath("templates")
    found: dict[str, Template] = {}
    for entry in sorted(folder.iterdir(), key=lambda f: f.name):
        if not entry.name.endswith(".yaml"):
            continue
        text = entry.read_text(encoding="utf-8")
        doc = yaml.load(text, Loader=_LOADER)  # noqa: S506 - the safe loader, libyaml's when PyYAML has it
        comments = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
        name = entry.name.removesuffix(".yaml")
        found[name] = Template(name, str(doc["kind"]), str(doc["apiVersion"]), " ".join(comments), text)
    return found


def find_template(name: str) -> Template:
    """By file name or by Kind, case-insensitively: 'hpa', 'HorizontalPodAutoscaler', 'Deployment'."""
    wanted = name.strip().lower()
    for template in templates().values():
        if wanted in {template.name, template.kind.lower()}:
            return template
    raise errors.NotFound(f"no template {name!r}; templates: {', '.join(templates())}")


def template_index() -> str:
    rows = [
        {"name": t.name, "kind": t.kind, "apiVersion": t.api_version, "uri": t.uri, "description": t.description}
        for t in templates().values()
    ]
    return output.to_yaml({"templates": rows})
