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
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import urllib3
from kubernetes.client.exceptions import ApiException

from app import errors
from app.config import Settings
from app.identity import current_identity
from app.kube import errors as kube_errors
from app.kube.contexts import ContextInfo, Contexts
from app.kube.gate import judge_request
from app.observability import Metrics
from app.policy import READ_VERBS, Policy

log = logging.getLogger("k8s_mcp.kube")

#: Set while a change is previewed (approval ``confirm`` mode): every mutating request is sent with
#: ``dryRun=All``, so the API server validates and answers but persists nothing. Handlers whose side
#: effect is not an API write (exec, Helm) check ``dry_run_active()`` and do not act.
dry_run: ContextVar[bool] = ContextVar("dry_run", default=False)

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
    ) -> Response:
        method = method.upper()
        self._policy.check_request(method, path, body)
        judge_request(method, path, body)  # the approval rules, on the object this request changes
        if dry_run.get() and method not in READ_VERBS:
            if path.rstrip("/").endswith(NO_DRY_RUN_SUBRESOURCES) or "/proxy/" in path:
                raise errors.PolicyDenied(f"{method} {path} cannot be previewed; it was not sent")
            query = {**(query or {}), "dryRun": "All"}
        seconds = timeout or self.settings.api_timeout
        params = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
        headers = {"Accept": accept}
        caller = current_identity.get()
        if self.settings.impersonate:
            if caller is None:
                raise errors.PolicyDenied("impersonation is on but the call carries no authenticated identity")
            headers["Impersonate-User"] = caller.user
        groups = caller.groups if self.settings.impersonate and caller else ()
        if body is not None:
            headers["Content-Type"] = content_type or JSON
        started = time.perf_counter()
        status = "error"
        target = _Target()
        try:
            with anyio.fail_after(seconds + 2):
                # One trip to a worker thread for the whole call: choosing the context (a stat of the
                # kubeconfig), the client and the request itself; each extra trip costs a thread hand-off.
                response = await anyio.to_thread.run_sync(
                    partial(
                        self._resolve_and_send, target, context, method, path, params, headers, groups, body, seconds
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
            if response.status >= 400:
                raise kube_errors.from_status(response.status, response.body, None)
            return response
        finally:
            elapsed = time.perf_counter() - started
            if target.host is not None or status != "error":  # else no context or credentials: nothing was sent
                self._record(method, path, status, target.context, elapsed)

    def _record(self, method: str, path: str, status: str, context: str | None, elapsed: float) -> None:
        self._metrics.kube_calls.labels(method, status).inc()
        log.info(
            "kube api call",
            extra={
                "verb": method,
                "path": path,
                "status": status,
                "context": context,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        return (await self.request("GET", path, **kwargs)).json()

    def _resolve_and_send(
        self,
        target: _Target,
        context: str | None,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        groups: tuple[str, ...],
        body: Any,
        seconds: float,
    ) -> Response:
        """In a worker thread: the context and its client (noted in ``target`` for logs and errors), then the call."""
        ctx = self.contexts.resolve(context)
        target.context = ctx.name
        client = self.contexts.client(ctx)
        target.host = client.configuration.host
        return _send(client, method, path, params, headers, groups, body, seconds)


@dataclass
class _Target:
    """Which context and API server a call went to, once known (it is chosen in the worker thread)."""

    context: str | None = None
    host: str | None = None


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


def dry_run_active() -> bool:
    return dry_run.get()
