"""Every way text leaves the server goes through the scrub: tool text and structured content (pod logs,
exec output), error lines of every kind, the question put to a human, audit lines and log lines.

The tool pipeline (``ToolRunner``) is the real one; the tools here are stand-ins whose handlers return
a planted log or raise a planted error, since what is under test is the pipeline every tool result
passes, not a handler. No cluster is involved (the integration corpus test plants the same values in
real objects and reads them back through every tool and resource).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from mcp.types import InputRequiredResult

from app import args as p
from app import errors
from app.approval import Approvals
from app.config import Settings
from app.observability import Metrics, audit, configure_logging
from app.redaction import scrub_json
from app.shapes import LogOutput
from app.spec import ToolResult, ToolSpec
from app.transport.calls import ToolRunner
from tests.redaction_corpus import PLANTS

LOG = "\n".join(f"2026-01-01T00:00:{i:02d}Z INFO {plant.name}: {plant.value}" for i, plant in enumerate(PLANTS))
SECRETS = [plant.secret for plant in PLANTS]


class _Args(p.Args):
    target: str = ""


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def _spec(handler: Any, *, read_only: bool = True, destructive: bool = False) -> ToolSpec[Any]:
    return ToolSpec(
        name="probe",
        title="probe",
        description="probe",
        params=_Args,
        output=LogOutput,
        handler=handler,
        action=lambda a: f"probe {a.target}",
        read_only=read_only,
        destructive=destructive,
    )


def _runner(**settings: Any) -> ToolRunner:
    return ToolRunner(None, Metrics(), Settings(**settings), Approvals(None, 60))  # type: ignore[arg-type]


def _call(runner: ToolRunner, spec: ToolSpec[Any], arguments: dict[str, Any], ctx: Any = None) -> Any:
    async def go() -> Any:
        return await runner.run(spec, arguments, ctx)

    return anyio.run(go)


def test_a_pod_log_full_of_credentials_leaves_as_text_and_structured_content_without_them() -> None:
    async def pods_log(args: _Args, deps: Any) -> ToolResult:
        data = LogOutput(name="web", namespace="shop", container="app", lines=len(PLANTS), truncated=False, log=LOG)
        return ToolResult(LOG, data)

    result = _call(_runner(), _spec(pods_log), {})
    text = result.content[0].text
    assert not result.is_error and not _leaks(text), _leaks(text)
    assert not _leaks(json.dumps(result.structured_content))
    assert result.structured_content["lines"] == len(PLANTS)
    assert "postgres://admin:<redacted>@db:5432/app" in text


def test_with_reveal_secrets_the_log_is_shown_as_it_is() -> None:
    async def pods_log(args: _Args, deps: Any) -> ToolResult:
        return ToolResult(LOG, LogOutput(name="web", lines=1, truncated=False, log=LOG))

    result = _call(_runner(reveal_secrets=True), _spec(pods_log), {})
    assert result.content[0].text == LOG


@pytest.mark.parametrize(
    "error",
    [errors.PolicyDenied, errors.ToolInputError, errors.KubeError, errors.NotFound],
)
def test_error_lines_of_every_kind_are_scrubbed(error: type[Exception]) -> None:
    async def failing(args: _Args, deps: Any) -> ToolResult:
        raise error(f"cannot use {PLANTS[0].value} or {PLANTS[6].value}")

    result = _call(_runner(), _spec(failing), {"target": PLANTS[1].value})
    text = result.content[0].text
    assert result.is_error and text.startswith("failed to probe redis://:<redacted>@redis"), text
    assert not _leaks(text), text


def test_the_question_put_to_a_human_is_scrubbed() -> None:
    async def change(args: _Args, deps: Any) -> ToolResult:
        raise AssertionError("must not run before approval")

    ctx = SimpleNamespace(
        client_capabilities=SimpleNamespace(elicitation=object()),
        protocol_version="2026-07-28",
        input_responses=None,
        request_state=None,
    )
    runner = _runner(approval="elicit", enable_destructive_operations=True)
    asked = _call(runner, _spec(change, read_only=False, destructive=True), {"target": PLANTS[0].value}, ctx)
    assert isinstance(asked, InputRequiredResult)
    question = asked.input_requests["approval"].params.message
    assert "postgres://admin:<redacted>@db:5432/app" in question and not _leaks(question), question


def test_a_preview_is_scrubbed_but_keeps_the_approval_token_its_caller_must_send_back() -> None:
    async def change(args: _Args, deps: Any) -> ToolResult:
        data = LogOutput(name="web", lines=1, truncated=False, log=PLANTS[0].value)
        return ToolResult(f"would connect to {PLANTS[0].value}", data)

    runner = _runner(approval="confirm", enable_destructive_operations=True)
    spec = _spec(change, read_only=False, destructive=True)
    preview = _call(runner, spec, {"target": "db"})
    text = preview.content[0].text
    assert text.startswith("PREVIEW ONLY") and not _leaks(text), text
    token = text.split('approvalToken: "')[1].split('"')[0]
    assert "redacted" not in token
    done = _call(runner, spec, {"target": "db", "approvalToken": token})
    assert not done.is_error and done.content[0].text == "would connect to postgres://admin:<redacted>@db:5432/app"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", stream, scrub=scrub_json)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


def test_log_lines_audit_lines_and_tracebacks_are_scrubbed_and_stay_json(log_stream: io.StringIO) -> None:
    log = logging.getLogger("k8s_mcp.test")
    log.info("connecting to %s", PLANTS[0].value)
    try:
        raise RuntimeError(f"handshake with {PLANTS[15].value} failed")
    except RuntimeError:
        log.exception("crashed")
    audit("tool call", tool="probe", arguments={"target": PLANTS[2].value}, result=LOG)
    lines = log_stream.getvalue().splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert not _leaks(log_stream.getvalue()), _leaks(log_stream.getvalue())
    assert records[0]["message"] == "connecting to postgres://admin:<redacted>@db:5432/app"
    assert "RuntimeError: handshake with <redacted github-pat> failed" in records[1]["exc_info"]
    assert records[2]["arguments"] == {"target": "amqp://guest:<redacted>@mq:5672/"}
