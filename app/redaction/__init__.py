"""Secrets never leave: the one place that decides what is redacted from everything the server shows.

Structured redaction (``objects``, ``kubeconfig``) knows where secrets sit: Secret data, env values
with secret-looking names, password-like Helm values, kubeconfig credentials. The text scrub
(``text`` with the rules of ``formats`` and the vendored ``gitleaks`` rule set) is the net under it:
it knows credential formats (URL passwords, registry auth, webhook and signed URLs, connection
strings, provider tokens, JWTs, private keys, ``password=...`` assignments) and runs over every text
and structured value a tool, resource, prompt, error, audit line or log line carries. Pure functions:
nothing here does I/O (the rule file is read once, at import).
"""

from __future__ import annotations

from typing import Any

from app.redaction.formats import RULES, sensitive_json_key
from app.redaction.kubeconfig import DATA_OMITTED, KUBECONFIG_REDACTED, redact_kubeconfig
from app.redaction.objects import LAST_APPLIED, SENSITIVE_NAME, redact_object, redact_values
from app.redaction.text import REDACTED

__all__ = [
    "DATA_OMITTED",
    "KUBECONFIG_REDACTED",
    "LAST_APPLIED",
    "REDACTED",
    "SENSITIVE_NAME",
    "redact_kubeconfig",
    "redact_object",
    "redact_values",
    "scrub_json",
    "scrub_text",
]


def scrub_text(text: str) -> str:
    """``text`` with anything that looks like a credential replaced (logs, messages, YAML, tables)."""
    return RULES.scrub(text)


def scrub_json(data: Any) -> Any:
    """A JSON-shaped value (structured content, arguments, log fields) with every credential scrubbed."""
    return RULES.scrub_json(data, sensitive_json_key)
