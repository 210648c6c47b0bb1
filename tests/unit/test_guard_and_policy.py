"""Host/Origin patterns and the read-only verb check."""

from __future__ import annotations

import pytest

from app.config import DEFAULT_ALLOWED_HOSTS, DEFAULT_ALLOWED_ORIGINS
from app.errors import PolicyDenied
from app.policy import Policy
from app.transport.guard import host_allowed, origin_allowed


@pytest.mark.parametrize(
    "host",
    [
        "localhost:8008",
        "127.0.0.1:8008",
        "k8s-mcp:8008",
        "k8s-mcp.tools.svc:8008",
        "k8s-mcp.tools.svc.cluster.local",
        "[::1]:8008",
    ],
)
def test_default_hosts_cover_local_compose_and_service_names(host: str) -> None:
    assert host_allowed(host, DEFAULT_ALLOWED_HOSTS)


@pytest.mark.parametrize("host", ["evil.example:8008", "k8s-mcp.tools.svc.evil.example", "", None])
def test_foreign_hosts_are_refused(host: str | None) -> None:
    assert not host_allowed(host, DEFAULT_ALLOWED_HOSTS)


def test_origins_missing_or_local_pass_and_foreign_ones_fail() -> None:
    assert origin_allowed(None, DEFAULT_ALLOWED_ORIGINS)
    assert origin_allowed("http://localhost:6274", DEFAULT_ALLOWED_ORIGINS)
    assert not origin_allowed("https://evil.example", DEFAULT_ALLOWED_ORIGINS)
    assert not origin_allowed("http://localhost.evil.example:80", DEFAULT_ALLOWED_ORIGINS)


def test_star_allows_any_host() -> None:
    assert host_allowed("anything:1", ("*",))


def test_read_only_refuses_every_mutating_verb_but_allows_reads() -> None:
    policy = Policy(read_only=True)
    policy.check_verb("GET", "/api/v1/pods")
    for verb in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(PolicyDenied, match="read-only"):
            policy.check_verb(verb, "/api/v1/namespaces/x/pods")


def test_tools_are_exposed_by_annotations() -> None:
    assert Policy(read_only=True).tool_allowed(read_only=True, destructive=False)
    assert not Policy(read_only=True).tool_allowed(read_only=False, destructive=False)
    assert not Policy(allow_destructive=False).tool_allowed(read_only=False, destructive=True)
    assert Policy(allow_destructive=True).tool_allowed(read_only=False, destructive=True)
