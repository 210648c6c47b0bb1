"""Secrets never leave: what is redacted from objects, Helm values and kubeconfigs, and scrubbed from text.

Structured redaction knows where secrets sit (Secret data, env values with secret-looking names,
password-like Helm values, kubeconfig credentials); the text scrub is the net under it, replacing
anything that looks like a credential (JWTs, PEM keys, bearer tokens, ``password=...``) in any text
a tool returns. Pure functions: nothing here does I/O.
"""

from __future__ import annotations

import copy
import re
from typing import Any

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

SENSITIVE_NAME = re.compile(r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)", re.I)
REDACTED = "<redacted>"

# Things that are secrets wherever they appear in text: JWTs, PEM private keys, bearer tokens, cloud keys,
# service-account tokens and "password=..." style assignments.
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    # (pattern, replacement, literals of which every match contains at least one: the pattern runs only then;
    # lower-case literals are looked for in the lower-cased text)
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)"),
        "<redacted private key>",
        ("-----BEGIN ",),
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "<redacted jwt>", ("eyJ",)),
    (
        re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{16,}"),
        r"\1 <redacted>",
        ("bearer",),  # case-insensitive pattern: looked for in the lower-cased text
    ),
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), "<redacted access key>", ("AKIA", "ASIA")),
    (
        re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})\b"),
        "<redacted token>",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "sk-"),
    ),
)
_ASSIGNMENT = re.compile(
    r"(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)[A-Za-z0-9_.-]*)"
    r"([ \t]*[=:][ \t]*|\"[ \t]*:[ \t]*\")(?!<redacted|REDACTED\b|DATA\+OMITTED)"
    r"(?!(?:true|false|null)(?:[\s\",;&]|$))"  # booleans are settings (automountServiceAccountToken), not secrets
    r"([^\s\",;&]{3,})(?![^\s]*:)"
)
# Lower-case literals of which every match of _ASSIGNMENT contains one (its key alternatives).
_ASSIGNMENT_HINTS = (
    "passw",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "access-key",
)
# Keys that name or point at a secret rather than hold one (secretName, tokenPath, secretKeyRef, ...).
_REFERENCE_KEY = re.compile(r"(?i)(name|ref|path|file|namespace|seconds|expiration|audience|type)$")


def _assignment(match: re.Match[str]) -> str:
    if _REFERENCE_KEY.search(match.group(1)):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def scrub_text(text: str) -> str:
    """Replace anything that looks like a credential in free text (logs, messages, YAML).

    Every tool result passes through here, so it must be cheap on the common case of text with nothing
    secret-looking in it: each pattern runs only when a literal its matches cannot do without is present,
    and the assignment pattern (the costly one) only on the lines that name a secret-looking key. Matches
    never span lines, so the result is the same as running every pattern over the whole text. Non-ASCII
    text skips the shortcuts (case-insensitive matching folds some non-ASCII letters onto ASCII ones).
    """
    ascii_only = text.isascii()
    for pattern, replacement, hints in _SECRET_PATTERNS:
        haystack = text.lower() if pattern.flags & re.IGNORECASE else text
        if not ascii_only or _has_hint(haystack, hints):
            text = pattern.sub(replacement, text)
    if not ascii_only:
        return _ASSIGNMENT.sub(_assignment, text)
    if not _has_hint(text.lower(), _ASSIGNMENT_HINTS):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _has_hint(line.lower(), _ASSIGNMENT_HINTS):
            lines[i] = _ASSIGNMENT.sub(_assignment, line)
    return "\n".join(lines)


def _has_hint(text: str, hints: tuple[str, ...]) -> bool:
    return any(hint in text for hint in hints)


def redact_object(obj: dict[str, Any], *, reveal_secrets: bool = False) -> dict[str, Any]:
    """A copy fit to show: no managedFields, no last-applied copy, no Secret values, no secret-looking env."""
    out = copy.deepcopy(obj)
    if reveal_secrets:
        meta = out.get("metadata")
        if isinstance(meta, dict):
            meta.pop("managedFields", None)
        return out
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            annotations[LAST_APPLIED] = "<omitted: copy of the applied object>"
    if out.get("kind") == "Secret":
        for key in ("data", "stringData"):
            values = out.get(key)
            if isinstance(values, dict):
                out[key] = {name: f"<redacted {len(str(v))} chars>" for name, v in values.items()}
    _redact_env(out)
    return out


def _redact_env(node: Any) -> None:
    """Literal env values whose name looks sensitive, anywhere in a pod template."""
    if isinstance(node, dict):
        env = node.get("env")
        if isinstance(env, list):
            for var in env:
                if isinstance(var, dict) and "value" in var and SENSITIVE_NAME.search(str(var.get("name", ""))):
                    var["value"] = REDACTED
        for value in node.values():
            _redact_env(value)
    elif isinstance(node, list):
        for item in node:
            _redact_env(item)


_SENSITIVE_KEY = re.compile(r"(password|passwd|secret|token|apikey|api_key|privatekey|private_key|credentials?)$", re.I)


def _sensitive(key: str) -> bool:
    return bool(_SENSITIVE_KEY.search(key)) and not key.lower().startswith("existing")


