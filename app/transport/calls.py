"""The tool-call pipeline: the one place where every call is validated, approved, run, scrubbed and audited.

For each call: correlation id and identity are set; arguments are validated against the spec's model
(one clear line on failure); changes in approval scope are approved (``confirm``: dry-run preview
plus a one-time token, then the real call with the token; ``elicit``: ask the human through the
client, mid-call on a 2025-era session or as an ``InputRequiredResult`` round on 2026-07-28, and
refuse when it cannot ask); the handler runs; its text and structured output are scrubbed
of credentials, and so is every error line and every question put to a human; our errors become one
``isError`` line ``failed to <action>: <reason>``; and one audit
line records who did what with which outcome.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
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

from app import errors, redaction
from app.approval import TOKEN_ARGUMENT, Approvals
from app.config import Settings
from app.identity import Identity, current_identity, identity_key
from app.kube.client import dry_run
from app.observability import Metrics, audit, correlation_id, new_correlation_id, session_id
from app.spec import Deps, ToolResult, ToolSpec

log = logging.getLogger("k8s_mcp.tools")

#: The first protocol revision where a server asks its client by returning an ``InputRequiredResult``.
INPUT_REQUIRED_VERSION = "2026-07-28"
#: The key of our one question in ``input_requests`` / ``input_responses``.
APPROVAL_INPUT = "approval"

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


def caller_identity() -> Identity | None:
    token = get_access_token()
    if token is None:
        return None
    claims = token.claims or {}
    groups = claims.get("groups") or ()
    user = token.subject or token.client_id
    return Identity(user=str(user), groups=tuple(str(g) for g in groups), client_id=str(token.client_id))


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

    def takes_token(self, spec: ToolSpec[Any]) -> bool:
        return self.needs_approval(spec) and self.settings.approval == "confirm"

    async def run(
        self, spec: ToolSpec[Any], arguments: dict[str, Any], headers: Any, ctx: Context | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Run one call of ``spec``; never raises for anything a client could cause."""
        headers = headers or {}
        # The session id keys per-session state (switchContext's default context). Over HTTP it is the
        # Mcp-Session-Id the SDK has already validated (unknown ids get 404 before any tool runs); stdio
        # has exactly one client, hence one fixed key; stateless requests have none ("-").
        stdio = self.settings.transport == "stdio"
        tokens = (
            correlation_id.set(headers.get("x-correlation-id") or new_correlation_id()),
            session_id.set(headers.get("mcp-session-id") or ("stdio" if stdio else "-")),
            current_identity.set(caller_identity()),
        )
        started = time.perf_counter()
        record: dict[str, Any] = {"outcome": "error"}
        self.metrics.inflight.inc()
        try:
            return await self._run(spec, dict(arguments), ctx, record)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.inflight.dec()
            self.metrics.tool_calls.labels(spec.name, record["outcome"]).inc()
            self.metrics.tool_latency.labels(spec.name).observe(elapsed)
            ident = current_identity.get()
            audit(
                "tool call",
                tool=spec.name,
                arguments=redact_arguments(arguments),
                identity=ident.user if ident else None,
                duration_ms=round(elapsed * 1000, 1),
                **record,
            )
            for var, token in zip((correlation_id, session_id, current_identity), tokens, strict=True):
                var.reset(token)  # type: ignore[attr-defined]

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
            if self.needs_approval(spec):
                preview = await self._approve(spec, args, arguments, approval_token, ctx, record)
                if preview is not None:
                    return preview
            result = await spec.handler(args, self.deps)
        except errors.ToolInputError as e:
            record["outcome"] = "invalid"
            return error_result(self._clean(f"failed to {action}: {e}"))
        except errors.PolicyDenied as e:
            record["outcome"] = "denied"
            return error_result(self._clean(f"failed to {action}: {e}"))
        except errors.K8sMcpError as e:
            record["outcome"] = "failed"
            return error_result(self._clean(f"failed to {action}: {e}"))
        except Exception:
            log.exception("tool %s crashed", spec.name)
            return error_result(
                self._clean(f"failed to {action}: internal error (correlation id {correlation_id.get()})")
            )
        record["outcome"] = "ok"
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
        caller = identity_key()
        if token is not None:
            self.approvals.redeem(str(token), caller, spec.name, arguments)
            record["approval"] = "token"
            return None
        preview = await self._preview(spec, args)
        issued = self.approvals.mint(caller, spec.name, arguments)
        record["outcome"] = "previewed"
        record["result"] = self._clean(preview.text)[:2000]
        text = f"PREVIEW ONLY, nothing was changed: {spec.name} needs approval.\n{preview.text}"
        # The approval token is this server's own, minted for this caller to send back: it goes after the
        # scrub, which would otherwise take it for a credential (it is one, but the caller's own).
        how = (
            f'\n\nTo apply it, call {spec.name} again with the same arguments plus approvalToken: "{issued}" '
            f"(valid {self.approvals.ttl_seconds}s, for one call, by you only)."
        )
        return self._success(ToolResult(text, preview.data), trailer=how)

    async def _preview(self, spec: ToolSpec[Any], args: BaseModel) -> ToolResult:
        """The handler as a server-side dry run; a call that cannot be dry-run is described instead."""
        token = dry_run.set(True)
        try:
            return await spec.handler(args, self.deps)
        except errors.PolicyDenied as e:
            if "cannot be previewed" not in str(e):
                raise
            described = json.dumps(redact_arguments(args.model_dump(by_alias=True)), sort_keys=True)
            raise errors.PolicyDenied(
                f"this change cannot be previewed and the server requires confirmation ({spec.name} {described}); "
                "use an approval mode that can ask a human (elicit) or approve it out of band"
            ) from e
        finally:
            dry_run.reset(token)

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
