"""The tool-call pipeline: the one place where every call is validated, approved, run, scrubbed and audited.

Each call runs inside the request scope the transport entered for its message (``scoping``). Its
arguments are validated once, against the spec's model (one clear line on failure); changes in
approval scope are approved (``confirm``: dry-run preview plus a one-time token, then the real call
with the token; ``elicit``: ask the human through the client, mid-call on a 2025-era session or as an
``InputRequiredResult`` round on 2026-07-28, and refuse when it cannot ask); the handler runs; its
text and structured output are scrubbed of credentials, and so is every error line and every question
put to a human; errors become one ``isError`` line
(``outcomes``); and one audit line records who did what with which outcome (``cancelled`` when the
client cancelled the call: the SDK cancels the handler and sends no result).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import anyio
from mcp.server.elicitation import render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.types import (
    CallToolResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    TextContent,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app import errors, redaction, tracing
from app.approval import TOKEN_ARGUMENT, Approvals
from app.config import Settings
from app.kube.gate import Gate, current_gate
from app.observability import Metrics, audit
from app.rules import Decision
from app.scope import correlation_id, identity, identity_key, previewing
from app.spec import Deps, ToolResult, ToolSpec
from app.transport.outcomes import OK, failure

#: The first protocol revision where a server asks its client by returning an ``InputRequiredResult``.
INPUT_REQUIRED_VERSION = "2026-07-28"
#: The key of our one question in ``input_requests`` / ``input_responses``.
APPROVAL_INPUT = "approval"

#: The outcome of a call its client cancelled, in metrics and audit.
CANCELLED = "cancelled"
#: Outcomes that mark the tool span failed (a preview, a question or a refusal by policy is not a failure).
FAILED_OUTCOMES = frozenset({"error", "failed", "invalid"})

SENSITIVE_ARGS = frozenset({"token", "password", "resource", "values", "approvalToken", "patch", "yamlContent"})


class Confirmation(BaseModel):
    """What the human is asked in ``elicit`` mode."""

    model_config = ConfigDict(title="Approve this change")
    approve: bool = Field(description="Run this change on the cluster?")


def describe_validation_error(error: ValidationError) -> str:
    """The first problem of a pydantic error, as one line a model can act on."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "arguments"
    kind = first["type"]
    if kind == "missing":
        return f"missing required argument '{field}'"
    if kind == "extra_forbidden":
        return f"unknown argument '{field}'"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"invalid argument '{field}': {message}"


def validate_args(spec: ToolSpec[Any], arguments: dict[str, Any] | None) -> BaseModel:
    try:
        args: BaseModel = spec.params.model_validate(arguments or {})
    except ValidationError as e:
        raise errors.ToolInputError(describe_validation_error(e)) from e
    return args


