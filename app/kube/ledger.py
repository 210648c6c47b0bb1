"""The approval ledger: spent approval nonces recorded in the cluster, so every replica refuses a replay.

Each spent nonce becomes one small ``coordination.k8s.io/v1`` Lease named after it in the state
namespace. ``create`` is atomic in the API server: the first replica to record a nonce gets 201,
any later attempt (on any replica) gets 409 AlreadyExists, which is a replay. Kubernetes is the
shared store; there is nothing of our own to run or keep consistent.

Records are written with the server's own credentials in its default context (``Kube.own_request``),
never the caller's, and pass the same choke point as every API call (timeouts, metrics, logs,
traces). Expired records are deleted by whichever replica's sweep reaches them first: each replica
sweeps once a minute, reading one page of records (resuming where its last sweep stopped) and
deleting at most that page's expired ones, so the work per minute is bounded however many records
exist. A record is kept ``SKEW_MARGIN`` seconds past its token's expiry, so a replica whose clock
runs behind still finds it while it would accept the token.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio

from app import errors
from app.config import Settings
from app.kube.client import Kube
from app.observability import Metrics

log = logging.getLogger("k8s_mcp.ledger")

PURPOSE = "approval-ledger"
NAME_PREFIX = "k8s-mcp-approval-"
RECORD_LABEL = "k8s-mcp.io/record"
RECORD_KIND = "approval-nonce"
EXPIRES_ANNOTATION = "k8s-mcp.io/expires-at"
#: Seconds a record outlives its token: room for clocks that disagree between replicas.
SKEW_MARGIN = 300
SWEEP_INTERVAL = 60.0
SWEEP_PAGE = 100


def state_namespace(settings: Settings, kube: Kube) -> str:
    """``--state-namespace``, else the pod's own namespace in a cluster, else ``default``."""
    if settings.state_namespace:
        return settings.state_namespace
    try:
        return kube.contexts.pod_namespace() or "default"
    except errors.K8sMcpError:
        return "default"


def _micro_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseLedger:
    """``SpentLedger`` on Leases in one namespace; also sweeps the expired ones."""

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
        page: int = SWEEP_PAGE,
    ) -> None:
        self._kube = kube
        self.namespace = namespace
        self._metrics = metrics
        self._clock = clock
        self._page = page
        self._cursor: str | None = None
        self._holder = f"{socket.gethostname()}-{os.getpid()}"[:128]

    @property
    def _collection(self) -> str:
        return f"/apis/coordination.k8s.io/v1/namespaces/{self.namespace}/leases"

    def record(self, nonce: str, expires_at: int) -> dict[str, Any]:
        now = self._clock()
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": NAME_PREFIX + nonce,
                "labels": {"app.kubernetes.io/managed-by": "k8s-mcp", RECORD_LABEL: RECORD_KIND},
                "annotations": {EXPIRES_ANNOTATION: str(expires_at)},
            },
            "spec": {
                "holderIdentity": self._holder,
                "leaseDurationSeconds": max(1, int(expires_at - now) + SKEW_MARGIN),
                "acquireTime": _micro_time(now),
                "renewTime": _micro_time(now),
            },
        }

    async def spend(self, nonce: str, expires_at: int) -> bool:
        try:
            await self._kube.own_request("POST", self._collection, purpose=PURPOSE, body=self.record(nonce, expires_at))
        except errors.Conflict:
            self._metrics.ledger_records.labels("replay").inc()
            return False
        except errors.NotFound as e:
            self._metrics.ledger_records.labels("unavailable").inc()
            raise errors.Unavailable(f"the state namespace '{self.namespace}' does not exist ({e})") from e
        except errors.K8sMcpError as e:
            self._metrics.ledger_records.labels("unavailable").inc()
            raise errors.Unavailable(f"approval ledger in namespace '{self.namespace}': {e}") from e
        self._metrics.ledger_records.labels("recorded").inc()
        return True

    async def sweep(self) -> int:
        """Delete the expired records of one page (continuing from the last sweep); returns how many."""
        query: dict[str, Any] = {"labelSelector": f"{RECORD_LABEL}={RECORD_KIND}", "limit": self._page}
        if self._cursor:
            query["continue"] = self._cursor
        try:
            page = (await self._kube.own_request("GET", self._collection, purpose=PURPOSE, query=query)).json()
        except errors.KubeError as e:
            if e.status == 410:  # the continue token expired: start over next time
                self._cursor = None
                return 0
            raise
        self._cursor = (page.get("metadata") or {}).get("continue") or None
        now = self._clock()
        deleted = 0
        for item in page.get("items") or []:
            meta = item.get("metadata") or {}
            try:
                expires_at = int((meta.get("annotations") or {}).get(EXPIRES_ANNOTATION, ""))
            except ValueError:
                continue  # not one of ours in the expected shape: leave it
            if expires_at + SKEW_MARGIN >= now:
                continue
            try:
                await self._kube.own_request("DELETE", f"{self._collection}/{meta['name']}", purpose=PURPOSE)
            except errors.NotFound:
                continue  # another replica got there first
            deleted += 1
        if deleted:
            self._metrics.ledger_swept.inc(deleted)
        return deleted

    async def run_sweeps(self, interval: float = SWEEP_INTERVAL) -> None:
        """Sweep forever, once per ``interval`` (the first after a random part of it, so replicas spread out)."""
        await anyio.sleep(random.uniform(0, interval))  # noqa: S311 - jitter, not a secret
        while True:
            try:
                removed = await self.sweep()
                if removed:
                    log.info("expired approval records removed", extra={"count": removed, "namespace": self.namespace})
            except errors.K8sMcpError as e:
                log.warning("approval ledger sweep failed", extra={"namespace": self.namespace, "reason": str(e)})
            await anyio.sleep(interval)
