"""Approval rules: the file's schema and its one-line errors, matching, and the gate on actual requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings, load_settings
from app.errors import ConfigError, PolicyDenied
from app.kube.gate import Gate, current_gate, judge_objects, judge_request
from app.policy import Policy
from app.rules import Change, RuleBook, load_rules
from app.tools.catalog import exposed_specs

RULES = """
rules:
  - name: protect-prod
    verbs: [delete, deletecollection]
    namespaces: "prod-*"
    decision: deny
  - name: scratch-is-free
    names: ["scratch-*"]
    decision: allow
  - name: evictions-need-a-look
    kinds: [pods/eviction]
    decision: confirm
  - name: deployments-need-a-human
    apiGroups: [apps]
    kinds: [Deployment]
    decision: elicit
  - name: nodes-are-cluster-scoped
    kinds: [Node]
    namespaces: [""]
    decision: confirm
  - tools: ["helm_*"]
    kinds: ["*Binding"]
    decision: deny
"""


@pytest.fixture
def book(tmp_path: Path) -> RuleBook:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return load_rules(str(path))


def change(**kw: str | None) -> Change:
    base: dict[str, str | None] = {
        "tool": "resources_delete",
        "verb": "delete",
        "group": "",
        "resource": "configmaps",
        "kind": None,
        "subresource": None,
        "namespace": "dev",
        "name": "web",
    }
    base.update(kw)
    return Change(**base)  # type: ignore[arg-type]


def test_the_first_matching_rule_decides_and_names_itself(book: RuleBook) -> None:
    verdict = book.decide(change(namespace="prod-eu", name="scratch-1"))
    assert verdict is not None and (verdict.decision, verdict.rule) == ("deny", "approval rule 'protect-prod'")
    verdict = book.decide(change(namespace="dev", name="scratch-1"))
    assert verdict is not None and verdict.decision == "allow"


def test_a_change_no_rule_matches_has_no_verdict(book: RuleBook) -> None:
    assert book.decide(change(namespace="dev", name="web")) is None


def test_kinds_match_by_kind_plural_or_subresource(book: RuleBook) -> None:
    eviction = change(verb="create", resource="pods", subresource="eviction", name="web-0")
    assert book.decide(eviction).decision == "confirm"  # type: ignore[union-attr]
    assert book.decide(change(verb="delete", resource="pods", name="web-0")) is None  # the pod, not its eviction
    deployment = change(verb="patch", group="apps", resource="deployments", kind="Deployment")
    assert book.decide(deployment).decision == "elicit"  # type: ignore[union-attr]
    by_plural = change(verb="delete", group="apps", resource="deployments")  # deletes carry no Kind
    assert book.decide(by_plural).decision == "elicit"  # type: ignore[union-attr]
    assert book.decide(change(verb="patch", group="", resource="deployments")) is None  # wrong group


def test_an_empty_namespace_pattern_matches_cluster_scoped_objects(book: RuleBook) -> None:
    assert book.decide(change(verb="patch", resource="nodes", namespace="", name="n1")).decision == "confirm"  # type: ignore[union-attr]


def test_tool_globs_and_the_decisions_a_tool_can_reach(book: RuleBook) -> None:
    binding = change(tool="helm_install", verb="create", group="rbac.authorization.k8s.io", resource="rolebindings")
    assert book.decide(binding).rule == "approval rule #6"  # type: ignore[union-attr]
    assert book.decide(change(tool="resources_delete", verb="create", resource="rolebindings")) is None
    assert book.decisions_for("helm_install") == {"deny", "allow", "confirm", "elicit"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules:\n  - namespace: x\n    decision: allow\n", "rule #1: unknown field 'namespace' (known fields: name,"),
        ("rules:\n  - verbs: [get]\n    decision: deny\n", "'get' is not a change verb"),
        ("rules:\n  - kinds: [Pod]\n    decision: maybe\n", "'maybe' is not a decision"),
        ("rules:\n  - kinds: [Pod]\n", "rule #1 field 'decision': is required"),
        ("rulez: []\n", "top level: unknown field 'rulez'"),
        ("rules: [\n", "is not valid YAML"),
        ("- kinds: [Pod]\n", "must be a mapping with a 'rules' list"),
    ],
)
def test_a_bad_rule_file_stops_the_start_with_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(["--approval-rules", str(path)], environ={})
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_the_rule_file_comes_from_the_environment_too(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    settings = load_settings([], environ={"K8S_MCP_APPROVAL_RULES": str(path)})
    assert len(settings.rules.rules) == 6
    with pytest.raises(ConfigError, match="cannot read approval rules file"):
        load_settings([], environ={"K8S_MCP_APPROVAL_RULES": str(tmp_path / "missing.yaml")})


def test_a_tool_pattern_that_matches_no_tool_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: typo\n    tools: [resources_delte]\n    decision: deny\n")
    with pytest.raises(ConfigError, match="approval rule 'typo': tool pattern 'resources_delte' matches no tool"):
        exposed_specs(Policy(), Settings(approval_rules=str(path)))


def gate_for(book: RuleBook, tool: str = "resources_create_or_update", granted: str | None = None) -> Gate:
    return Gate(book, tool, "confirm", granted=granted)  # type: ignore[arg-type]


def test_the_gate_judges_the_object_each_request_changes(book: RuleBook) -> None:
    survey = gate_for(book)
    token = current_gate.set(survey)
    try:
        judge_request("PATCH", "/api/v1/namespaces/dev/configmaps/scratch-a", {"kind": "ConfigMap"})
        judge_request("GET", "/api/v1/namespaces/prod-1/configmaps/x")  # reads are not judged
        judge_request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {})  # nor reviews
        judge_request("PATCH", "/apis/apps/v1/namespaces/dev/deployments/web", {"kind": "Deployment"})
        with pytest.raises(
            PolicyDenied,
            match=r"^deletecollection configmaps in namespace prod-x is denied by approval rule 'protect-prod'$",
        ):
            judge_request("DELETE", "/api/v1/namespaces/prod-x/configmaps")  # a collection delete
    finally:
        current_gate.reset(token)
    seen = [(c.verb, c.name, v.decision) for c, v in survey.seen]
    assert seen == [("patch", "scratch-a", "allow"), ("patch", "web", "elicit")]
    assert survey.strongest().decision == "elicit"


def test_a_create_is_judged_by_the_name_in_its_body(book: RuleBook) -> None:
    survey = gate_for(book)
    token = current_gate.set(survey)
    try:
        judge_request("POST", "/api/v1/namespaces/dev/configmaps", {"kind": "ConfigMap", "metadata": {"name": "x"}})
    finally:
        current_gate.reset(token)
    assert [(c.verb, c.name, v.decision, v.rule) for c, v in survey.seen] == [("create", "x", "confirm", None)]


def test_the_real_run_refuses_what_was_not_approved(book: RuleBook) -> None:
    token = current_gate.set(gate_for(book, granted="confirm"))
    try:
        judge_request("POST", "/api/v1/namespaces/dev/pods/web-0/eviction", {})  # confirm was granted: fine
        with pytest.raises(PolicyDenied, match="needs elicit approval"):
            judge_request("PATCH", "/apis/apps/v1/namespaces/dev/deployments/web", {"kind": "Deployment"})
    finally:
        current_gate.reset(token)


def test_without_a_gate_nothing_is_judged(book: RuleBook) -> None:
    judge_request("DELETE", "/api/v1/namespaces/prod-x/configmaps/web")


def test_helm_objects_are_judged_one_by_one_with_cluster_scoped_ones_outside_namespaces(book: RuleBook) -> None:
    survey = gate_for(book, tool="helm_install")
    token = current_gate.set(survey)
    objects = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "scratch-cm"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}},
    ]
    try:
        judge_objects("create", objects, namespace="dev")
        with pytest.raises(PolicyDenied, match=r"create rolebindings.rbac.authorization.k8s.io dev/r .*rule #6"):
            judge_objects("create", [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                      "metadata": {"name": "r"}}], namespace="dev")  # fmt: skip
    finally:
        current_gate.reset(token)
    assert [(c.resource, c.namespace, v.decision) for c, v in survey.seen] == [
        ("configmaps", "dev", "allow"),
        ("clusterroles", "", "confirm"),
    ]


def test_the_field_manager_is_a_setting_with_the_go_servers_name_allowed() -> None:
    assert Settings().field_manager == "k8s-mcp"
    assert load_settings([], environ={"K8S_MCP_FIELD_MANAGER": "kubernetes-mcp-server"}).field_manager == (
        "kubernetes-mcp-server"
    )
    with pytest.raises(ConfigError, match="field_manager"):
        load_settings(["--field-manager", "x" * 129], environ={})
