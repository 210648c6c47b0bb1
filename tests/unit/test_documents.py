"""Pure resource logic: kind segments, the discovery index entries, templates and the cluster summary."""

from __future__ import annotations

import pytest
import yaml

from app import errors
from app.documents.objects import find_template, template_index, templates
from app.documents.summary import (
    _pod_rows,
    summarize_jobs,
    summarize_namespaces,
    summarize_nodes,
    summarize_pods,
    summarize_workloads,
)
from app.kube.discovery import parse_aggregated, parse_resource_list, ranked, split_kind


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("Deployment", ("deployment", None, None)),
        ("deployments.apps", ("deployments", "apps", None)),
        ("deployments.v1.apps", ("deployments", "apps", "v1")),
        ("pods.v1", ("pods", "", "v1")),
        ("widgets.example.com", ("widgets", "example.com", None)),
        ("widgets.v1beta1.example.com", ("widgets", "example.com", "v1beta1")),
    ],
)
def test_a_kind_segment_splits_like_kubectl(segment: str, expected: tuple[str, str | None, str | None]) -> None:
    assert split_kind(segment) == expected


def test_aggregated_discovery_kinds_answer_to_kind_plural_singular_and_short_names() -> None:
    doc = {
        "items": [
            {
                "metadata": {"name": "apps"},
                "versions": [
                    {
                        "version": "v1",
                        "resources": [
                            {
                                "resource": "deployments",
                                "responseKind": {"kind": "Deployment"},
                                "scope": "Namespaced",
                                "singularResource": "deployment",
                                "shortNames": ["deploy"],
                                "verbs": ["get", "list", "patch"],
                                "subresources": [{"subresource": "scale"}, {"subresource": "status"}],
                            }
                        ],
                    },
                    {"version": "v1beta1", "resources": [{"resource": "old", "responseKind": {"kind": "Old"}}]},
                ],
            }
        ]
    }
    [deployment] = parse_aggregated(doc)
    assert deployment.api_version == "apps/v1" and deployment.namespaced and deployment.plural == "deployments"
    assert deployment.verbs == ("get", "list", "patch") and deployment.subresources == {"scale", "status"}
    assert all(deployment.answers_to(n) for n in ("deployment", "Deployments", "deploy", "DEPLOYMENT"))
    assert not deployment.answers_to("deploys")


