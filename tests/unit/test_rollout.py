"""Rollout decisions, worded as kubectl words them: status lines, revisions and undo targets."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import ToolInputError
from app.tools.workloads import rollout


def deployment(**status: Any) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "web", "generation": status.pop("generation", 2), "uid": "d1"},
        "spec": {"replicas": 3},
        "status": {"observedGeneration": 2, **status},
    }


@pytest.mark.parametrize(
    ("status", "state", "line"),
    [
        ({"generation": 3}, "waiting", "Waiting for deployment spec update to be observed..."),
        ({"updatedReplicas": 1, "replicas": 3}, "waiting", "1 out of 3 new replicas have been updated..."),
        ({"updatedReplicas": 3, "replicas": 4}, "waiting", "1 old replicas are pending termination..."),
        (
            {"updatedReplicas": 3, "replicas": 3, "availableReplicas": 2},
            "waiting",
            "2 of 3 updated replicas are available...",
        ),
        ({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3}, "done", 'deployment "web" successfully rolled'),
        (
            {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]},
            "failed",
            "exceeded its progress deadline",
        ),
    ],
)
def test_deployment_rollout_status_reads_like_kubectl(status: dict[str, Any], state: str, line: str) -> None:
    got_state, message = rollout.rollout_status("Deployment", deployment(**status))
    assert got_state == state and line in message


def test_statefulset_and_daemonset_status() -> None:
    sts = {
        "metadata": {"name": "db", "generation": 1},
        "spec": {"replicas": 2, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}},
        "status": {"observedGeneration": 1, "readyReplicas": 2, "currentReplicas": 2, "updatedReplicas": 2},
    }
    sts["status"].update(currentRevision="db-1", updateRevision="db-2")
    assert rollout.rollout_status("StatefulSet", sts) == (
        "waiting",
        "waiting for statefulset rolling update to complete 2 pods at revision db-2...",
    )
    sts["status"]["currentRevision"] = "db-2"
    assert rollout.rollout_status("StatefulSet", sts)[0] == "done"
    ds = {
        "metadata": {"name": "agent", "generation": 1},
        "spec": {"updateStrategy": {"type": "OnDelete"}},
        "status": {"observedGeneration": 1},
    }
    assert rollout.rollout_status("DaemonSet", ds)[0] == "failed"
    ds["spec"]["updateStrategy"]["type"] = "RollingUpdate"
    ds["status"].update(desiredNumberScheduled=2, updatedNumberScheduled=2, numberAvailable=1)
    assert "1 of 2 updated pods are available" in rollout.rollout_status("DaemonSet", ds)[1]


def rs(name: str, revision: int, owner: str = "d1", image: str = "nginx:1", cause: str | None = None) -> dict[str, Any]:
    annotations = {rollout.REVISION: str(revision)} | ({rollout.CHANGE_CAUSE: cause} if cause else {})
    return {
        "metadata": {"name": name, "annotations": annotations, "ownerReferences": [{"uid": owner}]},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web", rollout.HASH_LABEL: name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            }
        },
    }


def test_deployment_revisions_come_from_owned_replicasets_in_order() -> None:
    sets = [rs("b", 2, image="nginx:2", cause="bump"), rs("a", 1), rs("other", 9, owner="zzz")]
    revisions = rollout.deployment_revisions(deployment(), sets)
    assert [(r.revision, r.images, r.change_cause) for r in revisions] == [
        (1, ["nginx:1"], None),
        (2, ["nginx:2"], "bump"),
    ]
    assert rollout.without_hash(revisions[0].template)["metadata"]["labels"] == {"app": "web"}


def test_the_current_deployment_revision_is_the_one_whose_template_it_runs() -> None:
    sets = [rs("a", 1), rs("b", 2, image="nginx:2")]
    running_a = deployment() | {"spec": {"template": rollout.without_hash(sets[0]["spec"]["template"])}}
    running_a["metadata"]["annotations"] = {rollout.REVISION: "2"}  # the controller has not caught up yet
    assert rollout.current_revision("Deployment", running_a, rollout.deployment_revisions(running_a, sets)) == 1


def test_undo_goes_to_the_previous_revision_or_the_one_asked_for() -> None:
    revisions = rollout.deployment_revisions(deployment(), [rs("a", 1), rs("b", 2), rs("c", 3)])
    assert rollout.undo_target(revisions, 3, None).revision == 2
    assert rollout.undo_target(revisions, 3, 1).revision == 1
    with pytest.raises(ToolInputError, match=r"revision 7 not found in the history \(revisions: 1, 2, 3\)"):
        rollout.undo_target(revisions, 3, 7)
    with pytest.raises(ToolInputError, match="no revision before the current one"):
        rollout.undo_target(revisions[:1], 1, None)
    with pytest.raises(ToolInputError, match="no rollout history"):
        rollout.undo_target([], None, None)


def test_controller_revisions_give_statefulset_history_and_current() -> None:
    owner = {"metadata": {"uid": "s1"}, "status": {"updateRevision": "db-abc"}}
    crs = [
        {
            "metadata": {"name": name, "ownerReferences": [{"uid": "s1"}]},
            "revision": number,
            "data": {"spec": {"template": {"$patch": "replace", "spec": {"containers": [{"image": image}]}}}},
        }
        for name, number, image in [("db-abc", 2, "pg:16"), ("db-old", 1, "pg:15")]
    ]
    revisions = rollout.controller_revisions(owner, crs)
    assert [r.revision for r in revisions] == [1, 2] and revisions[1].images == ["pg:16"]
    assert "$patch" not in revisions[0].template
    assert rollout.current_revision("StatefulSet", owner, revisions) == 2
