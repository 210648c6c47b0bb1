"""Approval rules: per object a change touches, whether it runs, needs confirmation, needs a human, or never runs.

A YAML file (``--approval-rules``) holds an ordered list of rules. Each rule matches on the tool, the
Kubernetes verb, the API group, the kind, the namespace and the object name (globs; a field left
out matches anything) and decides ``allow``, ``confirm``, ``elicit`` or ``deny``. The first rule
that matches a change decides it; a change no rule matches falls back to the server's approval
settings (``--approval`` and ``--approval-scope``).

This module is pure: the file's schema (unknown fields are an error, so a typo cannot silently
widen what is allowed), loading it once at start with one-line errors, and matching a ``Change``.
The Kubernetes client applies the rules to every request it sends and Helm to every object a
release touches (``app.kube.gate``), so a multi-document apply or a chart is judged per object.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.errors import ConfigError
from app.kinds import plural_of

Decision = Literal["allow", "confirm", "elicit", "deny"]
#: How much approval each decision asks for; a call needs the strongest of its changes' decisions.
STRENGTH: dict[str, int] = {"allow": 0, "confirm": 1, "elicit": 2, "deny": 3}
#: Verbs as the API server's authorizer names them; reads are not judged (denied resources and
#: namespaces cover them).
Verb = Literal["create", "update", "patch", "delete", "deletecollection"]
CHANGE_VERBS: tuple[str, ...] = ("create", "update", "patch", "delete", "deletecollection")

Pattern = Annotated[str, Field(min_length=1)]


def _listed(value: Any) -> Any:
    """A single string is a list of one."""
    return [value] if isinstance(value, str) else value


class Rule(BaseModel):
    """One rule of the file. Every match field is a list of globs (``*``, ``?``, ``[...]``) or one string."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, description="Named in audit lines and in the refusal of a deny")
    tools: tuple[Pattern, ...] = Field((), description="Tool names, e.g. resources_delete, helm_*")
    verbs: tuple[Verb, ...] = Field((), description="create, update, patch (server-side apply too), delete, ...")
    apiGroups: tuple[str, ...] = Field((), description="API groups: '' or core for the core group, apps, ...")
    kinds: tuple[Pattern, ...] = Field(
        (), description="Kinds or resources (Deployment, deployments), or a subresource (pods/eviction)"
    )
    namespaces: tuple[str, ...] = Field((), description="Namespaces; '' matches cluster-scoped objects")
    names: tuple[str, ...] = Field((), description="Object names")
    decision: Decision

    @field_validator("tools", "verbs", "apiGroups", "kinds", "namespaces", "names", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _listed(value)

    def applies_to_tool(self, tool: str) -> bool:
        return not self.tools or any(fnmatchcase(tool, p) for p in self.tools)

    def matches(self, change: Change) -> bool:
        if not self.applies_to_tool(change.tool):
            return False
        if self.verbs and change.verb not in self.verbs:
            return False
        if self.apiGroups and not any(fnmatchcase(change.group, "" if g == "core" else g) for g in self.apiGroups):
            return False
        if self.kinds and not any(_kind_matches(k, change) for k in self.kinds):
            return False
        if self.namespaces and not any(fnmatchcase(change.namespace, n) for n in self.namespaces):
            return False
        return not self.names or any(fnmatchcase(change.name, n) for n in self.names)


def _kind_matches(pattern: str, change: Change) -> bool:
    """'Deployment', 'deployments', 'Deploy*' and 'pods/eviction' (only that subresource) all work."""
    resource, _, sub = pattern.lower().partition("/")
    if sub and not (change.subresource and fnmatchcase(change.subresource, sub)):
        return False
    names = [change.resource] + ([change.kind.lower()] if change.kind else [])
    return any(fnmatchcase(n, resource) or fnmatchcase(n, plural_of(resource)) for n in names)


class RuleFile(BaseModel):
    """The whole file: ``rules:``, an ordered list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Change:
    """One object a call is about to change, as the rules see it."""

    tool: str
    verb: str
    group: str
    resource: str
    """The REST resource (plural), e.g. 'deployments'."""
    kind: str | None
    """The Kind when the request carries the object; None for deletes and subresources."""
    subresource: str | None
    namespace: str
    """'' for cluster-scoped objects."""
    name: str
    """'' when the server will generate it."""

    def describe(self) -> str:
        what = self.resource + (f".{self.group}" if self.group else "")
        what += f"/{self.subresource}" if self.subresource else ""
        if self.name:
            where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        else:
            where = f"in namespace {self.namespace}" if self.namespace else ""
        return f"{self.verb} {what} {where}".rstrip()


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    rule: str | None
    """Which rule decided ("approval rule 'x'"); None when the server's approval settings did."""


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...] = ()

    def decide(self, change: Change) -> Verdict | None:
        """The first matching rule's verdict; None when no rule matches."""
        for number, rule in enumerate(self.rules, 1):
            if rule.matches(change):
                return Verdict(rule.decision, label(rule, number))
        return None

    def decisions_for(self, tool: str) -> set[str]:
        """Every decision a rule could reach for a call of ``tool``."""
        return {rule.decision for rule in self.rules if rule.applies_to_tool(tool)}

    def tool_patterns(self) -> list[tuple[str, str]]:
        """(rule label, pattern) for every tool pattern, to check them against the catalog at start."""
        return [(label(r, n), p) for n, r in enumerate(self.rules, 1) for p in r.tools]


def label(rule: Rule, number: int) -> str:
    return f"approval rule {rule.name!r}" if rule.name else f"approval rule #{number}"


def load_rules(path: str) -> RuleBook:
    """Read and validate the rule file; any problem is one ConfigError line naming the file and the place."""
    try:
        data = yaml.safe_load(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read approval rules file {path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or "cannot be parsed"
        raise ConfigError(f"approval rules file {path} is not valid YAML: {problem}{where}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"approval rules file {path} must be a mapping with a 'rules' list")
    try:
        parsed = RuleFile.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"approval rules file {path}: {_describe(e)}") from e
    return RuleBook(parsed.rules)


def _describe(error: ValidationError) -> str:
    """The first problem, placed as 'rule #2 field verbs[1]', with the fields a rule may have."""
    problems = error.errors()
    first = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
    loc = list(first["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        where = f"rule #{loc[1] + 1}"
        loc = loc[2:]
    field = "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    place = " ".join(part for part in (where, f"field {field!r}" if field else "") if part) or "the file"
    kind = first["type"]
    if kind == "extra_forbidden":
        known = ", ".join(Rule.model_fields) if where else "rules"
        return f"{where or 'top level'}: unknown field {str(loc[-1])!r} (known fields: {known})"
    if kind == "missing":
        return f"{place}: is required"
    if kind == "literal_error" and field.startswith("verbs"):
        return f"{place}: {first['input']!r} is not a change verb ({', '.join(CHANGE_VERBS)})"
    if kind == "literal_error":
        return f"{place}: {first['input']!r} is not a decision (allow, confirm, elicit, deny)"
    return f"{place}: {first['msg']}"
