"""Provider token formats from the gitleaks rule set, vendored unmodified in ``vendor/gitleaks.toml``.

gitleaks (MIT licence, ``vendor/LICENSE.gitleaks``; source and version in ``vendor/README.md``) keeps
a maintained list of credential formats, each a regular expression plus the lower-case keywords
every match contains, which is exactly the shape of our ``Rule``. We take the rules named in
``SELECTED``: formats with a distinctive literal prefix (``ghp_``, ``glpat-``, ``xoxb-``, ``AIza``...)
whose keywords are rare in ordinary cluster output. Rules that need a telling key name in front
(``generic-api-key``, ``heroku-api-key`` ...) are left to our own assignment rule, and rules whose
keywords are too short to gate anything (``sk``, ``s.``, ``ey``) are left out: see docs/redaction.md for
what was measured. gitleaks' entropy thresholds and allow-lists are not applied: redacting a
low-entropy or well-known example token costs nothing, missing a real one costs a credential.

The rules are written for Go's RE2; ``translate`` turns the two RE2 forms Python's ``re`` refuses
(a ``(?i)`` flag in the middle of a pattern, ``\\z``) into their Python equivalents, and lets a token
also end at an escaped quote (the rules accept ``\\n`` there; JSON inside a JSON string has ``\\"``).
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from app.redaction.text import Rule

RULES_FILE = Path(__file__).with_name("vendor") / "gitleaks.toml"

#: The gitleaks rule ids we use, in the order they run.
SELECTED: tuple[str, ...] = (
    # GitHub
    "github-pat",
    "github-fine-grained-pat",
    "github-oauth",
    "github-app-token",
    "github-refresh-token",
    # GitLab
    "gitlab-pat",
    "gitlab-pat-routable",
    "gitlab-deploy-token",
    "gitlab-runner-authentication-token",
    "gitlab-runner-authentication-token-routable",
    "gitlab-cicd-job-token",
    "gitlab-feed-token",
    "gitlab-incoming-mail-token",
    "gitlab-kubernetes-agent-token",
    "gitlab-oauth-app-secret",
    "gitlab-ptt",
    "gitlab-rrt",
    "gitlab-scim-token",
    "gitlab-feature-flag-client-token",
    # Slack
    "slack-bot-token",
    "slack-user-token",
    "slack-app-token",
    "slack-legacy-bot-token",
    "slack-legacy-token",
    "slack-legacy-workspace-token",
    "slack-config-access-token",
    "slack-config-refresh-token",
    # Stripe, Google, AWS, npm, PyPI
    "stripe-access-token",
    "gcp-api-key",
    "aws-access-token",
    "npm-access-token",
    "pypi-upload-token",
    # Other widely used services whose keys carry a distinctive prefix
    "openai-api-key",
    "anthropic-api-key",
    "anthropic-admin-api-key",
    "huggingface-access-token",
    "digitalocean-pat",
    "digitalocean-access-token",
    "digitalocean-refresh-token",
    "sendgrid-api-token",
    "shopify-access-token",
    "shopify-custom-access-token",
    "shopify-private-app-access-token",
    "shopify-shared-secret",
    "databricks-api-token",
    "doppler-api-token",
    "pulumi-api-token",
    "grafana-cloud-api-token",
    "grafana-service-account-token",
    "age-secret-key",
    "linear-api-key",
    "postman-api-token",
    "sentry-user-token",
    "heroku-api-key-v2",
)


_END_ESCAPES = r"|\\[nr]|"
_END_ESCAPES_JSON = r"|\\+[nr\"]|"


def translate(pattern: str) -> str:
    """An RE2 pattern as Python ``re`` reads it: mid-pattern ``(?i)`` scoped to its group, ``\\z`` as ``\\Z``."""
    pattern = re.sub(r"(?<!\\)((?:\\\\)*)\\z", r"\1\\Z", pattern)
    # A token's end: gitleaks accepts an escaped \n or \r after it; an escaped quote (JSON inside JSON) too.
    pattern = pattern.replace(_END_ESCAPES, _END_ESCAPES_JSON)
    while True:
        at = _mid_flag(pattern)
        if at < 0:
            return pattern
        end = _group_end(pattern, at + 4)
        body = pattern[at + 4 : end]
        if _has_top_level_bar(body):
            raise ValueError(f"cannot scope (?i) over an alternation: {pattern}")
        pattern = f"{pattern[:at]}(?i:{body}){pattern[end:]}"


def _mid_flag(pattern: str) -> int:
    """Where a ``(?i)`` that is not the pattern's first token starts, or -1."""
    i = 1
    while True:
        at = pattern.find("(?i)", i)
        if at < 0:
            return -1
        backslashes = len(pattern[:at]) - len(pattern[:at].rstrip("\\"))
        if backslashes % 2 == 0:
            return at
        i = at + 1


