"""Live subscriptions to ``k8s://`` objects: one Kubernetes watch per object, shared by its subscribers.

A subscriber is one MCP session (or one 2026-07-28 listen stream) and the URI it subscribed with;
it is told "this URI changed" through the ``notify`` callable the transport hands in. Subscribing:

1. parses the URI (the same object URIs ``resources/read`` serves: namespaced, ``_cluster``, and
   ``current`` for the session's default context, fixed to a concrete context at that moment);
2. reads the object as the caller, exactly as ``resources/read`` would: the server's policy (denied
   kinds, namespaces) and, with impersonation or passthrough, the caller's own RBAC decide. What a
   caller may not read, it may not subscribe to;
3. checks the caps: ``subscriptions_per_session`` per subscriber, ``max_subscriptions`` for the
   process (each distinct object watched holds one worker thread, so this also bounds threads);
4. joins the watch on that object as that caller, or starts it (``app.kube.watch.ObjectWatch``).

Watches are keyed by caller (identity) and object, so sessions of the same caller share one watch
(every session without authentication is the same caller), and no watch ever runs with more rights
than the caller that asked for it. The last unsubscribe, or the end of the last subscribed session,
stops the watch. A deletion is a final update: every subscriber is told once, then dropped.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc

from app import errors
from app.documents import objects
from app.identity import Identity
from app.kube.watch import ObjectRef, ObjectWatch
from app.observability import Metrics
from app.scope import call_scope, identity, identity_key
from app.spec import Deps

log = logging.getLogger("k8s_mcp.subscriptions")

Notify = Callable[[str], Awaitable[None]]


class LimitReached(errors.K8sMcpError):
    """A subscription cap is reached; the line names the setting."""


@dataclass(eq=False)
class _Subscriber:
    session: str
    uri: str
    notify: Notify
    #: Subscribers sharing a channel (one 2026 bus) and a URI are told once per change.
    channel: object
    watch: _Watch | None = None


@dataclass(eq=False)
class _Watch:
    key: tuple[str, ObjectRef]
    scope: anyio.CancelScope
    subscribers: list[_Subscriber] = field(default_factory=list)
    watch: ObjectWatch | None = None


class Subscriptions:
    """Every live subscription of this process; ``running()`` must be entered for watches to run."""

    def __init__(self, deps: Deps, metrics: Metrics) -> None:
        self.deps = deps
        self.per_session = deps.settings.subscriptions_per_session
        self.per_process = deps.settings.max_subscriptions
        self._watches: dict[tuple[str, ObjectRef], _Watch] = {}
        self._sessions: dict[str, dict[str, _Subscriber]] = {}
        self._tasks: anyio.abc.TaskGroup | None = None
        # One worker thread per watch, outside the pool ordinary API calls share.
        self._threads = anyio.CapacityLimiter(self.per_process + 1)
        self._ids = itertools.count(1)
        metrics.resource_watches.set_function(lambda: float(self.watch_count))
        metrics.resource_subscriptions.set_function(lambda: float(self.subscription_count))

    @property
    def watch_count(self) -> int:
        return len(self._watches)

    @property
    def subscription_count(self) -> int:
        return sum(len(subs) for subs in self._sessions.values())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The task group the watches run in (the server's lifespan); leaving it stops them all."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                self._tasks = None
                tasks.cancel_scope.cancel()
                self._watches.clear()
                self._sessions.clear()

    async def subscribe(self, session: str, uri: str, notify: Notify, channel: object) -> None:
        """Subscribe ``session`` to ``uri``; our errors (bad URI, denied, not found, cap) for every refusal."""
        mine = self._sessions.get(session, {})
        if uri in mine:
            return  # already subscribed: nothing changes
        self._check_caps(session)
        found = await objects.locate_object(self.deps, *objects.parse_object_uri(uri))
        read = await objects.read_located(self.deps, found)  # read as the caller: policy and RBAC decide
        version = _resource_version(read.data)
        context = self.deps.kube.context(found.context).name
        ref = ObjectRef(context, found.resource.path(found.namespace), found.name)
        if self._tasks is None:
            raise errors.Unavailable("subscriptions are not being served (the server is starting or stopping)")
        mine = self._sessions.setdefault(session, {})
        if uri in mine:
            return
        self._check_caps(session)
        subscriber = _Subscriber(session, uri, notify, channel)
        key = (identity_key(), ref)
        entry = self._watches.get(key)
        if entry is None:
            entry = _Watch(key, anyio.CancelScope())
            entry.watch = ObjectWatch(
                self.deps.kube, ref, lambda deleted: self._changed(entry, deleted), self._threads, version
            )
            self._watches[key] = entry
            self._tasks.start_soon(self._follow, entry, identity.get(), next(self._ids))
        entry.subscribers.append(subscriber)
        subscriber.watch = entry
        mine[uri] = subscriber

    def _check_caps(self, session: str) -> None:
        if len(self._sessions.get(session, {})) >= self.per_session:
            raise LimitReached(
                f"this session already has {self.per_session} subscriptions, the most one session may hold "
                "(subscriptions_per_session, K8S_MCP_SUBSCRIPTIONS_PER_SESSION); unsubscribe from one first"
            )
        if self.subscription_count >= self.per_process:
            raise LimitReached(
                f"the server already holds {self.per_process} subscriptions, the most it allows "
                "(max_subscriptions, K8S_MCP_MAX_SUBSCRIPTIONS); try again later"
            )

    def unsubscribe(self, session: str, uri: str) -> bool:
        """Drop one subscription; False when there was none (not an error: it may have ended by deletion)."""
        subscriber = self._sessions.get(session, {}).pop(uri, None)
        if subscriber is None:
            return False
        if not self._sessions.get(session):
            self._sessions.pop(session, None)
        entry = subscriber.watch
        if entry is not None and subscriber in entry.subscribers:
            entry.subscribers.remove(subscriber)
            if not entry.subscribers:
                self._stop(entry)
        return True

    def drop_session(self, session: str) -> int:
        """The session ended: drop all its subscriptions; how many there were."""
        uris = list(self._sessions.get(session, {}))
        for uri in uris:
            self.unsubscribe(session, uri)
        if uris:
            log.info("session ended; its subscriptions are dropped", extra={"session": session, "dropped": len(uris)})
        return len(uris)

    def _stop(self, entry: _Watch) -> None:
        if self._watches.get(entry.key) is entry:
            del self._watches[entry.key]
        entry.scope.cancel()

    def _changed(self, entry: _Watch, deleted: bool) -> None:
        """From the watch: tell every subscriber (once per channel and URI); a deletion also ends them all."""
        told: set[tuple[int, str]] = set()
        for subscriber in list(entry.subscribers):
            once = (id(subscriber.channel), subscriber.uri)
            if once not in told and self._tasks is not None:
                told.add(once)
                self._tasks.start_soon(_tell, subscriber)
        if deleted:
            log.info(
                "watched object gone; final update sent",
                extra={"path": _path(entry.key[1]), "subscribers": len(entry.subscribers)},
            )
            for subscriber in list(entry.subscribers):
                self._sessions.get(subscriber.session, {}).pop(subscriber.uri, None)
                if not self._sessions.get(subscriber.session):
                    self._sessions.pop(subscriber.session, None)
            entry.subscribers.clear()
            self._stop(entry)

    async def _follow(self, entry: _Watch, caller: Identity | None, number: int) -> None:
        """Run one watch as the caller that started it, until it is stopped or its object is gone."""
        assert entry.watch is not None
        fields: dict[str, Any] = {"path": _path(entry.key[1]), "context": entry.key[1].context}
        with call_scope(correlation=f"watch-{number}", session=None, caller=caller):
            log.info("watch started", extra=fields)
            with entry.scope:
                try:
                    await entry.watch.run()
                except Exception:  # a bug or an unexpected answer: subscribers get a final update
                    log.exception("watch failed; its subscribers get a final update", extra=fields)
                    if entry.subscribers:
                        self._changed(entry, True)
            self._stop(entry)
            log.info("watch stopped", extra={**fields, "resumes": entry.watch.resumes})


async def _tell(subscriber: _Subscriber) -> None:
    try:
        await subscriber.notify(subscriber.uri)
    except Exception:  # a gone client must not break the watch
        log.debug("could not deliver a resource update", exc_info=True, extra={"uri": subscriber.uri})


def _resource_version(data: object) -> str | None:
    """The resourceVersion of the object a read returned (``ObjectOutput.object``), if it carries one."""
    obj = getattr(data, "object", None)
    version = (obj.get("metadata") or {}).get("resourceVersion") if isinstance(obj, dict) else None
    return str(version) if version else None


def _path(ref: ObjectRef) -> str:
    return f"{ref.collection}/{ref.name}"