def redact_values(values: Any) -> Any:
    """A copy of Helm values with scalar values under password/secret/token-like keys replaced."""
    if isinstance(values, dict):
        return {
            k: (
                f"<redacted {len(str(v))} chars>"
                if _sensitive(str(k)) and v not in (None, "") and not isinstance(v, dict | list | bool)
                else redact_values(v)
            )
            for k, v in values.items()
        }
    if isinstance(values, list):
        return [redact_values(v) for v in values]
    return values


# -- kubeconfig redaction -------------------------------------------------------------------------

KUBECONFIG_REDACTED = "REDACTED"  # as `kubectl config view` prints
DATA_OMITTED = "DATA+OMITTED"

#: User fields that are not secrets (names, paths, impersonation); everything else is redacted.
_SAFE_USER_KEYS = frozenset(
    {"username", "as", "as-uid", "as-groups", "client-certificate", "client-key", "tokenFile", "exec", "auth-provider"}
)
_SAFE_EXEC_KEYS = frozenset({"apiVersion", "command", "interactiveMode", "provideClusterInfo", "installHint"})
_SAFE_AUTH_PROVIDER_CONFIG = frozenset(
    {
        "client-id",
        "idp-issuer-url",
        "cmd-path",
        "expiry-key",
        "token-key",
        "scopes",
        "tenant-id",
        "apiserver-id",
        "environment",
        "config-mode",
        "extra-scopes",
    }
)
_SECRET_WORDS = ("token", "secret", "password", "passwd", "key", "credential", "auth", "cookie", "session")


def redact_kubeconfig(doc: dict[str, Any]) -> dict[str, Any]:
    """A kubeconfig fit to show: no credential of any kind survives.

    Tokens, passwords, client keys and certificates, auth-provider secrets and exec env values become
    ``KUBECONFIG_REDACTED`` (``DATA+OMITTED`` for certificate data, as ``kubectl config view`` prints). Exec
    arguments that look like secrets are redacted too, credentials in proxy URLs are dropped, and a
    final sweep replaces any string that looks like a token, JWT or PEM block wherever it sits.
    """
    out = copy.deepcopy(doc)
    for entry in out.get("clusters") or []:
        cluster = entry.get("cluster") if isinstance(entry, dict) else None
        if isinstance(cluster, dict):
            for key in list(cluster):
                if key.endswith("-data"):
                    cluster[key] = DATA_OMITTED
                elif key == "proxy-url" and isinstance(cluster[key], str):
                    cluster[key] = _strip_userinfo(cluster[key])
                elif key == "extensions":
                    cluster[key] = KUBECONFIG_REDACTED
    for entry in out.get("users") or []:
        if isinstance(entry, dict) and isinstance(entry.get("user"), dict):
            entry["user"] = _redact_user(entry["user"])
    if "extensions" in out:
        out["extensions"] = KUBECONFIG_REDACTED
    swept = _sweep(out)
    assert isinstance(swept, dict)
    return swept


def _redact_user(user: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in user.items():
        if key not in _SAFE_USER_KEYS:
            shown[key] = DATA_OMITTED if key == "client-certificate-data" else KUBECONFIG_REDACTED
        elif key == "exec" and isinstance(value, dict):
            shown[key] = _redact_exec(value)
        elif key == "auth-provider" and isinstance(value, dict):
            raw = value.get("config")
            config: dict[str, Any] = raw if isinstance(raw, dict) else {}
            shown[key] = {
                "name": value.get("name"),
                "config": {
                    k: (v if k in _SAFE_AUTH_PROVIDER_CONFIG else KUBECONFIG_REDACTED) for k, v in config.items()
                },
            }
        else:
            shown[key] = value
    return shown


def _redact_exec(spec: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {k: v for k, v in spec.items() if k in _SAFE_EXEC_KEYS}
    args = spec.get("args")
    if isinstance(args, list):
        shown["args"] = _redact_args([str(a) for a in args])
    env = spec.get("env")
    if isinstance(env, list):
        shown["env"] = [{"name": e.get("name"), "value": KUBECONFIG_REDACTED} for e in env if isinstance(e, dict)]
    return shown


def _redact_args(args: list[str]) -> list[str]:
    """``--token=x`` and ``--token x`` lose their values; harmless flags stay readable."""
    shown: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            shown.append(KUBECONFIG_REDACTED)
            hide_next = False
            continue
        flag, sep, _ = arg.partition("=")
        secret_flag = flag.startswith("-") and any(word in flag.lower() for word in _SECRET_WORDS)
        if secret_flag and sep:
            shown.append(f"{flag}={KUBECONFIG_REDACTED}")
        elif secret_flag:
            shown.append(arg)
            hide_next = True
        else:
            shown.append(KUBECONFIG_REDACTED if _looks_secret(arg) else arg)
    return shown


def _strip_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://{KUBECONFIG_REDACTED}@{rest.split('@', 1)[1]}"
    return url


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_BASE64_BLOB = re.compile(r"^(?=.*[0-9])(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9+/]{40,}={0,2}$")


def _looks_secret(value: str) -> bool:
    """PEM blocks, JWTs, auth header values and long mixed-case base64 blobs (not names or paths)."""
    return bool(
        "-----BEGIN" in value
        or _JWT.search(value)
        or _BASE64_BLOB.match(value)
        or value.lower().startswith(("bearer ", "basic "))
    )


def _sweep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sweep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sweep(v) for v in value]
    if isinstance(value, str) and value not in (KUBECONFIG_REDACTED, DATA_OMITTED) and _looks_secret(value):
        return KUBECONFIG_REDACTED
    return value
