"""Request-level policy: what any API request may do, whatever tool sends it."""

from __future__ import annotations

import pytest

from app.errors import PolicyDenied
from app.kinds import plural_of
from app.policy import Policy, Target


def test_paths_are_parsed_into_what_they_address() -> None:
    assert Target.parse("/apis/apps/v1/namespaces/a/deployments/web/scale") == Target(
        "apps", "deployments", "a", "web", "scale"
    )
    assert Target.parse("/api/v1/namespaces/foo") == Target("", "namespaces", "foo", "foo", None)
    assert Target.parse("/api/v1/pods") == Target("", "pods", None, None, None)
    assert Target.parse("/version") is None


@pytest.mark.parametrize(
    ("kind", "plural"),
    [("Secret", "secrets"), ("NetworkPolicy", "networkpolicies"), ("Ingress", "ingresses"), ("Endpoints", "endpoints")],
)
def test_kinds_pluralise_like_kubernetes(kind: str, plural: str) -> None:
    assert plural_of(kind) == plural


def test_denied_kinds_are_refused_for_every_verb() -> None:
    policy = Policy(denied_resources=("Secret", "rbac.authorization.k8s.io/ClusterRole"), allow_destructive=True)
    for method, path in [
        ("GET", "/api/v1/namespaces/a/secrets/s"),
        ("GET", "/api/v1/secrets"),
        ("PATCH", "/api/v1/namespaces/a/secrets/s"),
        ("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles"),
    ]:
        with pytest.raises(PolicyDenied, match="denied by server policy"):
            policy.check_request(method, path)
    policy.check_request("GET", "/api/v1/namespaces/a/configmaps")


def test_destructive_requests_need_the_switch() -> None:
    off = Policy()
    for method, path, body in [
        ("DELETE", "/api/v1/namespaces/a/pods/p", None),
        ("POST", "/api/v1/namespaces/a/pods/p/exec", None),
        ("GET", "/api/v1/namespaces/a/pods/p/exec", None),
        ("PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale", {"spec": {"replicas": 0}}),
    ]:
        with pytest.raises(PolicyDenied, match="destructive"):
            off.check_request(method, path, body)
    off.check_request("PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale", {"spec": {"replicas": 3}})
    Policy(allow_destructive=True).check_request("DELETE", "/api/v1/namespaces/a/pods/p")


def test_bulk_delete_is_off_by_default() -> None:
    with pytest.raises(PolicyDenied, match="bulk delete"):
        Policy(allow_destructive=True).check_request("DELETE", "/api/v1/namespaces/a/pods")
    Policy(allow_destructive=True, allow_bulk_delete=True).check_request("DELETE", "/api/v1/namespaces/a/pods")


def test_namespace_lists_limit_every_request() -> None:
    policy = Policy(allowed_namespaces=("team-a",), denied_namespaces=("kube-system",))
    policy.check_request("GET", "/api/v1/namespaces/team-a/pods")
    policy.check_request("GET", "/api/v1/nodes")
    with pytest.raises(PolicyDenied, match="not in the server's allowed namespaces"):
        policy.check_request("GET", "/api/v1/namespaces/team-b/pods")
    with pytest.raises(PolicyDenied, match="across all namespaces"):
        policy.check_request("GET", "/api/v1/pods")
    with pytest.raises(PolicyDenied, match="denied by server policy"):
        Policy(denied_namespaces=("kube-system",)).check_request("GET", "/api/v1/namespaces/kube-system/pods")


def test_read_only_refuses_writes_but_allows_access_reviews() -> None:
    policy = Policy(read_only=True)
    policy.check_request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    with pytest.raises(PolicyDenied, match="read-only"):
        policy.check_request("POST", "/api/v1/namespaces/a/configmaps")
