"""How a drain sorts a node's pods before it changes anything, and how it reads a refused eviction."""

from __future__ import annotations

from typing import Any

from app.tools.nodes.drain import budget_of, plan_drain


def pod(name: str, *, owner: str | None = "ReplicaSet", phase: str = "Running", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "shop", "annotations": extra.pop("annotations", {})}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": f"{name}-owner", "controller": True}]
    return {"metadata": meta, "spec": {"volumes": extra.pop("volumes", [])}, "status": {"phase": phase}}


EMPTY_DIR = [{"name": "scratch", "emptyDir": {}}]


def test_daemonset_and_mirror_pods_are_skipped_and_the_rest_evicted() -> None:
    plan = plan_drain(
        [
            pod("web"),
            pod("agent", owner="DaemonSet"),
            pod("etcd", owner="Node", annotations={"kubernetes.io/config.mirror": "abc"}),
        ],
        force=False,
        delete_emptydir=False,
    )
    assert [p["metadata"]["name"] for p in plan.evict] == ["web"]
    assert [(s.name, s.outcome, s.detail) for s in plan.skipped] == [
        ("agent", "skipped", "DaemonSet agent-owner pod"),
        ("etcd", "skipped", "mirror pod (static)"),
    ]
    assert plan.refused == []


def test_bare_and_emptydir_pods_are_refused_together_unless_allowed() -> None:
    pods = [pod("lonely", owner=None), pod("cache", volumes=EMPTY_DIR), pod("both", owner=None, volumes=EMPTY_DIR)]
    refused = plan_drain(pods, force=False, delete_emptydir=False).refused
    assert refused == [
        "shop/lonely has no controller, so it would not come back (force=true evicts it)",
        "shop/cache uses emptyDir, whose data would be lost (deleteEmptyDirData=true evicts it)",
        "shop/both uses emptyDir, whose data would be lost (deleteEmptyDirData=true evicts it) and has no "
        "controller, so it would not come back (force=true evicts it)",
    ]
    assert [p["metadata"]["name"] for p in plan_drain(pods, force=True, delete_emptydir=False).evict] == ["lonely"]
    allowed = plan_drain(pods, force=True, delete_emptydir=True)
    assert len(allowed.evict) == 3 and not allowed.refused


def test_finished_pods_are_evicted_whatever_their_volumes_or_owners() -> None:
    plan = plan_drain(
        [pod("done", owner=None, phase="Succeeded", volumes=EMPTY_DIR)], force=False, delete_emptydir=False
    )
    assert [p["metadata"]["name"] for p in plan.evict] == ["done"] and not plan.refused


def test_the_budget_is_read_from_the_refusal_cause() -> None:
    reason = (
        "the API server answered 429: Cannot evict pod as it would violate the pod's disruption budget. "
        "(The disruption budget web-pdb needs 2 healthy pods and has 2 currently)"
    )
    assert budget_of(reason, "shop") == "shop/web-pdb"
    assert budget_of("the API server answered 429: Too many requests", "shop") is None
