"""Pure rendering of what tools return: compact tables, YAML objects, redaction and size caps.

Nothing here does I/O. Tables come from the API server's own Table rendering (the columns
``kubectl get`` shows); single objects become YAML without ``managedFields``; Secret values never
leave in clear; every text is capped, and the cap is always announced with the way to get the rest.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

import yaml

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
Cell = str | int | float | bool | None


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


# libyaml's emitter when PyYAML has it (same text, about 4x faster than the pure-Python one).
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def to_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)


@dataclass(frozen=True)
class Table:
    """A Table response reduced to what a reader needs."""

    columns: list[str]
    rows: list[list[Cell]]
    continue_token: str | None = None
    remaining: int | None = None


def table_from_api(payload: dict[str, Any], *, with_namespace: bool, wide: bool = False) -> Table:
    """Reduce a meta.k8s.io Table to priority-0 columns (all columns when ``wide``)."""
    definitions = payload.get("columnDefinitions") or []
    keep = [i for i, d in enumerate(definitions) if wide or int(d.get("priority", 0)) == 0]
    columns = [str(definitions[i]["name"]).upper() for i in keep]
    rows: list[list[Cell]] = []
    for row in payload.get("rows") or []:
        cells = row.get("cells") or []
        values: list[Cell] = [cells[i] if i < len(cells) else None for i in keep]
        if with_namespace:
            meta = (row.get("object") or {}).get("metadata") or {}
            values.insert(0, meta.get("namespace", ""))
        rows.append(values)
    if with_namespace:
        columns.insert(0, "NAMESPACE")
    meta = payload.get("metadata") or {}
    return Table(columns, rows, meta.get("continue") or None, meta.get("remainingItemCount"))


def _cell_text(value: Cell) -> str:
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value)
    return text if text else "<none>"


@dataclass
class Rendered:
    """Text for the model plus the rows it shows (structured content mirrors the text)."""

    text: str
    rows: list[list[Cell]] = field(default_factory=list)
    truncated: bool = False


def render_table(
    table: Table, *, noun: str, where: str, max_chars: int, narrow: str = "labelSelector/fieldSelector"
) -> Rendered:
    """kubectl-like aligned columns, capped at ``max_chars`` on a row boundary; ``narrow`` names the filters."""
    if not table.rows:
        # A filtered page can be empty and still have more after it: say so.
        more = f"\n{_continue_note(table, noun)}" if table.continue_token else ""
        return Rendered(f"No {noun} found{where}.{more}")
    texts = [[_cell_text(c) for c in row] for row in table.rows]
    widths = [len(h) for h in table.columns]
    for row in texts:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        # Two spaces between columns: runs of spaces cost one token whatever their length, so a third
        # space adds ~7% characters (and eats into the cap) for no token saved (bench/output_size.py).
        return "  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    lines = [line(table.columns)] + [line(row) for row in texts]
    closing = [_continue_note(table, noun)] if table.continue_token else []
    budget = max_chars - sum(len(note) + 1 for note in closing)
    if sum(len(text) + 1 for text in lines) - 1 > budget:
        # The closing notes count against the cap too: reserve the longest the "capped" note can be.
        budget -= len(_hidden_note(len(texts), noun=noun, narrow=narrow)) + 1
        used = len(lines[0])
        shown = 0
        for text in lines[1:]:
            used += len(text) + 1
            if used > budget:
                break
            shown += 1
        lines = lines[: shown + 1]
        closing.insert(0, _hidden_note(len(texts) - shown, noun=noun, narrow=narrow))
    shown = len(lines) - 1
    return Rendered("\n".join(lines + closing), table.rows[:shown], truncated=shown < len(table.rows))


def _hidden_note(hidden: int, *, noun: str, narrow: str) -> str:
    return f"[output capped: {hidden} more {noun} fetched but not shown; narrow with {narrow} or pass a smaller limit]"


def _continue_note(table: Table, noun: str) -> str:
    more = f"{table.remaining} more" if table.remaining else "more"
    return f'[{more} {noun} on the server: call again with continue="{table.continue_token}"]'


def cap_text(text: str, max_chars: int, *, hint: str) -> tuple[str, bool]:
    """Cut ``text`` at a line boundary so that it and the note saying what was left out fit ``max_chars``."""
    if len(text) <= max_chars:
        return text, False

    def note(omitted: int) -> str:
        return f"\n[output capped: {omitted} more characters not shown; {hint}]"

    room = max(max_chars - len(note(len(text))), 1)
    cut = text.rfind("\n", 0, room)
    cut = cut if cut > 0 else room
    return text[:cut] + note(len(text) - cut), True


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


_DOC_SPLIT = re.compile(r"^---[ \t]*$", re.M)


def manifest_documents(manifest: str) -> list[tuple[str, dict[str, Any] | None]]:
    """Split a multi-document manifest into (text, parsed object or None) pairs, skipping empty ones."""
    docs: list[tuple[str, dict[str, Any] | None]] = []
    for chunk in _DOC_SPLIT.split(manifest):
        if not chunk.strip():
            continue
        try:
            parsed = yaml.safe_load(chunk)
        except yaml.YAMLError:
            parsed = None
        if parsed is None and all(line.lstrip().startswith("#") or not line.strip() for line in chunk.splitlines()):
            continue
        docs.append((chunk.strip("\n"), parsed if isinstance(parsed, dict) else None))
    return docs


def manifest_objects(manifest: str) -> list[str]:
    """Kind/name of every object in a manifest, in order."""
    names = []
    for _, obj in manifest_documents(manifest):
        if obj and obj.get("kind"):
            names.append(f"{obj['kind']}/{(obj.get('metadata') or {}).get('name', '?')}")
    return names


def redact_manifest(manifest: str) -> str:
    """The manifest with Secret values redacted (the ``# Source:`` comments of each document are kept)."""
    out = []
    for text, obj in manifest_documents(manifest):
        if obj and obj.get("kind") == "Secret":
            comments = [line for line in text.splitlines() if line.startswith("#")]
            text = "\n".join([*comments, to_yaml(redact_object(obj)).rstrip("\n")])
        out.append(text)
    return "".join(f"---\n{doc}\n" for doc in out)


#: Metadata the server sets on every write: noise in a "what would change" diff.
DIFF_NOISE = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")


def _diff_view(obj: dict[str, Any] | None) -> dict[str, Any]:
    if not obj:
        return {}
    out = redact_object(obj)
    out.pop("status", None)  # writes to the main resource never change status
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in DIFF_NOISE:
            meta.pop(key, None)
    return out


def object_diff(before: dict[str, Any] | None, after: dict[str, Any], *, name: str, context: int = 2) -> str:
    """A compact unified diff of two versions of an object, over redacted YAML.

    Secret values are never shown; a value that changed is marked as changed (never as its text),
    so a reader sees that a key moved without seeing either side. Empty when nothing changed.
    """
    old, new = _diff_view(before), _diff_view(after)
    if after.get("kind") == "Secret":
        for key in ("data", "stringData"):
            was = (before or {}).get(key) or {}
            now = after.get(key) or {}
            shown = new.get(key)
            if isinstance(shown, dict) and isinstance(was, dict) and isinstance(now, dict):
                for item in shown:
                    if item in was and was[item] != now.get(item):
                        shown[item] = f"<redacted {len(str(now.get(item)))} chars, changed>"
    a = to_yaml(old).splitlines() if old else []
    b = to_yaml(new).splitlines()
    lines = difflib.unified_diff(a, b, fromfile=f"live/{name}", tofile=f"new/{name}", n=context, lineterm="")
    return "\n".join(lines)


def human_age(then: str | None, now: datetime) -> str:
    """kubectl-style age ('45s', '12m', '5h', '3d') of an RFC 3339 timestamp; '<unknown>' if absent."""
    if not then:
        return "<unknown>"
    try:
        stamp = datetime.fromisoformat(then.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    seconds = max(0, int((now - stamp).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def cap_tail(text: str, max_chars: int, *, hint: str) -> tuple[str, bool]:
    """Keep the LAST lines of ``text`` (logs: the newest matter most) so that they and a closing line
    saying how much earlier text was left out fit ``max_chars``."""
    if len(text) <= max_chars:
        return text, False

    def note(lines: int, characters: int) -> str:
        return f"[output capped: {lines} earlier lines ({characters} characters) not shown; {hint}]"

    room = max(max_chars - len(note(text.count("\n") + 1, len(text))) - 1, 1)
    start = text.find("\n", len(text) - room)
    start = start + 1 if start >= 0 else len(text) - room
    omitted = text[:start]
    lines = omitted.count("\n") + (0 if omitted.endswith("\n") or not omitted else 1)
    closing = note(lines, len(omitted))
    return f"{text[start:]}\n{closing}" if not text.endswith("\n") else f"{text[start:]}{closing}", True


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


# -- resource quantities (metrics, top tables) ----------------------------------------------------

_SUFFIXES: dict[str, Decimal] = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$")


def parse_quantity(text: str | int | float) -> Decimal:
    """A Kubernetes quantity ('250m', '1.5Gi', '999982n', '1e3', 4) as a number of base units."""
    if isinstance(text, int | float):
        return Decimal(str(text))
    match = _QUANTITY.match(text.strip())
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, exponent, suffix = match.groups()
    value = Decimal(number)
    if exponent:
        return value * (Decimal(10) ** int(exponent[1:]))
    return value * _SUFFIXES[suffix or ""]


def format_cpu(cores: Decimal) -> str:
    """Millicores, as ``kubectl top`` prints CPU(cores)."""
    return f"{int((cores * 1000).to_integral_value(rounding=ROUND_CEILING))}m"


def format_memory(num_bytes: Decimal) -> str:
    """Mebibytes, as ``kubectl top`` prints MEMORY(bytes)."""
    return f"{int(num_bytes / (1024 * 1024))}Mi"


def format_bytes(num_bytes: Decimal | int | float) -> str:
    """A short binary size: 512B, 3.4Ki, 120Mi, 7.9Gi."""
    value = float(num_bytes)
    for unit in ("B", "Ki", "Mi", "Gi", "Ti"):
        if abs(value) < 1024 or unit == "Ti":
            return f"{value:.0f}{unit}" if unit == "B" or value >= 100 else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}Ti"
