"""Pure rendering of Helm answers: compact release summaries, short times, the same text for every change tool."""

from __future__ import annotations

import re
from typing import Any

from app import output
from app.shapes import HelmReleaseOutput

_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?")


def short_time(value: Any) -> str:
    """'2026-11-23 13:28:53.92 +0000 UTC' or RFC 3339 -> '2026-11-23T13:28:53Z'."""
    text = str(value or "")
    match = _TIME.match(text)
    if not match:
        return text
    zone = match.group(3) or ""
    if zone in ("Z", "+0000", "+00:00", "-0000"):
        zone = "Z"
    elif zone and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{match.group(1)}T{match.group(2)}{zone}"


def release_output(status: dict[str, Any], *, dry_run: bool = False, message: str | None = None) -> HelmReleaseOutput:
    info = status.get("info") or {}
    meta = (status.get("chart") or {}).get("metadata") or {}
    chart = f"{meta['name']}-{meta['version']}" if meta.get("name") and meta.get("version") else None
    manifest = str(status.get("manifest") or "")
    return HelmReleaseOutput(
        name=str(status.get("name", "")),
        namespace=str(status.get("namespace", "")),
        revision=status.get("version"),
        status=str(info.get("status", "unknown")),
        chart=chart,
        app_version=meta.get("appVersion") or None,
        updated=short_time(info.get("last_deployed")) or None,
        description=info.get("description") or None,
        notes=(str(info.get("notes")).strip() or None) if info.get("notes") else None,
        resources=output.manifest_objects(manifest),
        dry_run=dry_run,
        message=message,
        manifest=output.redact_manifest(manifest) if dry_run and manifest else None,
    )


def release_text(rel: HelmReleaseOutput, max_chars: int) -> str:
    lines = [f"{rel.message}", ""] if rel.message else []
    lines += [f"NAME: {rel.name}", f"NAMESPACE: {rel.namespace}", f"REVISION: {rel.revision}", f"STATUS: {rel.status}"]
    if rel.chart:
        lines.append(f"CHART: {rel.chart}" + (f" (app version {rel.app_version})" if rel.app_version else ""))
    if rel.updated:
        lines.append(f"UPDATED: {rel.updated}")
    if rel.description:
        lines.append(f"DESCRIPTION: {rel.description}")
    lines.append(f"RESOURCES: {', '.join(rel.resources) if rel.resources else '<none>'}")
    if rel.notes:
        lines += ["NOTES:", rel.notes]
    if rel.manifest:
        lines += ["MANIFEST:", rel.manifest.rstrip("\n")]
    text, _ = output.cap_text("\n".join(lines), max_chars, hint="use helm_get_manifest for the objects")
    return text
