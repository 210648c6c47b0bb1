"""Translate Kubernetes API failures into our exception tree, once, as one readable line.

The API server answers failures with a ``Status`` object whose ``message`` is already the line a
human needs ("pods \"x\" not found"). We keep that line and drop everything else: no raw bodies,
no headers, no stack traces reach a client.
"""

from __future__ import annotations

import json
from typing import Any

from app import errors

_BY_STATUS: dict[int, type[errors.KubeError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    409: errors.Conflict,
    422: errors.Invalid,
}


def status_message(body: bytes | str | None, fallback: str) -> str:
    """The ``message`` of a Status body, squeezed to one line; ``fallback`` when there is none."""
    if not body:
        return fallback
    try:
        parsed: Any = json.loads(body)
    except (ValueError, TypeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        text = " ".join(text.split())
        return text[:300] if text and not text.startswith("<") else fallback
    message = parsed.get("message") if isinstance(parsed, dict) else None
    return " ".join(str(message).split())[:500] if message else fallback


def status_causes(body: bytes | str | None) -> list[str]:
    """The ``details.causes[].message`` lines of a Status body (e.g. which disruption budget refused an eviction)."""
    try:
        parsed: Any = json.loads(body) if body else None
    except (ValueError, TypeError):
        return []
    details = parsed.get("details") if isinstance(parsed, dict) else None
    causes = details.get("causes") if isinstance(details, dict) else None
    return [" ".join(str(c["message"]).split())[:300] for c in causes or [] if isinstance(c, dict) and c.get("message")]


def from_status(status: int, body: bytes | str | None, reason: str | None) -> errors.KubeError:
    message = status_message(body, reason or f"HTTP {status}")
    if status == 429:  # an eviction refused by a budget says which one only in its causes
        message = " ".join([message, *(f"({cause})" for cause in status_causes(body)[:3])])
    if status == 403 and "read-only" in message:
        return errors.Forbidden(message)
    if status >= 500 or status == 429:
        return errors.Unavailable(f"the API server answered {status}: {message}", status=status)
    return _BY_STATUS.get(status, errors.KubeError)(message, status=status)


def from_transport(exc: BaseException, server: str) -> errors.KubeError:
    """A connection-level failure (refused, DNS, TLS, timeout) as one line naming the server."""
    name = type(exc).__name__
    text = str(exc)
    if "Timeout" in name or "timed out" in text:
        return errors.Timeout(f"the API server at {server} did not answer in time")
    if "SSL" in name or "CERTIFICATE" in text.upper():
        return errors.Unavailable(f"TLS handshake with the API server at {server} failed")
    if "Connection refused" in text or "NewConnectionError" in text:
        return errors.Unavailable(f"cannot reach the API server at {server}: connection refused")
    if "Name or service not known" in text or "NameResolution" in text:
        return errors.Unavailable(f"cannot reach the API server at {server}: host name not found")
    return errors.Unavailable(f"cannot reach the API server at {server}: {name}")
