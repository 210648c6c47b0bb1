"""Command line entries: ``k8s-mcp`` (settings -> logging -> uvicorn or stdio) and ``k8s-mcp-preflight``."""

from __future__ import annotations

import logging
import sys

import anyio
import uvicorn

from app.config import load_settings
from app.errors import ConfigError, K8sMcpError
from app.observability import configure_logging
from app.redaction import scrub_json


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings(argv)
    except ConfigError as e:
        print(f"k8s-mcp: {e}", file=sys.stderr)  # noqa: T201 - before logging exists
        return 2
    configure_logging(settings.log_level, scrub=scrub_json)  # logs are scrubbed even with reveal_secrets
    from app.server import assemble, create_app

    try:
        if settings.transport == "stdio":
            parts = assemble(settings)
        else:
            app = create_app(settings)
    except ConfigError as e:  # a tool or toolset name the catalog does not know
        print(f"k8s-mcp: {e}", file=sys.stderr)  # noqa: T201 - a start-up refusal, like the one above
        return 2
    if settings.transport == "stdio":
        anyio.run(parts.mcp.run_stdio_async)
        return 0
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    logging.getLogger("k8s_mcp.server").info("exited")
    return 0


def preflight(argv: list[str] | None = None) -> int:
    """``k8s-mcp-preflight [server args]``: check the credentials the server would use and say so in one
    line on stderr (never a secret); exit 1 with the reason when it could not authenticate. The
    container entrypoint runs it with the server's own arguments before exec'ing the server."""
    try:
        settings = load_settings(argv)
    except ConfigError as e:
        print(f"k8s-mcp: {e}", file=sys.stderr)  # noqa: T201 - a start-up line, before logging exists
        return 2
    from app.kube.preflight import check_credentials

    try:
        summary = check_credentials(settings)
    except K8sMcpError as e:
        print(f"k8s-mcp: cannot start: {e}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"k8s-mcp: {summary.line()}", file=sys.stderr)  # noqa: T201
    for warning in summary.warnings:
        print(f"k8s-mcp: warning: {warning}", file=sys.stderr)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
