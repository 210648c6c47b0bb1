"""Pure rendering of what tools return: compact tables, YAML objects, redaction and size caps.

Nothing here does I/O. Tables come from the API server's own Table rendering (the columns
``kubectl get`` shows); single objects become YAML without ``managedFields``; Secret values never
leave in clear; every text is capped, and the cap is always announced with the way to get the rest.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

import yaml

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
Cell = str | int | float | bool | None


def redact_object(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy fit to show: no managedFields, no last-applied copy, no Secret values."""
    out = copy.deepcopy(obj)
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
    return out


class _Dumper(yaml.SafeDumper):
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


def render_table(table: Table, *, noun: str, where: str, max_chars: int) -> Rendered:
    """kubectl-like aligned columns, capped at ``max_chars`` on a row boundary."""
    if not table.rows:
        return Rendered(f"No {noun} found{where}.")
    texts = [[_cell_text(c) for c in row] for row in table.rows]
    widths = [len(h) for h in table.columns]
    for row in texts:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "   ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    lines = [line(table.columns)]
    used = len(lines[0]) + 1
    shown = 0
    for row in texts:
        rendered = line(row)
        if used + len(rendered) + 1 > max_chars:
            break
        lines.append(rendered)
        used += len(rendered) + 1
        shown += 1
    notes = _list_notes(table, shown=shown, noun=noun)
    return Rendered("\n".join(lines + notes), table.rows[:shown], truncated=shown < len(table.rows))


def _list_notes(table: Table, *, shown: int, noun: str) -> list[str]:
    notes: list[str] = []
    hidden = len(table.rows) - shown
    if hidden:
        notes.append(
            f"[output capped: {hidden} more {noun} fetched but not shown; narrow with labelSelector/"
            f"fieldSelector or pass a smaller limit]"
        )
    if table.continue_token:
        more = f"{table.remaining} more" if table.remaining else "more"
        notes.append(f'[{more} {noun} on the server: call again with continue="{table.continue_token}"]')
    return notes


def cap_text(text: str, max_chars: int, *, hint: str) -> tuple[str, bool]:
    """Cut ``text`` at a line boundary within ``max_chars`` and say what was left out."""
    if len(text) <= max_chars:
        return text, False
    cut = text.rfind("\n", 0, max_chars)
    cut = cut if cut > 0 else max_chars
    omitted = len(text) - cut
    return f"{text[:cut]}\n[output capped: {omitted} more characters not shown; {hint}]", True


def cap_tail(text: str, max_chars: int, *, hint: str) -> tuple[str, bool]:
    """Keep the LAST lines of ``text`` within ``max_chars`` (logs: the newest matter most) and say,
    on a closing line, how much earlier text was left out."""
    if len(text) <= max_chars:
        return text, False
    start = text.find("\n", len(text) - max_chars)
    start = start + 1 if start >= 0 else len(text) - max_chars
    omitted = text[:start]
    lines = omitted.count("\n") + (0 if omitted.endswith("\n") or not omitted else 1)
    note = f"[output capped: {lines} earlier lines ({len(omitted)} characters) not shown; {hint}]"
    return f"{text[start:]}\n{note}" if not text.endswith("\n") else f"{text[start:]}{note}", True


# -- kubeconfig redaction -------------------------------------------------------------------------

REDACTED = "REDACTED"
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
    ``REDACTED`` (``DATA+OMITTED`` for certificate data, as ``kubectl config view`` prints). Exec
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
                    cluster[key] = REDACTED
    for entry in out.get("users") or []:
        if isinstance(entry, dict) and isinstance(entry.get("user"), dict):
            entry["user"] = _redact_user(entry["user"])
    if "extensions" in out:
        out["extensions"] = REDACTED
    swept = _sweep(out)
    assert isinstance(swept, dict)
    return swept


def _redact_user(user: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in user.items():
        if key not in _SAFE_USER_KEYS:
            shown[key] = DATA_OMITTED if key == "client-certificate-data" else REDACTED
        elif key == "exec" and isinstance(value, dict):
            shown[key] = _redact_exec(value)
        elif key == "auth-provider" and isinstance(value, dict):
            raw = value.get("config")
            config: dict[str, Any] = raw if isinstance(raw, dict) else {}
            shown[key] = {
                "name": value.get("name"),
                "config": {k: (v if k in _SAFE_AUTH_PROVIDER_CONFIG else REDACTED) for k, v in config.items()},
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
        shown["env"] = [{"name": e.get("name"), "value": REDACTED} for e in env if isinstance(e, dict)]
    return shown


def _redact_args(args: list[str]) -> list[str]:
    """``--token=x`` and ``--token x`` lose their values; harmless flags stay readable."""
    shown: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            shown.append(REDACTED)
            hide_next = False
            continue
        flag, sep, _ = arg.partition("=")
        secret_flag = flag.startswith("-") and any(word in flag.lower() for word in _SECRET_WORDS)
        if secret_flag and sep:
            shown.append(f"{flag}={REDACTED}")
        elif secret_flag:
            shown.append(arg)
            hide_next = True
        else:
            shown.append(REDACTED if _looks_secret(arg) else arg)
    return shown


def _strip_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://{REDACTED}@{rest.split('@', 1)[1]}"
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
    if isinstance(value, str) and value not in (REDACTED, DATA_OMITTED) and _looks_secret(value):
        return REDACTED
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
