"""Our exception tree.

Handlers raise these; the transport turns each into a one-line ``isError`` result. Kubernetes API
failures are translated exactly once (in ``app.kube.errors``) into the ``KubeError`` branch, so no
handler ever sees an ``ApiException`` or a raw API body.
"""

from __future__ import annotations


class K8sMcpError(Exception):
    """Base of every error we report to a client as a readable line."""


class ConfigError(K8sMcpError):
    """A setting is missing or invalid; raised at start-up, names the bad key."""


class ToolInputError(K8sMcpError):
    """The caller's arguments are wrong in a way the model can fix."""


class PolicyDenied(K8sMcpError):
    """Configuration forbids this call (read-only mode, destructive operations off, ...)."""


class KubeError(K8sMcpError):
    """A Kubernetes API call failed; ``reason`` is the API's own one-line message."""

    status: int | None = None

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if status is not None:
            self.status = status


class NotFound(KubeError):
    status = 404


class Forbidden(KubeError):
    status = 403


class Unauthorized(KubeError):
    status = 401


class Conflict(KubeError):
    status = 409


class Invalid(KubeError):
    status = 422


class BadRequest(KubeError):
    status = 400


class Unavailable(KubeError):
    """The cluster cannot be reached, is not configured, or answered 5xx."""


class Timeout(KubeError):
    """The call did not finish within the configured API timeout."""
