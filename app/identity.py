"""Who is calling: the identity the transport authenticated from the bearer token.

The value for the running call lives in ``app.scope.identity``; it is read by the Kubernetes client
(impersonation, or the caller's own token in passthrough mode), the approval tokens (bound to it)
and the audit log. ``None`` there means the server runs without authentication (local use).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...] = ()
    client_id: str = ""
    issuer: str = ""
    #: The caller's bearer token, for ``--cluster-auth passthrough`` only; never printed (``repr``) or compared.
    token: str = field(default="", repr=False, compare=False)

    def key(self) -> str:
        """A stable string for binding things (sessions, approval tokens, rate buckets) to this caller."""
        return f"{self.issuer}|{self.client_id}|{self.user}"
