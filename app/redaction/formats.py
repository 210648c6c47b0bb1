"""The credential formats the text scrub knows, in the order they run.

Each rule keeps what makes the output useful and replaces only the secret: a URL keeps its scheme,
user and host (``postgres://admin:<redacted>@db:5432/app``), a webhook keeps its service's address,
a signed URL keeps every query parameter but the signature, an assignment keeps its key. Provider
token formats come from the vendored gitleaks rule set (``app.redaction.gitleaks``); the formats here
are the ones that need context (a URL, a JSON key, a connection string) rather than a token prefix.

Every rule must keep two promises the engine relies on (``app.redaction.text``): every match contains
one of its hints, and no rule matches what a replacement puts in (both are checked by the unit tests).
"""

from __future__ import annotations

import base64
import binascii
import re

from app.redaction import gitleaks
from app.redaction.text import REDACTED, Rule, RuleSet

# -- URLs -----------------------------------------------------------------------------------------

#: ``scheme://user:password@host``: the password is what lies between the first ``:`` of the user-info
#: and its last ``@`` (a ``/`` in it too, unescaped as it often is); the user may be empty
#: (``redis://:password@redis:6379/0``). Not a password: a port and a path (``oci://registry:5000/chart@sha256:``),
#: or a Kubernetes ``$(VAR)`` / shell ``${VAR}`` reference in the password's place.
_URL_USERINFO = re.compile(
    r"://([^\s:/?#@\"'<>\[\]\\]*):"
    r"(?![0-9]+/|\$\([A-Za-z_][A-Za-z0-9_]*\)@|\$\{[A-Za-z_][A-Za-z0-9_]*\}@)([^\s?#\"'<>\\]+)@"
)

#: Webhooks whose path is the secret: keep the service's address, drop the rest.
_SLACK_WEBHOOK = re.compile(r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/+-]+")
_DISCORD_WEBHOOK = re.compile(r"(?i)((?:discord|discordapp)\.com/api/(?:v\d+/)?webhooks/[0-9]+/)[A-Za-z0-9_.-]+")
_TEAMS_WEBHOOK = re.compile(r"(?i)((?:webhook\.office\.com/webhookb2|outlook\.office\.com/webhook)/)[^\s\"'<>\\]+")

#: Query parameters that are the credential of a signed URL: Azure SAS ``sig``, AWS SigV4 and SigV2,
#: Google Cloud Storage V4 and V2 signatures, and AWS session tokens.
_SIGNED_QUERY = re.compile(
    r"(?i)(?<![A-Za-z0-9_-])(sig|x-amz-signature|x-goog-signature|signature|x-amz-security-token)=([^&\s\"'#<>\\]+)"
)

# -- registry credentials -------------------------------------------------------------------------

#: ``"auth": "<base64 user:password>"`` in a Docker config (``.dockerconfigjson``, ``config.json``),
#: also with escaped quotes (at any depth) when the JSON is itself a string value. ``password`` and
#: ``identitytoken`` in the same file are the assignment rule's.
_DOCKER_AUTH = re.compile(r"auth(\\*\"[ \t]*:[ \t]*\\*\")([A-Za-z0-9+/]{4,}={0,2})(?=\\*\")")

#: ``_auth=<base64>`` in an ``.npmrc``.
_NPMRC_AUTH = re.compile(r"(?i)(?<![A-Za-z0-9])(_auth[ \t]*=[ \t]*)([^\s\"']+)")

# -- connection strings and headers -----------------------------------------------------------------

#: ``Password=`` / ``Pwd=`` / ``AccountKey=`` / ``SharedAccessKey=`` of an ADO.NET, ODBC, JDBC (SQL Server)
#: or Azure connection string: the whole value up to ``;``, quoted values included.
_CONNECTION_PAIR = re.compile(
    r"(?i)(password|pwd|accountkey|sharedaccesskey)([ \t]*=[ \t]*)"
    r"(\{[^}\n]*\}|'[^'\n]*'|\"[^\"\n]*\"|\\\"(?:[^\"\\\n]|\\[^\"\n])*\\\"|[^;\r\n\"'\\]+)"
)
_KEY_CHAR = re.compile(r"[A-Za-z0-9_.-]")

_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{16,}")
#: ``Basic <base64 user:password>``: only when the value really decodes to ``user:password``.
_BASIC = re.compile(r"(?i)\b(basic)(\s+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=._-])")

# -- tokens ---------------------------------------------------------------------------------------

_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
#: Broader than gitleaks' exact-length rules for the same providers: any length, older formats.
_LOOSE_TOKENS = re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})\b")
#: An Azure storage account key (64 bytes, 88 base64 characters) under a key name that says ``key``.
_AZURE_KEY = re.compile(
    r"(?i)(key[A-Za-z0-9_.-]*\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?)([A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])"
)

# -- assignments ----------------------------------------------------------------------------------

