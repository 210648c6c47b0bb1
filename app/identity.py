"""Who is calling: the identity the transport authenticated, visible to every layer below it.

Set once per tool call by the transport from the verified bearer token; read by the Kubernetes
client (impersonation, or the caller's own token in passthrough mode), the approval tokens (bound
to it) and the audit log. ``None`` means the server runs without authentication (local use).
"""

from __future__ import annotations

from contextvars import ContextVar
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


current_identity: ContextVar[Identity | None] = ContextVar("current_identity", default=None)


def identity_key() -> str:
    ident = current_identity.get()
    return ident.key() if ident else "anonymous"