def test_a_legacy_resource_list_gives_the_same_kinds_with_their_subresources() -> None:
    doc = {
        "resources": [
            {
                "name": "pods",
                "singularName": "pod",
                "namespaced": True,
                "kind": "Pod",
                "verbs": ["get"],
                "shortNames": ["po"],
            },
            {"name": "pods/log", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
            {"name": "pods/exec", "namespaced": True, "kind": "PodExecOptions", "verbs": ["create"]},
            {"name": "nodes", "singularName": "", "namespaced": False, "kind": "Node", "verbs": ["get", "list"]},
        ]
    }
    pods, nodes = parse_resource_list("", "v1", doc)
    assert pods.path("ns", "p", "log") == "/api/v1/namespaces/ns/pods/p/log" and pods.subresources == {"log", "exec"}
    assert pods.answers_to("po") and pods.answers_to("Pod") and not pods.answers_to("log")
    assert nodes.answers_to("node") and not nodes.namespaced and nodes.path(None, "n") == "/api/v1/nodes/n"


def test_unqualified_kinds_are_searched_in_the_built_in_groups_first() -> None:
    core, apps, crd, events = (
        parse_resource_list("", "v1", {"resources": [{"name": "events", "kind": "Event", "namespaced": True}]})[0],
        parse_resource_list("apps", "v1", {"resources": [{"name": "deployments", "kind": "Deployment"}]})[0],
        parse_resource_list("example.com", "v1", {"resources": [{"name": "widgets", "kind": "Widget"}]})[0],
        parse_resource_list("events.k8s.io", "v1", {"resources": [{"name": "events", "kind": "Event"}]})[0],
    )
    assert ranked([crd, events, apps, core]) == [core, apps, crd, events]


def test_every_template_is_a_valid_manifest_with_a_description() -> None:
    shipped = templates()
    assert set(shipped) == {
        "deployment",
        "service",
        "ingress",
        "configmap",
        "job",
        "cronjob",
        "hpa",
        "statefulset",
        "networkpolicy",
        "pdb",
    }
    for template in shipped.values():
        doc = yaml.safe_load(template.text)
        assert doc["kind"] == template.kind and doc["metadata"]["name"]
        assert template.description and template.uri == f"k8s-template://{template.name}"


def test_templates_are_found_by_name_or_kind_and_unknown_names_list_the_known_ones() -> None:
    assert find_template("HorizontalPodAutoscaler").name == "hpa"
    assert find_template("Deployment").name == "deployment"
    with pytest.raises(errors.NotFound, match="templates: configmap, cronjob"):
        find_template("operator")
    index = yaml.safe_load(template_index())["templates"]
    assert {"name": "pdb", "kind": "PodDisruptionBudget"}.items() <= index[
        [t["name"] for t in index].index("pdb")
    ].items()


def test_the_node_summary_counts_ready_cordoned_and_pressure() -> None:
    nodes = [
        {"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        {
            "metadata": {"name": "b"},
            "spec": {"unschedulable": True},
            "status": {
                "conditions": [{"type": "Ready", "status": "False"}, {"type": "DiskPressure", "status": "True"}],
                "nodeInfo": {"kubeletVersion": "v1.36.3"},
            },
        },
    ]
    summary = summarize_nodes(nodes)
    assert summary["total"] == 2 and summary["ready"] == 1
    assert summary["not_ready"] == ["b"] and summary["cordoned"] == ["b"] and summary["pressure"] == ["b: DiskPressure"]


def test_the_pod_summary_counts_by_status_and_puts_the_worst_first() -> None:
    rows = [
        ("a", "ok", "Running", 0),
        ("a", "flappy", "Running", 9),
        ("b", "crash", "CrashLoopBackOff", 30),
        ("b", "done", "Completed", 0),
    ]
    summary = summarize_pods(rows)
    assert summary["by_status"] == {"Running": 2, "CrashLoopBackOff": 1, "Completed": 1}
    assert summary["problems"] == ["b/crash: CrashLoopBackOff, 30 restarts", "a/flappy: Running, 9 restarts"]


def test_pod_table_rows_give_status_and_restarts() -> None:
    columns = ["Name", "Ready", "Status", "Restarts", "Age"]
    table = [{"cells": ["p", "0/1", "Error", "4 (2m ago)", "5m"], "object": {"metadata": {"namespace": "x"}}}]
    assert _pod_rows(table, columns) == [("x", "p", "Error", 4)]


def test_workloads_below_their_replicas_are_degraded() -> None:
    deployments = [
        {"metadata": {"name": "web", "namespace": "a"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 1}},
        {"metadata": {"name": "ok", "namespace": "a"}, "spec": {"replicas": 1}, "status": {"readyReplicas": 1}},
    ]
    assert summarize_workloads("deployments", deployments) == {
        "total": 2,
        "healthy": 1,
        "degraded": ["a/web: 1/3 ready"],
    }
    ds = [{"metadata": {"name": "agent", "namespace": "k"}, "status": {"numberReady": 2, "desiredNumberScheduled": 2}}]
    assert summarize_workloads("daemonsets", ds)["degraded"] == []
    job = {
        "metadata": {"name": "j", "namespace": "a"},
        "status": {"conditions": [{"type": "Failed", "status": "True"}]},
    }
    assert summarize_jobs([job])["failed"] == ["a/j"]
    terminating = {"metadata": {"name": "old"}, "status": {"phase": "Terminating"}}
    assert summarize_namespaces([terminating])["terminating"] == ["old"]


def test_scrubbing_keeps_boolean_settings_whose_names_mention_tokens() -> None:
    from app.redaction import scrub_text

    text = "automountServiceAccountToken: false\npassword: null-pointer-42\n"
    assert scrub_text(text) == "automountServiceAccountToken: false\npassword: <redacted>\n"
    assert scrub_text(templates()["deployment"].text) == templates()["deployment"].text
