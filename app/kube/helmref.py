"""Pure Helm helpers: what a chart reference is, what a version constraint means, what helm's error says.

Kept apart from ``app.kube.helm`` (which runs the binary) so every rule here is unit-tested without a
cluster: chart references are classified before helm sees them (a missing local path is caught with a
clear line), version constraints are checked with the grammar helm uses (Masterminds semver) because
helm itself ignores ``--version`` for local charts and only rejects a bad constraint after reaching a
repository, and helm's multi-line stderr becomes one line in our exception tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app import errors

ChartKind = Literal["local", "oci", "url", "repo", "alias"]


@dataclass(frozen=True)
class ChartRef:
    """A chart as helm will be told about it: ``ref`` (+ ``repo`` for ``--repo``) and where it comes from."""

    ref: str
    kind: ChartKind
    repo: str | None = None


_URL = re.compile(r"^https?://[^\s]+$")
_OCI = re.compile(r"^oci://[^\s/]+/[^\s]+$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def classify_chart(chart: str, repo: str | None, *, exists: bool) -> ChartRef:
    """Classify ``chart``; ``exists`` tells whether it names a file or directory on the server."""
    chart = chart.strip()
    if not chart:
        raise errors.ToolInputError("chart must not be empty")
    if repo:
        repo = repo.strip()
        if not _URL.match(repo):
            raise errors.ToolInputError(f"invalid repo {repo!r}: must be an http(s):// chart repository URL")
        if not _NAME.match(chart):
            raise errors.ToolInputError(f"with repo set, chart must be a chart name such as 'nginx', not {chart!r}")
        return ChartRef(chart, "repo", repo)
    if chart.startswith("oci://"):
        if not _OCI.match(chart):
            raise errors.ToolInputError(f"invalid OCI reference {chart!r}: expected oci://registry/path/chart")
        return ChartRef(chart, "oci")
    if chart.startswith(("http://", "https://")):
        if not _URL.match(chart):
            raise errors.ToolInputError(f"invalid chart URL {chart!r}")
        return ChartRef(chart, "url")
    looks_like_path = chart.startswith(("/", "./", "../", "~")) or chart.endswith((".tgz", ".tar.gz"))
    if exists or looks_like_path:
        if not exists:
            raise errors.ToolInputError(f"chart path {chart!r} not found on the server")
        return ChartRef(chart, "local")
    if _ALIAS.match(chart):
        return ChartRef(chart, "alias")
    raise errors.ToolInputError(
        f"chart {chart!r} is not a local path, an oci:// reference, an http(s) URL or repo/name "
        "(pass repo to name a chart in a repository URL)"
    )


# --- version constraints (the Masterminds/semver v3 grammar helm uses) ---------------------------------

_OPS = ("!=", ">=", "=>", "<=", "=<", "~>", "=", ">", "<", "~", "^")
_PART = r"(?:0|[1-9]\d*|[xX*])"
_VERSION_RE = re.compile(
    rf"^v?(?P<major>{_PART})(?:\.(?P<minor>{_PART}))?(?:\.(?P<patch>{_PART}))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_OP_SPACE = re.compile(r"(!=|>=|=>|<=|=<|~>|[=<>~^])\s+")
_HYPHEN = re.compile(r"(\S+)\s+-\s+(\S+)")

Key = tuple[int, int, int, tuple[tuple[int, int | str], ...]]
_FLOOR: tuple[tuple[int, int | str], ...] = ((0, -1),)  # below every pre-release of a version


@dataclass(frozen=True)
class _Partial:
    parts: tuple[int | None, int | None, int | None]
    pre: str | None

    def low(self) -> Key:
        major, minor, patch = (p or 0 for p in self.parts)
        return (major, minor, patch, _pre_key(self.pre))

    def wildcard_at(self) -> int | None:
        return next((i for i, p in enumerate(self.parts) if p is None), None)

    def bump(self, at: int) -> Key:
        """The first version above the range that fixes parts before ``at``."""
        major, minor, _ = (p or 0 for p in self.parts)
        if at <= 0:
            return (10**9, 0, 0, _FLOOR)
        if at == 1:
            return (major + 1, 0, 0, _FLOOR)
        return (major, minor + 1, 0, _FLOOR)


def _pre_key(pre: str | None) -> tuple[tuple[int, int | str], ...]:
    """Semver precedence: a release sorts after every pre-release of it; (9,) marks 'no pre-release'."""
    if not pre:
        return ((9, 0),)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))


def _parse_partial(text: str) -> _Partial:
    match = _VERSION_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a version")
    parts: list[int | None] = []
    for name in ("major", "minor", "patch"):
        value = match.group(name)
        parts.append(None if value is None or value in "xX*" else int(value))
    # Anything after a wildcard is a wildcard too ("1.x.3" means "1.x").
    for i in range(1, 3):
        if parts[i - 1] is None:
            parts[i] = None
    return _Partial((parts[0], parts[1], parts[2]), match.group("pre"))


def version_key(version: str) -> Key:
    partial = _parse_partial(version.strip())
    if partial.wildcard_at() is not None and partial.parts[0] is None:
        raise ValueError(f"{version!r} is not a version")
    return partial.low()


def _split_op(term: str) -> tuple[str, str]:
    for op in _OPS:
        if term.startswith(op):
            return op, term[len(op) :]
    return "", term


def _groups(constraint: str) -> list[list[str]]:
    groups = []
    for group in constraint.split("||"):
        text = _OP_SPACE.sub(r"\1", group.strip())
        text = _HYPHEN.sub(r">=\1,<=\2", text)
        terms = [t for t in re.split(r"[,\s]+", text) if t]
        if not terms:
            raise ValueError("empty constraint")
        groups.append(terms)
    return groups


def validate_constraint(constraint: str) -> None:
    """Raise ``ValueError`` naming the bad part when ``constraint`` is not a version constraint."""
    if not constraint.strip():
        raise ValueError("empty constraint")
    for terms in _groups(constraint):
        for term in terms:
            _, version = _split_op(term)
            try:
                _parse_partial(version)
            except ValueError:
                raise ValueError(f"improper constraint {term!r}") from None


def _term_allows(key: Key, op: str, partial: _Partial) -> bool:
    wild = partial.wildcard_at()
    low = partial.low()
    if op in ("", "="):
        return low <= key < partial.bump(wild) if wild is not None else key == low
    if op == "!=":
        return not _term_allows(key, "=", partial)
    if op == ">":
        return key >= partial.bump(wild) if wild is not None else key > low
    if op in (">=", "=>"):
        return key >= low
    if op == "<":
        return key < low
    if op in ("<=", "=<"):
        return key < partial.bump(wild) if wild is not None else key <= low
    if op in ("~", "~>"):
        return low <= key < partial.bump(2 if partial.parts[1] is not None else 1)
    # caret: the left-most non-zero part is fixed
    major, minor, _ = partial.parts
    if major or minor is None:
        upper = partial.bump(1)
    elif minor or partial.parts[2] is None:
        upper = partial.bump(2)
    else:
        upper = (0, 0, (partial.parts[2] or 0) + 1, _FLOOR)
    return low <= key < upper


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` meets ``constraint`` (either of the '||' groups; every term of a group)."""
    key = version_key(version)
    return any(all(_term_allows(key, *_term(t)) for t in terms) for terms in _groups(constraint))


