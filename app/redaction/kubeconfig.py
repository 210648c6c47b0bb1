"""Kubeconfig redaction: a kubeconfig fit to show, with no credential of any kind left in it."""

from __future__ import annotations

import copy
import re
from typing import Any

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
