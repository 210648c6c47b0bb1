"""Argument types shared by many tools, defined once so every tool describes them the same way."""

from __future__ import annotations

import re
from datetime import datetime
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


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> float:
    """Seconds in a Go-style duration ('90s', '10m', '1h30m', '2d'); ValueError when malformed."""
    text = value.strip()
    pos, total = 0, 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if not match:
            raise ValueError(f"invalid duration {value!r}: use e.g. 30s, 10m, 1h30m or 2d")
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not text:
        raise ValueError("invalid duration '': use e.g. 30s, 10m, 1h30m or 2d")
    return total


def parse_since(value: str) -> tuple[str, str]:
    """('sinceSeconds', '600') for a duration, ('sinceTime', <RFC 3339>) for a timestamp."""
    text = value.strip()
    if text[:1].isdigit() and ("T" in text or text.count("-") >= 2):
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"invalid since {value!r}: not an RFC 3339 time such as 2026-01-01T10:00:00Z") from None
        return "sinceTime", text
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise ValueError(
            f"invalid since {value!r}: use a duration such as 30s, 10m, 1h30m, or an RFC 3339 time"
        ) from None
    if seconds < 1:
        raise ValueError(f"invalid since {value!r}: must be at least 1s")
    return "sinceSeconds", str(int(seconds))


def _since(value: str | None) -> str | None:
    if value is not None:
        parse_since(value)
    return value


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
OptionalName = Annotated[
    str | None,
    AfterValidator(lambda v: _name(v) if v is not None else v),
    Field(description="Object name"),
]
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

ContainerName = Annotated[
    str | None,
    AfterValidator(lambda v: _name(v) if v else v),
    Field(description="Container name (default: the pod's default container)"),
]
Since = Annotated[
    str | None,
    AfterValidator(_since),
    Field(description="Only lines newer than this: a duration such as '10m' or '1h30m', or an RFC 3339 time"),
]
Command = Annotated[
    list[Annotated[str, Field(min_length=1)]],
    Field(
        description="Program and arguments, one per item, run without a shell, e.g. ['ls', '-l', '/tmp']; "
        "use ['sh', '-c', '...'] for pipes",
        min_length=1,
    ),
]


class Args(BaseModel):
    """Base of every tool's arguments: unknown arguments are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ListArgs(Args):
    """What every list call takes (the Go server's names): selectors, a page size and token, the context.

    ``views.list_table`` reads exactly these. Tools that offer only some of them (events_list has no
    label selector, namespaces_list no paging) build one from their own arguments.
    """

    labelSelector: LabelSelector = None
    fieldSelector: FieldSelector = None
    limit: Limit = None
    continue_: Continue = Field(None, alias="continue")
    context: Context = None


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
