"""Follow one Kubernetes object with a watch: the live half of ``k8s://`` object subscriptions.

``ObjectWatch.run`` lists the object (``fieldSelector=metadata.name=<name>``) for a starting
``resourceVersion``, then holds a watch on that one object and calls ``on_change`` for every
change, ``on_change(deleted=True)`` once when the object is gone (and returns). It survives what a
long-lived connection meets:

- the API server ends each watch request after ``WATCH_SECONDS``: it is reopened from the last
  ``resourceVersion`` seen (bookmarks keep that fresh), silently;
- ``410 Gone`` (the version fell out of the API server's history): the object is listed again, a
  change missed meanwhile is reported, and the watch resumes from the new version;
- a dropped connection or an API server restart: the same re-list, after a short back-off, retried
  until it succeeds; both are logged ("watch connection lost", "watch resumed").

Each watch holds one worker thread for its whole life (the kubernetes client is synchronous); the
thread only reads the HTTP stream and hands each event line to the event loop, where the decisions
are made. Cancelling ``run`` shuts the socket down, so the thread ends at once. Watch connections
come from a connection pool of their own (``Contexts.client(..., watches=True)``), never from the one
ordinary calls share. The list goes
through ``Kube.request`` like every other read (policy, impersonation, metrics, log line); the watch
request itself passes the same policy check and carries the same caller headers.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import urllib3
from anyio.streams.memory import MemoryObjectSendStream

from app import errors
from app.kube.client import Kube, caller_headers

log = logging.getLogger("k8s_mcp.watch")

#: How long one watch request lasts before the API server ends it (it is reopened at once).
WATCH_SECONDS = 60
#: A connection silent for this long (no event, no bookmark, no end) is taken as lost.
READ_TIMEOUT_SECONDS = WATCH_SECONDS + 30
#: Waits between attempts to reach the API server again after a lost connection.
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0)


@dataclass(frozen=True)
class ObjectRef:
    """One object, as the API addresses it: a concrete context, its collection path, its name."""

    context: str
    collection: str
    name: str


class _Gone(Exception):
    """410: the watch's resourceVersion is too old; list again."""


class _Lost(Exception):
    """The connection failed or the API server answered an error: back off, list again."""


@dataclass
class _Stream:
    """The open HTTP response of one watch request, shared with the reading thread so it can be shut."""

    response: Any = None
    closed: bool = False
    #: The API server ended the response itself: the connection is clean and goes back to the pool.
    finished: bool = False

    def close(self) -> None:
        self.closed = True
        response = self.response
        if response is not None and self.finished:
            response.release_conn()
        elif response is not None:
            try:
                with contextlib.suppress(ValueError):  # raised when the connection is already gone
                    response.shutdown()  # wakes a read blocked in the worker thread
                response.close()  # never reused half-read: the pool reconnects it when it is next taken
                response.release_conn()
            except Exception:  # best effort on a socket that may already be gone
                log.debug("closing a watch stream failed", exc_info=True)


