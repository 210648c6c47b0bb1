"""Argument types shared by many tools, defined once so every tool describes them the same way."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
# Selector syntax as the API server accepts it: comma-separated requirements.
_SELECTOR_REQ = re.compile(
    r"^\s*!?\s*[A-Za-z0-9./_-]+\s*((==?|!=)\s*[A-Za-z0-9._/-]*|\s+(in|notin)\s+\([A-Za-z0-9._/,\s-]*\))?\s*$"
)


def _namespace(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(f"invalid namespace {value!r}: must be a DNS label (lowercase letters, digits, '-')")
    return value


def _name(value: str) -> str:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(f"invalid name {value!r}: must be lowercase letters, digits, '-' or '.'")
    return value


def _release_name(value: str) -> str:
    if len(value) > 53 or not _DNS_SUBDOMAIN.match(value) or ".." in value:
        raise ValueError(
            f"invalid release name {value!r}: at most 53 lowercase letters, digits, '-' or '.', "
            "starting and ending with a letter or digit"
        )
    return value


def _selector(value: str) -> str:
    parts = _split_selector(value)
    for part in parts:
        if not _SELECTOR_REQ.match(part):
            raise ValueError(f"malformed selector {value!r} near {part.strip()!r}")
    return value


def _split_selector(value: str) -> list[str]:
    """Split on commas that are not inside 'in (...)' lists."""
    parts, depth, current = [], 0, ""
    for ch in value:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


Context = Annotated[
    str | None,
    Field(description="kubeconfig context to use (default: the server's current context)"),
]
Namespace = Annotated[str, AfterValidator(_namespace), Field(description="Namespace")]
OptionalNamespace = Annotated[
    str | None,
    AfterValidator(lambda v: _namespace(v) if v else v),
    Field(description="Namespace (default: the context's namespace)"),
]
Name = Annotated[str, AfterValidator(_name), Field(description="Object name", min_length=1)]
LabelSelector = Annotated[
    str | None,
    AfterValidator(lambda v: _selector(v) if v else v),
    Field(description="Label selector, e.g. 'app=web,tier!=db'"),
]
FieldSelector = Annotated[
    str | None,
    AfterValidator(lambda v: _selector(v) if v else v),
    Field(description="Field selector, e.g. 'status.phase=Running'"),
]
Limit = Annotated[
    int | None,
    Field(description="Most items to fetch in one page (default: the server's list limit)", ge=1, le=10_000),
]
Continue = Annotated[
    str | None,
    Field(description="Continue token from a previous capped list, to fetch the next page"),
]
ReleaseName = Annotated[str, AfterValidator(_release_name), Field(description="Helm release name", min_length=1)]
OptionalReleaseName = Annotated[
    str | None, AfterValidator(lambda v: _release_name(v) if v else v), Field(description="Helm release name")
]
HelmTimeout = Annotated[
    int,
    Field(
        description="Seconds helm may wait for the change (hooks, and readiness when wait is set)",
        ge=1,
        le=3600,
    ),
]
ApiVersion = Annotated[
    str, Field(description="apiVersion of the resource, e.g. 'v1', 'apps/v1', 'example.com/v1'", min_length=1)
]
Kind = Annotated[
    str,
    Field(description="Kind of the resource, e.g. 'Pod', 'Deployment' (plural names work too)", min_length=1),
]


class Args(BaseModel):
    """Base of every tool's arguments: unknown arguments are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


DryRun = Annotated[
    bool,
    Field(description="Preview only: the API server validates the change and nothing is persisted"),
]

_ROLLOUT_KINDS = {
    "deployment": "Deployment",
    "deployments": "Deployment",
    "deploy": "Deployment",
    "statefulset": "StatefulSet",
    "statefulsets": "StatefulSet",
    "sts": "StatefulSet",
    "daemonset": "DaemonSet",
    "daemonsets": "DaemonSet",
    "ds": "DaemonSet",
}


def _rollout_kind(value: str) -> str:
    kind = _ROLLOUT_KINDS.get(value.strip().lower())
    if kind is None:
        raise ValueError(f"unsupported kind {value!r}: rollouts exist for Deployment, StatefulSet and DaemonSet")
    return kind


RolloutKind = Annotated[
    str,
    AfterValidator(_rollout_kind),
    Field(description="Deployment, StatefulSet or DaemonSet (apps/v1)", min_length=1),
]