#: ``password=...``, ``DB_PASSWORD: ...``, ``"apiKey": "..."`` (also JSON-escaped): a value after a key
#: that names a secret. Matched from the secret word (the rest of the key before it stays as it is).
_ASSIGNMENT = re.compile(
    r"(?i)(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)([A-Za-z0-9_.-]*)"
    r"([ \t]*[=:][ \t]*(?:\\*\")?|\\*\"[ \t]*:[ \t]*\\*\")(?!<redacted|REDACTED\b|DATA\+OMITTED)"
    r"(?!(?:true|false|null)(?:[\s\\\",;&]|$))"  # booleans are settings (automountServiceAccountToken), not secrets
    r"((?:[^\s\\\",;&]|\\+(?=[^\s\\\"])){3,})"
)
#: Lower-case literals of which every match of _ASSIGNMENT contains one (its key alternatives).
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
#: Keys that name or point at a secret rather than hold one (secretName, tokenPath, secretKeyRef, ...).
_REFERENCE_KEY = re.compile(r"(?i)(name|ref|path|file|namespace|seconds|expiration|audience|type)$")


#: What precedes the secret word in the same key (``DB_`` of ``DB_PASSWORD``, ``existing`` of ``existingSecret``).
_KEY_HEAD = re.compile(r"[A-Za-z0-9_.-]{0,64}$")


def _assignment(match: re.Match[str]) -> str:
    key = match.group(1) + match.group(2)
    if _REFERENCE_KEY.search(key):
        return match.group(0)
    head = _KEY_HEAD.search(match.string, max(0, match.start() - 64), match.start())
    if head and head.group(0).lower().startswith("existing"):
        return match.group(0)  # existingSecret: the name of a Secret the chart should use, not a secret
    return f"{key}{match.group(3)}{REDACTED}"


def _connection_pair(match: re.Match[str]) -> str:
    """Only inside a connection string: after a ``;`` or before one; anything else is the assignment rule's."""
    text, start, end = match.string, match.start(), match.end()
    if start and _KEY_CHAR.match(text, start - 1):
        return match.group(0)  # part of a longer key (DB_PASSWORD=): the assignment rule decides
    before = text[:start].rstrip(" \t")
    if not before.endswith(";") and not text.startswith(";", end):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def _docker_auth(match: re.Match[str]) -> str:
    start = match.start()
    if start == 0 or match.string[start - 1] != '"':
        return match.group(0)  # a longer key (oauth, basicauth): not a Docker config entry
    return f"auth{match.group(1)}{REDACTED}"


def _decodes_to_user_password(value: str) -> bool:
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded and decoded.isascii()


def _basic(match: re.Match[str]) -> str:
    if not _decodes_to_user_password(match.group(3)):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def _text_rules() -> tuple[Rule, ...]:
    return (
        Rule("private-key", _PRIVATE_KEY, ("-----begin ",), "<redacted private key>"),
        Rule("url-userinfo", _URL_USERINFO, ("://",), rf"://\1:{REDACTED}@"),
        Rule("slack-webhook", _SLACK_WEBHOOK, ("hooks.slack.com",), rf"\1{REDACTED}"),
        Rule("discord-webhook", _DISCORD_WEBHOOK, ("discord",), rf"\1{REDACTED}"),
        Rule("teams-webhook", _TEAMS_WEBHOOK, ("webhook.office.com", "outlook.office.com"), rf"\1{REDACTED}"),
        Rule("signed-url", _SIGNED_QUERY, ("sig=", "signature=", "security-token="), rf"\1={REDACTED}"),
        Rule("docker-auth", _DOCKER_AUTH, ('auth"', "auth\\"), _docker_auth),
        Rule("npmrc-auth", _NPMRC_AUTH, ("_auth",), rf"\1{REDACTED}"),
        Rule(
            "connection-string",
            _CONNECTION_PAIR,
            ("password", "pwd", "accountkey", "sharedaccesskey"),
            _connection_pair,
            per_line=True,
        ),
        Rule("bearer", _BEARER, ("bearer",), rf"\1 {REDACTED}"),
        Rule("basic-auth", _BASIC, ("basic",), _basic),
        Rule("jwt", _JWT, ("eyj",), "<redacted jwt>"),
        *gitleaks.selected(),
        Rule("token", _LOOSE_TOKENS, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "sk-"), "<redacted token>"),
        Rule("azure-storage-key", _AZURE_KEY, ("==",), rf"\1{REDACTED}", per_line=True),
        Rule("assignment", _ASSIGNMENT, _ASSIGNMENT_HINTS, _assignment, per_line=True),
    )


RULES = RuleSet(_text_rules())

#: Keys whose string value is a secret when a JSON value is scrubbed string by string.
SENSITIVE_JSON_KEY = re.compile(r"(?i)(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|^auth$)")


def sensitive_json_key(key: str) -> bool:
    return bool(SENSITIVE_JSON_KEY.search(key)) and not _REFERENCE_KEY.search(key)