def _term(term: str) -> tuple[str, _Partial]:
    op, version = _split_op(term)
    return op, _parse_partial(version)


# --- helm's errors as one line --------------------------------------------------------------------------

_PREFIXES = ("Error: ", "INSTALLATION FAILED: ", "UPGRADE FAILED: ", "ROLLBACK FAILED: ", "uninstall: ")
_MAX = 400


def error_line(stderr: str) -> str:
    """helm's failure reason, one line: its ``Error:`` line and what follows, without warnings or prefixes."""
    lines = [line.rstrip() for line in stderr.splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("Error:")), None)
    if start is None:
        kept = [line for line in lines if line.strip() and not line.startswith("WARNING:")]
        text = kept[-1] if kept else ""
    else:
        text = " ".join(line.strip() for line in lines[start:] if line.strip() and not line.startswith("WARNING:"))
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix) :]
                changed = True
    text = " ".join(text.split())
    if len(text) > _MAX:
        text = text[: _MAX - 1].rstrip() + "…"
    return text or "helm failed without saying why"


def translate(stderr: str, *, release: str | None, namespace: str | None) -> errors.K8sMcpError:
    """helm's stderr as one error of our tree, worded for the model."""
    line = error_line(stderr)
    low = line.lower()
    where = f" in namespace {namespace}" if namespace else ""
    if "release: not found" in low or low.startswith("release not loaded"):
        return errors.NotFound(f"release {release!r} not found{where}" if release else line)
    if "has no deployed releases" in low:
        return errors.NotFound(f"release {release!r} has no deployed revision{where} (pass install=true to install it)")
    if "cannot re-use a name that is still in use" in low:
        return errors.Conflict(f"release {release!r} already exists{where}; use helm_upgrade to change it")
    if "timed out waiting for the condition" in low or "context deadline exceeded" in low:
        return errors.Timeout(line)
    if "kubernetes cluster unreachable" in low:
        return errors.Unavailable(line)
    if "forbidden" in low and ("cannot" in low or "is forbidden" in low):
        return errors.Forbidden(line)
    if "not a valid chart repository" in low or "connection refused" in low or "no such host" in low:
        return errors.Unavailable(line)
    if re.search(r"chart \"[^\"]+\" (version \"[^\"]+\" )?not found", low) or "not found" in low:
        return errors.NotFound(line)
    if (
        "improper constraint" in low
        or "invalid version" in low
        or "values don't meet the specifications" in low
        or "parse error" in low
        or "execution error" in low
        or "unable to build kubernetes objects" in low
        or "is invalid" in low
    ):
        return errors.ToolInputError(line)
    return errors.KubeError(line)
