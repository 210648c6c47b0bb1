"""The one choke point for every Kubernetes API call.

Every request, whatever tool makes it, passes through ``Kube.request``: the policy check on the verb,
the approval rules (``app.kube.gate``), the choice of context, the offload to a worker thread with a
timeout, the translation of failures into our exception tree, the metrics and the log line carrying
the correlation id. Responses stay
raw JSON (no model objects) because that is what the renderers want and it is the fast path.
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import urllib3
from kubernetes.client.exceptions import ApiException
from opentelemetry.trace import Span, SpanKind

from app import errors, tracing
from app.config import Settings
from app.kube import errors as kube_errors
from app.kube.contexts import ContextInfo, Contexts
from app.kube.gate import judge_request
from app.observability import Metrics
from app.policy import READ_VERBS, Policy, Target
from app.scope import dry_run_active, identity

log = logging.getLogger("k8s_mcp.kube")

#: The API server honours ``dryRun`` on evictions (the budget is checked, nothing is evicted), not on these.
NO_DRY_RUN_SUBRESOURCES = ("/exec", "/attach", "/portforward", "/proxy")

JSON = "application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Kube:
    """Async access to one or more clusters; thread-offloaded, timed, translated, counted."""

    def __init__(self, settings: Settings, metrics: Metrics, policy: Policy) -> None:
        self.settings = settings
        self.contexts = Contexts(settings)
        self._metrics = metrics
        self._policy = policy
        self._limiter = anyio.CapacityLimiter(32)
        #: Exec streams hold a worker thread for up to their timeout: a pool of their own, so a few
        #: long commands cannot starve ordinary API calls.
        self.stream_limiter = anyio.CapacityLimiter(8)

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def metrics(self) -> Metrics:
        return self._metrics

    def context(self, name: str | None) -> ContextInfo:
        return self.contexts.resolve(name)

    def default_namespace(self, context: str | None) -> str:
        return self.contexts.resolve(context).namespace

    async def request(
        self,
        method: str,
        path: str,
        *,
        context: str | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
        accept: str = JSON,
        content_type: str | None = None,
        timeout: float | None = None,
        anonymous: bool = False,
    ) -> Response:
        """One API call. ``anonymous`` (the readiness probe only) sends it as no caller: with the server's
        own credentials, or in passthrough mode with none at all."""
        method = method.upper()
        self._policy.check_request(method, path, body)
        judge_request(method, path, body)  # the approval rules, on the object this request changes
        # While a change is previewed (``app.scope.previewing``) every mutating request is sent with
        # ``dryRun=All``: the API server validates and answers but persists nothing.
        if dry_run_active() and method not in READ_VERBS:
            if path.rstrip("/").endswith(NO_DRY_RUN_SUBRESOURCES) or "/proxy/" in path:
                raise errors.PolicyDenied(f"{method} {path} cannot be previewed; it was not sent")
            query = {**(query or {}), "dryRun": "All"}
        seconds = timeout or self.settings.api_timeout
        params = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
        headers = {"Accept": accept}
        groups = () if anonymous else caller_headers(self.settings, headers)
        if body is not None:
            headers["Content-Type"] = content_type or JSON
        return await self._call(method, path, context, False, params, headers, groups, body, seconds, None)

    async def own_request(
        self,
        method: str,
        path: str,
        *,
        purpose: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Response:
        """A request for the server's own bookkeeping (the approval ledger), not for a caller.

        It runs with the server's own credentials in its default context, never impersonating the caller
        and never in a session's switched context; the tool policy (read-only, namespaces, kinds) and dry
        runs do not apply, because no tool asked for it. Timeouts, metrics, logs and traces are the same
        as for every other call. Tools must not use this: their requests go through ``request``.
        """
        method = method.upper()
        params = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
        headers = {"Accept": JSON}
        if body is not None:
            headers["Content-Type"] = JSON
        return await self._call(method, path, None, True, params, headers, (), body, self.settings.api_timeout, purpose)

    async def _call(
        self,
        method: str,
        path: str,
        context: str | None,
        own: bool,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        groups: tuple[str, ...],
        body: Any,
        seconds: float,
        purpose: str | None,
    ) -> Response:
        started = time.perf_counter()
        status = "error"
        target = _Target()
        with _kube_span(method, path, purpose, params) as span:
            try:
                with anyio.fail_after(seconds + 2):
                    # One trip to a worker thread for the whole call: choosing the context (a stat of the
                    # kubeconfig), the client and the request itself; each extra trip costs a thread hand-off.
                    response = await anyio.to_thread.run_sync(
                        partial(
                            self._resolve_and_send,
                            target,
                            context,
                            own,
                            method,
                            path,
                            params,
                            headers,
                            groups,
                            body,
                            seconds,
                        ),
                        limiter=self._limiter,
                        abandon_on_cancel=True,
                    )
            except TimeoutError as e:
                status = "timeout"
                raise errors.Timeout(f"the API server did not answer within {seconds:g}s") from e
            except (urllib3.exceptions.HTTPError, OSError, ApiException) as e:
                status = "unreachable"
                raise kube_errors.from_transport(e, target.host or "?") from e
            else:
                status = str(response.status)
                if response.status == 401 and "Authorization" in headers:  # only passthrough sets it
                    raise errors.Unauthorized(PASSTHROUGH_REFUSED, status=401)
                if response.status >= 400:
                    raise kube_errors.from_status(response.status, response.body, None)
                return response
            finally:
                elapsed = time.perf_counter() - started
                if target.host is not None or status != "error":  # else no context or credentials: nothing was sent
                    self._record(method, path, status, target.context, elapsed, purpose)
                if span is not None:
                    _end_kube_span(span, status, target)

    def _record(
        self, method: str, path: str, status: str, context: str | None, elapsed: float, purpose: str | None
    ) -> None:
        self._metrics.kube_calls.labels(method, status).inc()
        fields = {"verb": method, "path": path, "status": status, "context": context}
        if purpose:
            fields["purpose"] = purpose
        log.info("kube api call", extra={**fields, "duration_ms": round(elapsed * 1000, 1)})

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        return (await self.request("GET", path, **kwargs)).json()

    def _resolve_and_send(
        self,
        target: _Target,
        context: str | None,
        own: bool,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        groups: tuple[str, ...],
        body: Any,
        seconds: float,
    ) -> Response:
        """In a worker thread: the context and its client (noted in ``target`` for logs and errors), then the call."""
        ctx = self.contexts.server_default() if own else self.contexts.resolve(context)
        target.context = ctx.name
        client = self.contexts.client(ctx)
        target.host = client.configuration.host
        return _send(client, method, path, params, headers, groups, body, seconds)


PASSTHROUGH_REFUSED = (
    "the API server did not accept the caller's token (401 Unauthorized); in passthrough mode it must trust "
    "the token's issuer and audience (a JWT authenticator in its authentication configuration)"
)


def caller_headers(settings: Settings, headers: dict[str, str]) -> tuple[str, ...]:
    """Make the request speak for the caller (``cluster_auth``); returns the groups to impersonate.

    ``server``: nothing added, the server's own credentials act. ``impersonate``: Impersonate-User (and
    the returned groups) on top of the server's credentials. ``passthrough``: the caller's own bearer
    token, and the client carries no credential of its own (``Contexts.client``).
    """
    mode = settings.cluster_auth_mode
    if mode == "server":
        return ()
    caller = identity.get()
    if caller is None:
        raise errors.PolicyDenied(f"cluster_auth is {mode} but the call carries no authenticated identity")
    if mode == "passthrough":
        if not caller.token:
            raise errors.PolicyDenied("cluster_auth is passthrough but the call carries no bearer token")
        headers["Authorization"] = f"Bearer {caller.token}"
        return ()
    headers["Impersonate-User"] = caller.user
    return caller.groups


@dataclass
class _Target:
    """Which context and API server a call went to, once known (it is chosen in the worker thread)."""

    context: str | None = None
    host: str | None = None


def _kube_span(
    method: str, path: str, purpose: str | None, params: list[tuple[str, str]]
) -> AbstractContextManager[Span | None]:
    """The span of one API call: verb, resource, namespace and name (never the query, headers or body)."""
    if not tracing.in_trace():
        return tracing.NO_SPAN
    parsed = Target.parse(path)
    resource = "/".join(filter(None, (parsed.plural, parsed.subresource))) if parsed else path
    qualified = f"{resource}.{parsed.group}" if parsed and parsed.group else resource
    attributes = {
        "http.request.method": method,
        "url.path": path,
        "k8s.resource": qualified,
        "k8s.namespace.name": parsed.namespace if parsed else None,
        "k8s.object.name": parsed.name if parsed else None,
        "k8s_mcp.dry_run": True if ("dryRun", "All") in params else None,
        "k8s_mcp.purpose": purpose,
    }
    return tracing.span(f"kube {method} {qualified}", kind=SpanKind.CLIENT, attributes=attributes)


def _end_kube_span(span: Span, status: str, target: _Target) -> None:
    tracing.set_attributes(span, {"k8s.context": target.context, "server.address": target.host})
    if status.isdigit():
        span.set_attribute("http.response.status_code", int(status))
        if int(status) >= 400:
            tracing.mark_error(span, status)
    else:
        span.set_attribute("k8s_mcp.kube.status", status)
        tracing.mark_error(span, status)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _send(
    client: Any,
    method: str,
    path: str,
    params: list[tuple[str, str]],
    headers: dict[str, str],
    groups: tuple[str, ...],
    body: Any,
    seconds: float,
) -> Response:
    """Runs in a worker thread: serialize with auth, send, read the whole body."""
    _, url, all_headers, payload, _ = client.param_serialize(
        method,
        path,
        query_params=params,
        header_params=headers,
        body=body,
        auth_settings=["BearerToken"],
    )
    sent = urllib3.HTTPHeaderDict(all_headers)
    for group in groups:  # one header per group, as the API server expects
        sent.add("Impersonate-Group", group)
    raw = client.call_api(method, url, header_params=sent, body=payload, _request_timeout=(min(5.0, seconds), seconds))
    data = raw.read() or b""
    return Response(raw.status, data, str(raw.headers.get("Content-Type", "")))
