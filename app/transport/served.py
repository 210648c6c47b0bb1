"""The pipeline every resource read, prompt render and completion goes through (the tools have ``ToolRunner``).

Sets the correlation id, session id and caller identity (so impersonation and audit work exactly as
for tool calls), times and counts the request, writes one audit line, scrubs the text of credentials
unless the server is configured to reveal them, and turns our errors into the one-line protocol
error the SDK expects: a missing object or a bad URI is "not found" (-32602), a policy refusal or a
cluster failure is a resource error (-32603), an unexpected crash is logged and named by its
correlation id only.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from app import errors, redaction
from app.config import Settings
from app.identity import current_identity
from app.observability import Metrics, audit, correlation_id, new_correlation_id, session_id
from app.transport.calls import caller_identity

log = logging.getLogger("k8s_mcp.resources")


@contextlib.contextmanager
def call_scope(headers: Mapping[str, str] | None) -> Iterator[None]:
    """Correlation id, session id and identity for the work done inside, reset afterwards."""
    headers = headers or {}
    tokens = (
        correlation_id.set(headers.get("x-correlation-id") or new_correlation_id()),
        session_id.set(headers.get("mcp-session-id") or "-"),
        current_identity.set(caller_identity()),
    )
    try:
        yield
    finally:
        for var, token in zip((correlation_id, session_id, current_identity), tokens, strict=True):
            var.reset(token)  # type: ignore[attr-defined]


def headers_of(ctx: Context | None) -> Mapping[str, str] | None:
    """The request headers of an SDK Context, when it has a request."""
    try:
        return ctx.headers if ctx is not None else None
    except (AttributeError, LookupError, ValueError):  # no request bound to this context
        return None


class Served:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics

    def clean(self, text: str) -> str:
        return text if self.settings.reveal_secrets else redaction.scrub_text(text)

    async def read(
        self, label: str, uri: str, work: Callable[[], Awaitable[str]], headers: Mapping[str, str] | None = None
    ) -> str:
        """Run a resource read; our errors become ResourceNotFoundError / ResourceError with one line."""
        outcome = "error"
        started = time.perf_counter()
        with call_scope(headers):
            try:
                text = await work()
                outcome = "ok"
                return self.clean(text)
            except (errors.NotFound, errors.ToolInputError) as e:
                outcome = "not_found"
                raise ResourceNotFoundError(self.clean(f"failed to read {uri}: {e}")) from e
            except errors.PolicyDenied as e:
                outcome = "denied"
                raise ResourceError(self.clean(f"failed to read {uri}: {e}")) from e
            except errors.K8sMcpError as e:
                outcome = "failed"
                raise ResourceError(self.clean(f"failed to read {uri}: {e}")) from e
            except Exception as e:
                log.exception("resource read %s crashed", uri)
                message = f"failed to read {uri}: internal error (correlation id {correlation_id.get()})"
                raise ResourceError(self.clean(message)) from e
            finally:
                self._record("resource read", self.metrics.resource_reads, label, outcome, started, resource=uri)

    async def render(
        self,
        name: str,
        arguments: dict[str, Any],
        work: Callable[[], Awaitable[str]],
        headers: Mapping[str, str] | None,
    ) -> str:
        """Run a prompt render; our errors become a JSON-RPC error with one line."""
        outcome = "error"
        started = time.perf_counter()
        with call_scope(headers):
            try:
                text = await work()
                outcome = "ok"
                return self.clean(text)
            except (errors.ToolInputError, errors.NotFound, errors.PolicyDenied) as e:
                outcome = "invalid" if isinstance(e, errors.ToolInputError) else "denied"
                raise MCPError(INVALID_PARAMS, self.clean(f"failed to get prompt {name}: {e}")) from e
            except errors.K8sMcpError as e:
                outcome = "failed"
                raise MCPError(INTERNAL_ERROR, self.clean(f"failed to get prompt {name}: {e}")) from e
            except MCPError:
                raise
            except Exception as e:
                log.exception("prompt %s crashed", name)
                message = f"failed to get prompt {name}: internal error (correlation id {correlation_id.get()})"
                raise MCPError(INTERNAL_ERROR, self.clean(message)) from e
            finally:
                self._record("prompt get", self.metrics.prompt_gets, name, outcome, started, arguments=arguments)

    def _record(self, event: str, counter: Any, label: str, outcome: str, started: float, **fields: Any) -> None:
        elapsed = time.perf_counter() - started
        counter.labels(label, outcome).inc()
        ident = current_identity.get()
        audit(
            event,
            outcome=outcome,
            identity=ident.user if ident else None,
            duration_ms=round(elapsed * 1000, 1),
            **fields,
        )
