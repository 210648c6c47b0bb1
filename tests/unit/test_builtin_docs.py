"""Documentation without a cluster: the kubernetes client's models rebuilt as OpenAPI, explained and searched."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest

from app.errors import ToolInputError
from app.kube import builtin_docs
from app.tools.cluster import explain


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return builtin_docs.document()


def test_the_source_names_the_release_the_installed_client_describes() -> None:
    source = builtin_docs.source()
    assert source.client == kubernetes.__version__
    # The client's major version follows the Kubernetes minor release it was generated from (37.x -> 1.37).
    assert source.kubernetes == f"1.{kubernetes.__version__.split('.')[0]}"
    assert source.line().startswith(f"Kubernetes {source.kubernetes} field documentation")


def test_a_field_is_explained_with_type_description_and_children(doc: dict[str, Any]) -> None:
    ex = explain.explain(doc, group="apps", version="v1", kind="Deployment", path="spec.template.spec.containers")
    assert (ex.api_version, ex.type) == ("apps/v1", "[]Container")
    assert ex.description.startswith("List of containers belonging to the pod.")
    fields = {f.name: f for f in ex.fields}
    assert fields["name"].required and fields["image"].type == "string"
    assert fields["livenessProbe"].type == "Probe" and fields["livenessProbe"].description  # the type's own words
    assert fields["ports"].type == "[]ContainerPort"


def test_int_or_string_maps_and_times_read_like_kubectl(doc: dict[str, Any]) -> None:
    assert explain.explain(doc, group="", version="v1", kind="Service", path="spec.ports.targetPort").type == (
        "IntOrString"
    )
    meta = {f.name: f.type for f in explain.explain(doc, group="", version="v1", kind="Pod", path="metadata").fields}
    assert meta["labels"] == "map[string]string" and meta["creationTimestamp"] == "string"


def test_kinds_carry_their_group_version_including_same_named_kinds(doc: dict[str, Any]) -> None:
    kinds = {(k.api_version, k.kind) for k in explain.top_kinds(doc)}
    assert {
        ("v1", "Pod"),
        ("apps/v1", "Deployment"),
        ("batch/v1", "CronJob"),
        ("policy/v1", "PodDisruptionBudget"),
    } <= kinds
    assert {("v1", "Event"), ("events.k8s.io/v1", "Event")} <= kinds
    assert not any(kind.endswith("List") for _, kind in kinds)


def test_an_unknown_field_names_the_ones_that_exist(doc: dict[str, Any]) -> None:
    with pytest.raises(ToolInputError, match=r"field .replicaz. does not exist in spec; its fields: .*replicas"):
        explain.explain(doc, group="apps", version="v1", kind="Deployment", path="spec.replicaz")


def test_search_finds_fields_by_name_then_description_each_shared_field_once(doc: dict[str, Any]) -> None:
    search = explain.Search("liveness probe")
    search.visit(doc)
    found = search.results()
    first = found[0]
    assert (first.kind, first.path, first.type) == ("Pod", "spec.containers.livenessProbe", "Probe")
    assert len(first.kinds) > 5  # Deployment, StatefulSet, Job, ... share the container's field
    assert all("livenessprobe." not in (m.path or "").lower() for m in found)  # children of a hit are not repeated


def test_search_matches_kinds_and_narrows_by_kind(doc: dict[str, Any]) -> None:
    search = explain.Search("cron")
    search.visit(doc)
    assert (search.results()[0].kind, search.results()[0].path) == ("CronJob", None)
    narrowed = explain.Search("replicas", kind="deployments")
    narrowed.visit(doc)
    assert {m.kind for m in narrowed.results()} == {"Deployment"}
    assert "spec.replicas" in [m.path for m in narrowed.results()]