@dataclass
class ObjectWatch:
    """One watch on one object; ``run`` until cancelled or the object is deleted."""

    kube: Kube
    ref: ObjectRef
    on_change: Callable[[bool], None]
    limiter: anyio.CapacityLimiter
    #: The object's resourceVersion when the subscriber read it: a change before the watch starts is reported.
    known_version: str | None = None
    resumes: int = 0
    _version: str = ""
    _object_version: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._object_version = self.known_version

    async def run(self) -> None:
        failures = 0
        reason: str | None = None  # why the object is listed again; None for the first list
        while True:
            try:
                alive = await self._list()
            except (errors.Unavailable, errors.Timeout) as e:
                log.warning("watch list failed; retrying", extra={**self._fields(), "reason": str(e)})
                await _back_off(failures)
                failures += 1
                continue
            except errors.K8sMcpError as e:  # forbidden now, the kind removed, ...: a final update
                log.warning("watch ended: the object can no longer be read", extra={**self._fields(), "reason": str(e)})
                self.on_change(True)
                return
            if reason is not None:
                self.resumes += 1
                log.info("watch resumed", extra={**self._fields(), "reason": reason, "resource_version": self._version})
            if not alive:
                return
            while True:
                try:
                    opened = anyio.current_time()
                    if await self._stream():
                        return  # deleted
                    # The API server ended the request on time: reopen from the last version (at once,
                    # unless it ends them as fast as they open).
                    if anyio.current_time() - opened < 1:
                        await _back_off(failures)
                        failures += 1
                    else:
                        failures = 0
                except _Gone:
                    reason = "410 Gone: the resourceVersion expired"
                    if failures:  # listed again and gone again at once: do not spin
                        await _back_off(failures)
                    failures += 1
                    break
                except _Lost as e:
                    reason = str(e)
                    log.warning("watch connection lost; resuming", extra={**self._fields(), "reason": reason})
                    await _back_off(failures)
                    failures += 1
                    break
                except errors.K8sMcpError as e:  # the caller may read the object but not watch it
                    log.warning("watch ended: the watch was refused", extra={**self._fields(), "reason": str(e)})
                    self.on_change(True)
                    return

    def _fields(self) -> dict[str, Any]:
        return {"context": self.ref.context, "path": f"{self.ref.collection}/{self.ref.name}"}

    async def _list(self) -> bool:
        """List the object: the version to watch from; False (after the final update) when it is gone.

        A version different from the last one seen (or the one the subscriber read) is a change missed
        while nothing watched: it is reported."""
        found = await self.kube.get_json(
            self.ref.collection, context=self.ref.context, query={"fieldSelector": f"metadata.name={self.ref.name}"}
        )
        self._version = str((found.get("metadata") or {}).get("resourceVersion") or "")
        items = found.get("items") or []
        if not items:
            self.on_change(True)
            return False
        version = str((items[0].get("metadata") or {}).get("resourceVersion") or "")
        if self._object_version is not None and version != self._object_version:
            self.on_change(False)  # it changed while nothing watched
        self._object_version = version
        return True

    async def _stream(self) -> bool:
        """One watch request; True when the object was deleted, False when the API server ended it on time."""
        self.kube.policy.check_request("GET", self.ref.collection)
        headers = {"Accept": "application/json"}
        groups = caller_headers(self.kube.settings, headers)
        params = [
            ("watch", "true"),
            ("fieldSelector", f"metadata.name={self.ref.name}"),
            ("resourceVersion", self._version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(WATCH_SECONDS)),
        ]
        stream = _Stream()
        send, receive = anyio.create_memory_object_stream[tuple[str, Any]](64)
        read = partial(_read_events, self.kube, self.ref.context, self.ref.collection, params, headers, groups, stream)

        async def pump() -> None:
            async with send:
                try:
                    await anyio.to_thread.run_sync(read, send, limiter=self.limiter, abandon_on_cancel=True)
                except Exception as e:  # noqa: BLE001 - reported to the loop below as a lost connection
                    await send.send(("lost", f"{type(e).__name__}: {e}"))

        # Outcomes leave the task group as a value, never as an exception (which it would wrap in a group).
        outcome: bool | Exception = _Lost("the watch stream ended unexpectedly")
        try:
            async with anyio.create_task_group() as tasks, receive:
                tasks.start_soon(pump)
                async for what, value in receive:
                    try:
                        if what == "event" and self._handle(value):
                            outcome = True
                        elif what == "status":
                            outcome = _status_outcome(*value)
                        elif what == "lost":
                            outcome = _Lost(value)
                        elif what == "end":
                            outcome = False
                        else:
                            continue
                    except (_Gone, _Lost, errors.K8sMcpError) as e:
                        outcome = e
                    tasks.cancel_scope.cancel()
                    break
        finally:
            stream.close()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _handle(self, event: dict[str, Any]) -> bool:
        """One watch event; True when the object was deleted."""
        kind = event.get("type")
        obj = event.get("object") or {}
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise _Gone()
            raise _Lost(f"watch error {code}: {obj.get('message', '')}")
        if version:
            self._version = version
        if kind == "DELETED":
            self.on_change(True)
            return True
        if kind in ("ADDED", "MODIFIED") and version != self._object_version:
            self._object_version = version
            self.on_change(False)
        return False


def _status_outcome(code: int, message: str) -> Exception:
    """An error answer to the watch request: 410 resumes, 401/403 end the watch, anything else is retried."""
    if code == 410:
        return _Gone()
    if code in (401, 403):
        return errors.Forbidden(f"the API server refused the watch ({code}): {message}")
    return _Lost(f"the API server answered {code}: {message}")


async def _back_off(failures: int) -> None:
    await anyio.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)])


def _read_events(
    kube: Kube,
    context: str,
    collection: str,
    params: list[tuple[str, str]],
    headers: dict[str, str],
    groups: tuple[str, ...],
    stream: _Stream,
    send: MemoryObjectSendStream[tuple[str, Any]],
) -> None:
    """In a worker thread: open the watch request and hand each event to the loop, until the stream ends."""

    def deliver(what: str, value: Any) -> None:
        anyio.from_thread.run(send.send, (what, value))

    ctx = kube.contexts.resolve(context)
    client = kube.contexts.client(ctx, watches=True)
    _, url, all_headers, _, _ = client.param_serialize(
        "GET", collection, query_params=params, header_params=headers, auth_settings=["BearerToken"]
    )
    sent = urllib3.HTTPHeaderDict(all_headers)
    for group in groups:
        sent.add("Impersonate-Group", group)
    raw = client.call_api("GET", url, header_params=sent, _request_timeout=(5.0, READ_TIMEOUT_SECONDS))
    response = raw.response
    stream.response = response
    if stream.closed:
        stream.close()
        return
    if response.status >= 400:
        body = response.read() or b""
        try:
            message = json.loads(body).get("message", "")
        except ValueError:
            message = body[:200].decode("utf-8", "replace")
        deliver("status", (response.status, message))
        return
    log.debug("watch request open", extra={"path": collection, "query": dict(params)})
    pending = b""
    try:
        for chunk in response.stream(None, decode_content=True):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    deliver("event", json.loads(line))
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.RunFinishedError):
        return  # the loop stopped listening (cancelled): nothing to tell
    stream.finished = True
    if not stream.closed:
        deliver("end", None)