def error_result(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def redact_arguments(arguments: dict[str, Any] | None) -> dict[str, Any]:
    """Arguments fit for an audit line or a question to a human: bulky or secret ones elided, the rest scrubbed."""
    shown = {k: ("<redacted>" if k in SENSITIVE_ARGS else v) for k, v in (arguments or {}).items() if v is not None}
    scrubbed: dict[str, Any] = redaction.scrub_json(shown)
    return scrubbed


class ToolRunner:
    def __init__(self, deps: Deps, metrics: Metrics, settings: Settings, approvals: Approvals) -> None:
        self.deps = deps
        self.metrics = metrics
        self.settings = settings
        self.approvals = approvals

    def needs_approval(self, spec: ToolSpec[Any]) -> bool:
        if spec.read_only or self.settings.approval == "none":
            return False
        return spec.destructive or self.settings.approval_scope == "changes"

    def fallback(self, spec: ToolSpec[Any]) -> Decision:
        """What the approval settings decide for a change of this tool that no approval rule matches."""
        if not self.needs_approval(spec):
            return "allow"
        return "elicit" if self.settings.approval == "elicit" else "confirm"

    def gate(self, spec: ToolSpec[Any]) -> Gate | None:
        """A gate when approval rules can change how a call of this tool is approved; None otherwise."""
        if spec.read_only:
            return None
        decisions = self.settings.rules.decisions_for(spec.name)
        fallback = self.fallback(spec)
        if not decisions or decisions | {fallback} == {"allow"}:
            return None
        return Gate(self.settings.rules, spec.name, fallback)

    def takes_token(self, spec: ToolSpec[Any]) -> bool:
        gate = self.gate(spec)
        if gate is not None:
            return "confirm" in self.settings.rules.decisions_for(spec.name) | {gate.fallback}
        return self.needs_approval(spec) and self.settings.approval == "confirm"

    async def run(
        self, spec: ToolSpec[Any], arguments: dict[str, Any], ctx: Context | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Run one call of ``spec``; never raises for anything a client could cause."""
        started = time.perf_counter()
        record: dict[str, Any] = {"outcome": "error"}
        shown = redact_arguments(arguments)
        self.metrics.inflight.inc()
        with tracing.span(f"execute_tool {spec.name}", attributes=self._span_attributes(spec, shown)) as span:
            try:
                return await self._run(spec, dict(arguments), ctx, record)
            except anyio.get_cancelled_exc_class():
                # The client cancelled (or went away): no result is sent, and a change is never reported done.
                record["outcome"] = CANCELLED
                record.pop("result", None)
                if not spec.read_only:
                    record["detail"] = "cancelled while running; the change may be partly applied"
                raise
            finally:
                elapsed = time.perf_counter() - started
                self.metrics.inflight.dec()
                self.metrics.tool_calls.labels(spec.name, record["outcome"]).inc()
                self.metrics.tool_latency.labels(spec.name).observe(elapsed)
                caller = identity.get()
                tracing.set_attributes(
                    span, {"k8s_mcp.outcome": record["outcome"], "k8s_mcp.approval": record.get("approval")}
                )
                if record["outcome"] in FAILED_OUTCOMES:
                    tracing.mark_error(span, "tool_" + record["outcome"])
                audit(
                    "tool call",
                    tool=spec.name,
                    arguments=shown,
                    identity=caller.user if caller else None,
                    duration_ms=round(elapsed * 1000, 1),
                    **record,
                )

    @staticmethod
    def _span_attributes(spec: ToolSpec[Any], shown: dict[str, Any]) -> dict[str, Any] | None:
        """The tool span's attributes: the arguments exactly as the audit line shows them (redacted)."""
        if not tracing.enabled():
            return None
        return {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": spec.name,
            "k8s_mcp.tool.arguments": json.dumps(shown, sort_keys=True, default=str),
            "k8s_mcp.correlation_id": correlation_id.get(),
        }

    async def _run(
        self, spec: ToolSpec[Any], arguments: dict[str, Any], ctx: Context | None, record: dict[str, Any]
    ) -> CallToolResult | InputRequiredResult:
        approval_token = arguments.pop(TOKEN_ARGUMENT, None) if self.takes_token(spec) else None
        try:
            args = validate_args(spec, arguments)
        except errors.ToolInputError as e:
            record["outcome"] = "invalid"
            return error_result(self._clean(f"invalid arguments for {spec.name}: {e}"))
        action = spec.describe(args)
        try:
            gate = self.gate(spec)
            if gate is not None:
                ruled = await self._ruled(spec, args, arguments, approval_token, ctx, record, gate)
                if not isinstance(ruled, ToolResult):
                    return ruled
                result = ruled
            else:
                if self.needs_approval(spec):
                    preview = await self._approve(spec, args, arguments, approval_token, ctx, record)
                    if preview is not None:
                        return preview
                result = await spec.handler(args, self.deps)
        except Exception as e:  # noqa: BLE001 - failure() logs an unexpected one with its trace
            failed = failure(action, e)
            record["outcome"] = failed.outcome
            return error_result(self._clean(failed.line))
        record["outcome"] = OK
        if not spec.read_only:
            record["result"] = self._clean(result.text)[:2000]
        return self._success(result)

    async def _approve(
        self,
        spec: ToolSpec[Any],
        args: BaseModel,
        arguments: dict[str, Any],
        token: Any,
        ctx: Context | None,
        record: dict[str, Any],
    ) -> CallToolResult | InputRequiredResult | None:
        """None when the call may proceed; otherwise what to return instead (a preview, or a question)."""
        if self.settings.approval == "elicit":
            question = await self._elicit(spec, args, ctx)
            if question is not None:
                record["outcome"] = "asked"
                return question
            record["approval"] = "elicited"
            return None
        if token is not None:
            await self.approvals.redeem(str(token), identity_key(), spec.name, arguments)
            record["approval"] = "token"
            return None
        return self._previewed(spec, await self._preview(spec, args), arguments, record)

    def _previewed(
        self, spec: ToolSpec[Any], preview: ToolResult, arguments: dict[str, Any], record: dict[str, Any], why: str = ""
    ) -> CallToolResult:
        """The preview with a one-time token for the same call."""
        issued = self.approvals.mint(identity_key(), spec.name, arguments)
        record["outcome"] = "previewed"
        record["result"] = self._clean(preview.text)[:2000]
        text = f"PREVIEW ONLY, nothing was changed: {spec.name} needs approval{why}.\n{preview.text}"
        # The approval token is this server's own, minted for this caller to send back: it goes after the
        # scrub, which would otherwise take it for a credential (it is one, but the caller's own).
        how = (
            f'\n\nTo apply it, call {spec.name} again with the same arguments plus approvalToken: "{issued}" '
            f"(valid {self.approvals.ttl_seconds}s, for one call, by you only)."
        )
        return self._success(ToolResult(text, preview.data), trailer=how)

    async def _ruled(
        self,
        spec: ToolSpec[Any],
        args: BaseModel,
        arguments: dict[str, Any],
        token: Any,
        ctx: Context | None,
        record: dict[str, Any],
        gate: Gate,
    ) -> ToolResult | CallToolResult | InputRequiredResult:
        """A call under approval rules: survey its changes in a dry run, obtain the strongest decision, run it.

        A ``deny`` stops the survey (nothing was changed); ``confirm`` returns the survey as the preview
        with a token; ``elicit`` asks the human; ``allow`` runs. The real run is judged again against
        what was granted, so it cannot change more than was approved.
        """
        granted: Decision
        if token is not None:
            await self.approvals.redeem(str(token), identity_key(), spec.name, arguments)
            record["approval"], granted = "token", "confirm"
        else:
            survey = Gate(gate.book, gate.tool, gate.fallback)
            previewed = await self._survey(spec, args, survey)
            verdict = survey.strongest()
            if verdict.rule:
                record["rule"] = verdict.rule
            why = f" ({verdict.rule})" if verdict.rule else ""
            if verdict.decision == "confirm":
                if previewed is None:
                    raise errors.PolicyDenied(
                        f"this change cannot be previewed and needs confirmation{why}; "
                        "use a rule or approval mode that asks a human (elicit)"
                    )
                return self._previewed(spec, previewed, arguments, record, why)
            if verdict.decision == "elicit":
                question = await self._elicit(spec, args, ctx)
                if question is not None:
                    record["outcome"] = "asked"
                    return question
                record["approval"], granted = "elicited", "elicit"
            else:
                granted = "allow"
        reset = current_gate.set(Gate(gate.book, gate.tool, gate.fallback, granted=granted))
        try:
            return await spec.handler(args, self.deps)
        finally:
            current_gate.reset(reset)

    async def _survey(self, spec: ToolSpec[Any], args: BaseModel, survey: Gate) -> ToolResult | None:
        """The handler as a dry run under a surveying gate; None when the call cannot be dry-run to the end."""
        reset = current_gate.set(survey)
        try:
            with previewing():
                return await spec.handler(args, self.deps)
        except errors.PolicyDenied as e:
            if "cannot be previewed" not in str(e):
                raise
            return None
        finally:
            current_gate.reset(reset)

    async def _preview(self, spec: ToolSpec[Any], args: BaseModel) -> ToolResult:
        """The handler as a server-side dry run; a call that cannot be dry-run is described instead."""
        try:
            with previewing():
                return await spec.handler(args, self.deps)
        except errors.PolicyDenied as e:
            if "cannot be previewed" not in str(e):
                raise
            described = json.dumps(redact_arguments(args.model_dump(by_alias=True)), sort_keys=True)
            raise errors.PolicyDenied(
                f"this change cannot be previewed and the server requires confirmation ({spec.name} {described}); "
                "use an approval mode that can ask a human (elicit) or approve it out of band"
            ) from e

    async def _elicit(self, spec: ToolSpec[Any], args: BaseModel, ctx: Context | None) -> InputRequiredResult | None:
        """None once the human approved; the question to return on 2026-07-28; PolicyDenied otherwise."""
        capabilities = ctx.client_capabilities if ctx is not None else None
        if ctx is None or capabilities is None or capabilities.elicitation is None:
            raise errors.PolicyDenied("this change needs a human's approval and the client cannot ask for it")
        described = json.dumps(redact_arguments(args.model_dump(by_alias=True)), sort_keys=True)
        question = f"Allow {spec.name} {described} on the cluster?"
        if ctx.protocol_version and is_version_at_least(ctx.protocol_version, INPUT_REQUIRED_VERSION):
            return self._ask_by_input_required(question, ctx)
        try:
            answer = await ctx.elicit(question, Confirmation)
        except Exception as e:  # the client could not be asked: refuse, never allow
            raise errors.PolicyDenied("this change needs a human's approval and the client could not ask") from e
        if answer.action != "accept" or not answer.data.approve:
            raise errors.PolicyDenied("the change was not approved")
        return None

    @staticmethod
    def _ask_by_input_required(question: str, ctx: Context) -> InputRequiredResult | None:
        """The 2026-07-28 way to ask: return the question; the client retries the call with the answer.

        The SDK seals ``request_state`` and binds it to this tool, these arguments and the caller, so an
        answer only counts when it comes back with the state minted for this very question; anything
        else (no answer, an answer without that state) asks again.
        """
        asked = hashlib.sha256(question.encode()).hexdigest()
        answer = (ctx.input_responses or {}).get(APPROVAL_INPUT)
        if answer is None or ctx.request_state != asked:
            request = ElicitRequest(
                params=ElicitRequestFormParams(
                    message=question, requested_schema=render_elicitation_schema(Confirmation)
                )
            )
            return InputRequiredResult(input_requests={APPROVAL_INPUT: request}, request_state=asked)
        content = answer.content if isinstance(answer, ElicitResult) and answer.action == "accept" else None
        if not content or content.get("approve") is not True:
            raise errors.PolicyDenied("the change was not approved")
        return None

    def _clean(self, text: str) -> str:
        return text if self.settings.reveal_secrets else redaction.scrub_text(text)

    def _success(self, result: ToolResult, trailer: str = "") -> CallToolResult:
        """The result, scrubbed; ``trailer`` is our own text for the caller and is added after the scrub."""
        data = result.data.model_dump(mode="json", by_alias=True)
        if not self.settings.reveal_secrets:
            data = redaction.scrub_json(data)
        return CallToolResult(
            content=[TextContent(type="text", text=self._clean(result.text) + trailer)], structured_content=data
        )
