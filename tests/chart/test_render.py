"""The chart as rendered by `helm template`: hardening, RBAC from values, the config file, optional objects.

No cluster needed; the real install is in tests/integration/test_in_cluster.py and the server-side
dry run of every ci/ scenario in rig/chart-checks.sh.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import Settings, load_settings
from app.rules import load_rules
from tests.chart.conftest import CHART, Render, kinds, one

WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
CHART_MANAGED_SETTINGS = {
    "host",
    "port",
    "transport",
    "kubeconfig",
    "context",
    "in_cluster",
    "service_account_dir",
    "state_namespace",  # from stateNamespace (default: the release namespace), where the chart's Role for it is
    # secrets come from Kubernetes Secrets (auth.tokensSecretName, approval.secretName), never the ConfigMap
    "auth_tokens_file",
    "auth_token",
    "approval_secret",
    # rendered from the approvalRules value into the ConfigMap
    "approval_rules",
}


def rules_of(objects: list[dict[str, Any]], kind: str = "ClusterRole") -> list[dict[str, Any]]:
    return [rule for o in objects if o["kind"] == kind for rule in o["rules"]]


def server_settings(objects: list[dict[str, Any]], tmp_path: Path) -> Settings:
    config = tmp_path / "config.yaml"
    config.write_text(one(objects, "ConfigMap")["data"]["config.yaml"])
    return load_settings(["--config", str(config)], environ={})


def test_default_install_renders_only_the_core_objects(render: Render) -> None:
    assert kinds(render()) == [
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "Deployment",
        "Service",
        "ServiceAccount",
    ]


def test_the_pod_is_hardened_and_probed_on_healthz_and_readyz(render: Render) -> None:
    pod = one(render(), "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["enableServiceLinks"] is False
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert container["args"][:2] == ["--config", "/etc/k8s-mcp/config/config.yaml"]


def test_default_rbac_reads_everything_but_secrets_and_writes_nothing(render: Render) -> None:
    rules = rules_of(render())
    assert all(set(rule["verbs"]) <= {"get", "list", "watch"} for rule in rules)
    core = [r for r in rules if r["apiGroups"] == [""]]
    assert "secrets" not in core[0]["resources"] and "pods/log" in core[0]["resources"]
    assert not any("*" in r["apiGroups"] for r in rules), "a '*' group would include core Secrets"
    groups = {g for r in rules for g in r["apiGroups"]}
    assert {"apps", "batch", "metrics.k8s.io", "apiextensions.k8s.io"} <= groups


def test_write_rules_and_exec_appear_only_when_enabled(render: Render) -> None:
    rules = rules_of(render("--set", "rbac.write=true", "--set", "rbac.writeGroups={example.com}"))
    writes = [r for r in rules if WRITE_VERBS & set(r["verbs"])]
    assert any(r["apiGroups"] == [""] and "pods" in r["resources"] for r in writes)
    assert any("example.com" in r["apiGroups"] for r in writes)
    assert not any("secrets" in r["resources"] for r in rules)
    assert not any("pods/exec" in r["resources"] for r in rules)
    exec_rules = rules_of(render("--set", "rbac.exec=true"))
    assert any("pods/exec" in r["resources"] for r in exec_rules)


def test_namespaced_rbac_gives_a_role_per_namespace_and_nothing_cluster_wide(render: Render) -> None:
    objects = render("--set", "rbac.namespaced=true", "--set", "rbac.namespaces={apps,data}")
    assert "ClusterRole" not in kinds(objects) and "ClusterRoleBinding" not in kinds(objects)
    roles = [o for o in objects if o["kind"] == "Role"]
    bindings = [o for o in objects if o["kind"] == "RoleBinding"]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["apps", "data"]
    assert all(b["subjects"][0]["namespace"] == "tools" for b in bindings)
    core = rules_of(objects, "Role")[0]["resources"]
    assert "nodes" not in core and "namespaces" not in core


def test_the_config_map_is_a_config_file_the_server_accepts(render: Render, tmp_path: Path) -> None:
    settings = server_settings(render(), tmp_path)
    assert settings.in_cluster == "true" and settings.port == 8008 and settings.read_only is True
    for host in ("mcp-k8s-mcp", "mcp-k8s-mcp.tools", "mcp-k8s-mcp.tools.svc", "mcp-k8s-mcp.tools.svc.cluster.local"):
        assert host in settings.allowed_hosts
    assert "localhost" in settings.allowed_hosts


def test_ingress_hosts_and_extra_hosts_are_accepted_as_host_headers(render: Render, tmp_path: Path) -> None:
    objects = render(
        "-f", str(CHART / "ci" / "ingress-hpa-pdb-values.yaml"), "--set", "config.allowed_hosts={mcp.internal}"
    )
    settings = server_settings(objects, tmp_path)
    assert {"mcp.example.com", "mcp.internal"} <= set(settings.allowed_hosts)
    assert settings.stateless is True


def test_read_only_follows_rbac_write_unless_set(render: Render, tmp_path: Path) -> None:
    assert server_settings(render("--set", "rbac.write=true"), tmp_path).read_only is False
    assert server_settings(render("--set", "rbac.write=true,config.read_only=true"), tmp_path).read_only is True


def test_a_settings_change_rolls_the_pods_through_the_checksum(render: Render) -> None:
    def checksum(*args: str) -> str:
        return str(one(render(*args), "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum() == checksum()
    assert checksum() != checksum("--set", "config.log_level=DEBUG")


def test_scaling_out_renders_hpa_pdb_ingress_networkpolicy_and_servicemonitor(render: Render) -> None:
    objects = render("-f", str(CHART / "ci" / "ingress-hpa-pdb-values.yaml"))
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "NetworkPolicy", "ServiceMonitor"} <= set(
        kinds(objects)
    )
    assert "replicas" not in one(objects, "Deployment")["spec"], "the HPA owns the replica count"
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert "k8s-mcp/warning" not in hpa["metadata"].get("annotations", {}), "stateless: no session warning"
    policy = one(objects, "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_the_hpa_is_marked_when_replicas_would_break_legacy_sessions(render: Render) -> None:
    hpa = one(render("--set", "autoscaling.enabled=true"), "HorizontalPodAutoscaler")
    assert "Mcp-Session-Id" in hpa["metadata"]["annotations"]["k8s-mcp/warning"]


def test_a_kubeconfig_secret_replaces_the_in_cluster_credentials(render: Render, tmp_path: Path) -> None:
    objects = render("--set", "kubeconfig.secretName=remote", "--set", "kubeconfig.context=prod")
    settings = server_settings(objects, tmp_path)
    assert settings.in_cluster == "false" and settings.context == "prod"
    assert settings.kubeconfig == "/etc/k8s-mcp/kubeconfig/config"
    volumes = one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "kubeconfig", "secret": {"secretName": "remote", "defaultMode": 0o440}} in volumes


def test_every_server_setting_is_either_in_the_values_schema_or_set_by_the_chart() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    in_schema = set(schema["properties"]["config"]["properties"])
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert set(Settings.model_fields) - CHART_MANAGED_SETTINGS == in_schema, (
        "a server setting was added or removed: update config in charts/k8s-mcp/values.yaml and values.schema.json"
    )
    assert set(values["config"]) == in_schema


def test_writes_bring_the_approval_ledger_role_for_leases_in_the_state_namespace_only(
    render: Render, tmp_path: Path
) -> None:
    assert not [o for o in render() if o["metadata"]["name"].endswith("-state")]  # read-only: no approvals
    objects = render("--set", "rbac.write=true")
    [role] = [o for o in objects if o["kind"] == "Role"]
    assert role["metadata"] == {**role["metadata"], "name": "mcp-k8s-mcp-state", "namespace": "tools"}
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create", "list", "delete"]}
    ]
    [binding] = [o for o in objects if o["kind"] == "RoleBinding"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mcp-k8s-mcp", "namespace": "tools"}]
    assert server_settings(objects, tmp_path).state_namespace == "tools"
    elsewhere = render("--set", "rbac.write=true", "--set", "stateNamespace=mcp-state")
    [role] = [o for o in elsewhere if o["kind"] == "Role"]
    assert role["metadata"]["namespace"] == "mcp-state"
    assert server_settings(elsewhere, tmp_path).state_namespace == "mcp-state"
    no_ledger = render("--set", "rbac.write=true", "--set", "config.approval_ledger=false")
    assert not [o for o in no_ledger if o["kind"] == "Role"]


def approval_env(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    env = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0].get("env") or []
    return [e for e in env if e["name"] == "K8S_MCP_APPROVAL_SECRET"]


def test_a_shared_approval_key_secret_is_created_unless_one_is_given(render: Render) -> None:
    objects = render("--set", "rbac.write=true")
    secret = one(objects, "Secret")
    assert secret["metadata"]["name"] == "mcp-k8s-mcp-approval" and len(secret["data"]["secret"]) >= 48
    assert approval_env(objects) == [
        {
            "name": "K8S_MCP_APPROVAL_SECRET",
            "valueFrom": {"secretKeyRef": {"name": "mcp-k8s-mcp-approval", "key": "secret"}},
        }
    ]
    own = render("--set", "rbac.write=true", "--set", "approval.secretName=mine", "--set", "approval.key=k")
    assert not [o for o in own if o["kind"] == "Secret"]
    assert approval_env(own)[0]["valueFrom"]["secretKeyRef"] == {"name": "mine", "key": "k"}
    assert not approval_env(render())  # read-only: nothing to approve


def test_shutdown_is_preStop_then_a_drain_that_the_grace_period_covers(render: Render) -> None:
    pod = one(render(), "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    assert pod["terminationGracePeriodSeconds"] == 35 >= 5 + 2 + 20
    assert container["readinessProbe"]["periodSeconds"] <= 2
    with pytest.raises(AssertionError, match=r"must cover lifecycle\.preStopSeconds"):
        render("--set", "terminationGracePeriodSeconds=20")
    none = one(render("--set", "lifecycle.preStopSeconds=0"), "Deployment")["spec"]["template"]["spec"]
    assert "lifecycle" not in none["containers"][0]


def test_tracing_is_off_unless_an_endpoint_is_set_and_then_configured_by_otel_variables(render: Render) -> None:
    def env_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
        env = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0].get("env") or []
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in env}

    assert not [name for name in env_of(render()) if name.startswith("OTEL_")]
    env = env_of(
        render(
            "--set",
            "tracing.endpoint=http://collector.obs:4317",
            "--set",
            "tracing.protocol=grpc",
            "--set",
            "tracing.headersSecretName=otel-key",
        )
    )
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector.obs:4317"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc" and env["OTEL_SERVICE_NAME"] == "k8s-mcp"
    assert "k8s.pod.name=$(POD_NAME)" in env["OTEL_RESOURCE_ATTRIBUTES"]
    assert env["OTEL_EXPORTER_OTLP_HEADERS"] == {"secretKeyRef": {"name": "otel-key", "key": "headers"}}


ISSUER = ("--set", "config.oidc_issuer=https://idp.example.com/realms/k8s")


def test_passthrough_gives_the_pod_no_token_and_the_release_no_rbac(render: Render, tmp_path: Path) -> None:
    objects = render(*ISSUER, "--set", "config.cluster_auth=passthrough")
    assert not {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} & set(kinds(objects))
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    cluster = next(v for v in pod["volumes"] if v["name"] == "cluster")["projected"]["sources"]
    assert cluster[0]["configMap"]["name"] == "kube-root-ca.crt"
    assert cluster[1]["downwardAPI"]["items"][0]["path"] == "namespace"
    mounts = pod["containers"][0]["volumeMounts"]
    assert {"name": "cluster", "mountPath": "/etc/k8s-mcp/cluster", "readOnly": True} in mounts
    settings = server_settings(objects, tmp_path)
    assert settings.cluster_auth_mode == "passthrough" and settings.service_account_dir == "/etc/k8s-mcp/cluster"


def test_impersonation_grants_impersonate_on_users_and_groups(render: Render, tmp_path: Path) -> None:
    for switch in ("config.cluster_auth=impersonate", "config.impersonate=true"):
        objects = render(*ISSUER, "--set", switch, "--set", "rbac.namespaced=true")
        role = next(o for o in objects if o["kind"] == "ClusterRole" and o["metadata"]["name"].endswith("-impersonate"))
        assert role["rules"] == [{"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]}]
        assert one(objects, "ClusterRoleBinding")["roleRef"]["name"] == role["metadata"]["name"]
        assert "Role" in kinds(objects)  # the namespaced read rules stay as they were
        assert server_settings(objects, tmp_path).cluster_auth_mode == "impersonate"
    assert not [o for o in render() if o["metadata"]["name"].endswith("-impersonate")]


def test_a_private_idp_ca_is_mounted_for_the_issuer(render: Render, tmp_path: Path) -> None:
    objects = render(*ISSUER, "--set", "oidc.caConfigMap=idp-ca")
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert {"name": "oidc-ca", "configMap": {"name": "idp-ca"}} in pod["volumes"]
    assert server_settings(objects, tmp_path).oidc_ca_file == "/etc/k8s-mcp/oidc-ca/ca.crt"


def test_acting_as_the_caller_without_authentication_is_refused_at_render(render: Render) -> None:
    for mode in ("impersonate", "passthrough"):
        try:
            render("--set", f"config.cluster_auth={mode}")
        except AssertionError as e:
            assert f"config.cluster_auth={mode} needs authenticated callers" in str(e)
        else:
            raise AssertionError(f"{mode} without oidc_issuer or static tokens rendered")


def test_approval_rules_and_the_field_manager_reach_the_server_from_values(render: Render, tmp_path: Path) -> None:
    rules = [{"name": "no-prod-deletes", "verbs": ["delete"], "namespaces": ["prod-*"], "decision": "deny"}]
    objects = render(
        "--set-json", f"approvalRules={json.dumps(rules)}", "--set", "config.field_manager=kubernetes-mcp-server"
    )
    data = one(objects, "ConfigMap")["data"]
    config = yaml.safe_load(data["config.yaml"])
    assert config["approval_rules"] == "/etc/k8s-mcp/config/approval-rules.yaml"
    assert config["field_manager"] == "kubernetes-mcp-server"
    mounts = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert any(m["name"] == "config" and m["mountPath"] == "/etc/k8s-mcp/config" for m in mounts)
    path = tmp_path / "approval-rules.yaml"
    path.write_text(data["approval-rules.yaml"])
    book = load_rules(str(path))
    assert [(r.name, r.decision) for r in book.rules] == [("no-prod-deletes", "deny")]
    assert "approval-rules.yaml" not in one(render(), "ConfigMap")["data"]


def test_node_maintenance_rbac_is_a_patch_on_nodes_only_when_asked(render: Render) -> None:
    def node_writes(*args: str) -> list[dict[str, Any]]:
        return [r for r in rules_of(render(*args)) if "nodes" in r["resources"] and WRITE_VERBS & set(r["verbs"])]

    assert node_writes("--set", "rbac.write=true") == []
    assert node_writes("--set", "rbac.nodeMaintenance=true") == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["patch"]}
    ]
    namespaced = render("--set", "rbac.namespaced=true,rbac.nodeMaintenance=true")
    assert not any("nodes" in r["resources"] for r in rules_of(namespaced, "Role"))
