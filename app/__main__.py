"""Command line entry: settings -> logging -> uvicorn (HTTP) or stdio."""

from __future__ import annotations

import logging
import sys

import anyio
import uvicorn

from app.config import load_settings
from app.errors import ConfigError
from app.observability import configure_logging


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings(argv)
    except ConfigError as e:
        print(f"k8s-mcp: {e}", file=sys.stderr)  # noqa: T201 - before logging exists
        return 2
    configure_logging(settings.log_level)
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


if __name__ == "__main__":
    sys.exit(main())
