"""Who is calling: the identity the transport authenticated from the bearer token.

The value for the running call lives in ``app.scope.identity``; it is read by the Kubernetes client
(impersonation), the approval tokens (bound to it) and the audit log. ``None`` there means the
server runs without authentication (local use).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...] = ()
    client_id: str = ""

    def key(self) -> str:
        """A stable string for binding things (sessions, approval tokens, rate buckets) to this caller."""
        return f"{self.client_id}|{self.user}"