def _group_end(pattern: str, start: int) -> int:
    """The index of the ``)`` that closes the group enclosing ``start`` (or the pattern's length)."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return len(pattern)


def _has_top_level_bar(body: str) -> bool:
    return "|" in _top_level(body)


def _top_level(body: str) -> str:
    """The characters of ``body`` outside any group or class (escapes dropped)."""
    out, depth, i, in_class = [], 0, 0, False
    while i < len(body):
        c = body[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0:
            out.append(c)
        i += 1
    return "".join(out)


@cache
def load_all() -> dict[str, dict[str, Any]]:
    """Every rule of the vendored file by id (the benchmark measures them all; the scrub uses ``SELECTED``)."""
    with RULES_FILE.open("rb") as f:
        doc = tomllib.load(f)
    return {str(rule["id"]): rule for rule in doc.get("rules", []) if rule.get("regex")}


def rule(rule_id: str) -> Rule:
    """One vendored rule as a ``Rule`` that replaces the rule's secret (its secret group, else the match)."""
    spec = load_all()[rule_id]
    source = translate(str(spec["regex"]))
    keywords = tuple(str(k).lower() for k in spec.get("keywords") or ())
    if not keywords:
        raise ValueError(f"gitleaks rule {rule_id} has no keywords to gate it")
    cased = _cased_keywords(source, keywords)
    replace = _replacer(rule_id, int(spec.get("secretGroup") or 0))
    return Rule(rule_id, re.compile(source), cased or keywords, replace, cased=bool(cased))


def _cased_keywords(source: str, keywords: tuple[str, ...]) -> tuple[str, ...]:
    """The keywords as the pattern spells them, when it is case-sensitive and spells each one literally.

    gitleaks' keywords are lower-case; ``AKIA`` gated by ``akia`` would also wake the pattern for every
    hex digest that happens to contain "acca". A pattern without ``(?i`` only matches the literal as written.
    """
    if "(?i" in source:
        return ()
    low = source.lower()
    cased = []
    for keyword in keywords:
        at = low.find(keyword)
        if at < 0 or source.rfind("[", 0, at) > source.rfind("]", 0, at):
            return ()  # not spelled literally (escaped, or inside a character class)
        cased.append(source[at : at + len(keyword)])
    return tuple(cased)


def _replacer(rule_id: str, secret_group: int) -> Any:
    label = f"<redacted {rule_id}>"

    def replace(match: re.Match[str]) -> str:
        # As gitleaks: the secret is the rule's secretGroup, else its first non-empty group, else the match.
        group = secret_group or next((i for i, g in enumerate(match.groups(), 1) if g), 0)
        start, end = match.span(group)
        base = match.start()
        whole = match.group(0)
        return f"{whole[: start - base]}{label}{whole[end - base :]}"

    return replace


def selected() -> tuple[Rule, ...]:
    return tuple(rule(rule_id) for rule_id in SELECTED)
