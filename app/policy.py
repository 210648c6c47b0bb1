"""Pure policy: which tools a deployment exposes and which API verbs a call may use.

Two choke points use it: the tool registry asks ``tool_allowed`` when it builds the catalog, and the
Kubernetes client asks ``check_verb`` before every API request, so a read-only server refuses a
mutating verb even if some tool tries one.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import PolicyDenied

READ_VERBS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Policy:
    read_only: bool = False
    allow_destructive: bool = False

    def tool_allowed(self, *, read_only: bool, destructive: bool) -> bool:
        """Whether a tool with these annotations is in the catalog at all."""
        if self.read_only and not read_only:
            return False
        return not (destructive and not self.allow_destructive)

    def check_verb(self, method: str, path: str) -> None:
        """Refuse any mutating HTTP verb when the server is read-only."""
        if self.read_only and method.upper() not in READ_VERBS and not _is_review(method, path):
            raise PolicyDenied(f"refused {method.upper()} {path}: the server is in read-only mode")

    def check_change(self, what: str) -> None:
        """Refuse a change that is not an API request (a Helm install, upgrade, rollback or uninstall)."""
        if self.read_only:
            raise PolicyDenied(f"refused {what}: the server is in read-only mode")


def _is_review(method: str, path: str) -> bool:
    """Access reviews are POSTs that change nothing; read-only servers may still ask them."""
    return method.upper() == "POST" and path.endswith(("/selfsubjectaccessreviews", "/selfsubjectrulesreviews"))
