"""What went wrong, once: the outcome metrics and audit lines record, and the one line the client reads.

Tool calls, resource reads and prompt renders all fail the same way:

| raised | outcome | the client reads |
|---|---|---|
| ``ToolInputError`` | ``invalid`` | ``failed to <what>: <reason>`` |
| ``PolicyDenied`` | ``denied`` | ``failed to <what>: <reason>`` |
| any other ``K8sMcpError`` (not found, forbidden, unreachable, ...) | ``failed`` | ``failed to <what>: <reason>`` |
| anything else (a bug) | ``error`` | ``failed to <what>: internal error (correlation id <id>)`` |

A crash is logged with its trace under the correlation id and never shown. Each primitive then
wraps the line its own way: an ``isError`` result for a tool, a JSON-RPC error for a resource or a
prompt (which code is the transport's choice per primitive, see ``served``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app import errors
from app.scope import correlation_id

log = logging.getLogger("k8s_mcp.calls")

OK = "ok"


def outcome_of(error: BaseException) -> str:
    """The one word that metrics and audit lines record for a call that raised ``error``."""
    if isinstance(error, errors.ToolInputError):
        return "invalid"
    if isinstance(error, errors.PolicyDenied):
        return "denied"
    if isinstance(error, errors.K8sMcpError):
        return "failed"
    return "error"


@dataclass(frozen=True)
class Failure:
    outcome: str
    line: str


def failure(what: str, error: BaseException) -> Failure:
    """The outcome and the client's line for ``error`` raised while trying to ``what``."""
    outcome = outcome_of(error)
    if outcome == "error":
        log.error("failed to %s", what, exc_info=error)
        return Failure(outcome, f"failed to {what}: internal error (correlation id {correlation_id.get()})")
    return Failure(outcome, f"failed to {what}: {error}")
