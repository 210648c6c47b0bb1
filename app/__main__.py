"""Command line entries: ``k8s-mcp`` (settings -> logging -> tracing -> uvicorn or stdio) and ``k8s-mcp-preflight``.

Shutdown is graceful (``GracefulServer``): on SIGTERM (or Ctrl+C) the server turns unready and stops
opening sessions, keeps serving for ``shutdown_delay_seconds`` so load balancers notice, then stops
listening once the requests in flight have finished, waiting at most ``shutdown_grace_seconds``. A
second signal ends the wait.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

import anyio
import uvicorn

from app import tracing
from app.config import Settings, load_settings
from app.errors import ConfigError, K8sMcpError
from app.observability import configure_logging
from app.redaction import scrub_json

log = logging.getLogger("k8s_mcp.server")


class GracefulServer(uvicorn.Server):
    """uvicorn, with a drain between the first signal and the shutdown it would start at once."""

    def __init__(self, config: uvicorn.Config, drain: Any, settings: Settings) -> None:
        super().__init__(config)
        self._drain = drain
        self._delay = settings.shutdown_delay_seconds
        self._grace = settings.shutdown_grace_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig in (signal.SIGTERM, signal.SIGINT) and not self._drain.draining:
            self._drain.begin()  # only flags are set here: this runs inside a signal handler
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        since = self._drain.since
        if since is not None and not self.should_exit:
            waited = time.monotonic() - since
            if counter % 10 == 0:
                log.info(
                    "shutting down: unready, finishing requests in flight",
                    extra={"inflight": self._drain.inflight, "waited_s": round(waited, 1)},
                )
            if waited >= self._delay and (self._drain.inflight == 0 or waited >= self._delay + self._grace):
                # What is left of the grace period bounds uvicorn's own wait for open connections
                # (standing GET streams of 2025-era sessions never end by themselves).
                left = self._delay + self._grace - waited
                self.config.timeout_graceful_shutdown = max(1, int(left)) if self._drain.inflight else 1
                self.should_exit = True
        return await super().on_tick(counter)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Start-up without the cyclic garbage collector; what start-up made is then frozen out of its scans.

    Importing the SDK and our modules makes a few hundred thousand long-lived objects (protocol and tool
    models, schemas, compiled rules), and the collector walks all of them again at each of its full
    passes while they are being made: about a quarter of the import time (bench/startup_profile.py,
    with and without). Start-up makes little cyclic garbage, so nothing is lost by waiting; ``gc.freeze``
    then moves everything made so far into the permanent generation, which no later collection scans.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    with collector_paused():
        try:
            settings = load_settings(argv)
        except ConfigError as e:
            print(f"k8s-mcp: {e}", file=sys.stderr)  # noqa: T201 - before logging exists
            return 2
        configure_logging(settings.log_level, scrub=scrub_json)  # logs are scrubbed even with reveal_secrets
        from app.server import assemble, create_app, serve_stdio
        from app.transport.mcp_server import server_version

        try:
            described = tracing.configure(version=server_version(), stdout_is_protocol=settings.transport == "stdio")
            if described:
                logging.getLogger("k8s_mcp.server").info(described)
            if settings.transport == "stdio":
                parts = assemble(settings)
            else:
                app = create_app(settings)
        except ConfigError as e:  # a tool or toolset name the catalog does not know; a bad OTEL_* value
            print(f"k8s-mcp: {e}", file=sys.stderr)  # noqa: T201 - a start-up refusal, like the one above
            return 2
    try:
        if settings.transport == "stdio":
            anyio.run(serve_stdio, parts)
            return 0
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_seconds)),
            lifespan="on",
        )
        GracefulServer(config, app.state.drain, settings).run()
    finally:
        tracing.shutdown()
    _exit_despite_abandoned_threads()
    log.info("exited")
    return 0


def _exit_despite_abandoned_threads() -> None:
    """End the process even when a worker thread still runs a call that was cut off at the end of the grace
    period (an exec or an API call abandoned on cancel): Python would otherwise wait for it at exit, and
    the grace period would bound nothing."""
    busy = [t for t in threading.enumerate() if t.is_alive() and not t.daemon and t is not threading.main_thread()]
    if not busy:
        return
    log.warning(
        "not waiting for worker threads still alive at exit",
        extra={"threads": len(busy), "names": sorted({t.name for t in busy})},
    )
    log.info("exited")
    logging.shutdown()
    os._exit(0)


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
