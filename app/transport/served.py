"""The pipeline every resource read and prompt render goes through (the tools have ``ToolRunner``).

Each runs inside the request scope the transport entered for its message (``scoping``), so
impersonation, audit and the session's default context work exactly as for tool calls. Here the
work is timed and counted, one audit line is written, the text is scrubbed of credentials unless
the server is configured to reveal them, and errors become the one-line protocol error the SDK
expects (outcome and line from ``outcomes``):

| outcome | resource read | prompt render |
|---|---|---|
| ``invalid`` (a bad URI or argument) | -32602, "not found" | -32602 |
| ``failed``, when the object or namespace does not exist | -32602, "not found" | -32602 |
| ``denied`` (server policy) | -32603 | -32602 |
| ``failed``, any other cluster failure | -32603 | -32603 |
| ``error`` (a bug, named by its correlation id only) | -32603 | -32603 |
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import MCPError
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from app import errors, redaction
from app.config import Settings
from app.observability import Metrics, audit
from app.scope import identity
from app.transport.outcomes import OK, failure


class Served:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics

    def clean(self, text: str) -> str:
        return text if self.settings.reveal_secrets else redaction.scrub_text(text)

    async def read(self, label: str, uri: str, work: Callable[[], Awaitable[str]]) -> str:
        """Run a resource read; errors become ResourceNotFoundError / ResourceError with one line."""
        outcome = "error"
        started = time.perf_counter()
        try:
            text = await work()
            outcome = OK
            return self.clean(text)
        except Exception as e:
            failed = failure(f"read {uri}", e)
            outcome = failed.outcome
            if isinstance(e, errors.NotFound | errors.ToolInputError):
                raise ResourceNotFoundError(self.clean(failed.line)) from e
            raise ResourceError(self.clean(failed.line)) from e
        finally:
            self._record("resource read", self.metrics.resource_reads, label, outcome, started, resource=uri)

    async def render(self, name: str, arguments: dict[str, Any], work: Callable[[], Awaitable[str]]) -> str:
        """Run a prompt render; errors become a JSON-RPC error with one line."""
        outcome = "error"
        started = time.perf_counter()
        try:
            text = await work()
            outcome = OK
            return self.clean(text)
        except MCPError:
            raise
        except Exception as e:
            failed = failure(f"get prompt {name}", e)
            outcome = failed.outcome
            caller_can_fix = isinstance(e, errors.ToolInputError | errors.NotFound | errors.PolicyDenied)
            raise MCPError(INVALID_PARAMS if caller_can_fix else INTERNAL_ERROR, self.clean(failed.line)) from e
        finally:
            self._record("prompt get", self.metrics.prompt_gets, name, outcome, started, arguments=arguments)

    def _record(self, event: str, counter: Any, label: str, outcome: str, started: float, **fields: Any) -> None:
        elapsed = time.perf_counter() - started
        counter.labels(label, outcome).inc()
        caller = identity.get()
        audit(
            event,
            outcome=outcome,
            identity=caller.user if caller else None,
            duration_ms=round(elapsed * 1000, 1),
            **fields,
        )
