"""Approval rules on the real control plane: each decision, per-object judging of applies and Helm releases,
and a rule file with a typo stopping the start.

The server runs with destructive tools on and approval at its default (confirm for destructive
tools), plus the rules below. Objects are told apart by their names, since every test works in a
fresh namespace.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import ROOT, Kubectl, ServerProcess, connect, rig_bin, start_server, text_of
from tests.integration.test_approval import eliciting_client, token_of

pytestmark = pytest.mark.anyio
CHART = str(ROOT / "tests" / "charts" / "hello")

RULES = """
rules:
  - name: keep-is-kept
    names: ["keep-*"]
    verbs: [update, patch, delete]
    decision: deny
  - name: scratch-is-free
    names: ["scratch-*"]
    decision: allow
  - name: deployments-need-a-human
    tools: [resources_create_or_update]
    kinds: [Deployment]
    decision: elicit
  - name: no-locked-config
    tools: ["helm_*"]
    kinds: [ConfigMap]
    names: [locked-config]
    decision: deny
"""


@pytest.fixture(scope="module")
def ruled(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("ruled")
    rules = tmp / "rules.yaml"
    rules.write_text(RULES)
    proc = start_server(
        tmp,
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--approval-rules",
        str(rules),
        "--helm-binary",
        str(rig_bin() / "helm"),
        "--rate-limit",
        "",
    )
    yield proc
    proc.stop()


def configmap(name: str, namespace: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {namespace}}}\ndata: {{k: v}}\n"


def names(kubectl: Kubectl, namespace: str, kind: str = "configmap") -> set[str]:
    out = kubectl("get", kind, "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}", check=False)
    return set(out.split()) - {"kube-root-ca.crt"}


def delete(name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": name, "namespace": namespace}


async def test_deny_answers_one_line_naming_the_rule_and_changes_nothing(
    ruled: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    kubectl("create", "configmap", "keep-me", "-n", namespace)
    async with connect(ruled.url, "auto") as client:
        result = await client.call_tool("resources_delete", delete("keep-me", namespace))
    text = text_of(result)
    assert result.is_error and "\n" not in text
    assert text == (
        f"failed to delete ConfigMap {namespace}/keep-me: delete configmaps {namespace}/keep-me is denied by "
        "approval rule 'keep-is-kept'"
    ), text
    assert "keep-me" in names(kubectl, namespace)


async def test_allow_runs_a_destructive_call_without_the_preview_it_would_otherwise_need(
    ruled: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    kubectl("create", "configmap", "scratch-1", "-n", namespace)
    async with connect(ruled.url, "auto") as client:
        result = await client.call_tool("resources_delete", delete("scratch-1", namespace))
    assert not result.is_error and "PREVIEW" not in text_of(result), text_of(result)
    kubectl.wait_until("deleted", lambda: "scratch-1" not in names(kubectl, namespace))
    audit = [line for line in ruled.logs().splitlines() if '"tool call"' in line and "scratch-1" in line]
    assert audit and '"rule": "approval rule \'scratch-is-free\'"' in audit[-1], audit


async def test_a_change_no_rule_matches_follows_the_approval_setting(
    ruled: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    kubectl("create", "configmap", "other", "-n", namespace)
    async with connect(ruled.url, "auto") as client:
        preview = await client.call_tool("resources_delete", delete("other", namespace))
        assert text_of(preview).startswith("PREVIEW ONLY, nothing was changed: resources_delete needs approval.")
        assert "other" in names(kubectl, namespace)
        done = await client.call_tool(
            "resources_delete", {**delete("other", namespace), "approvalToken": token_of(preview)}
        )
    assert not done.is_error, text_of(done)
    kubectl.wait_until("deleted", lambda: "other" not in names(kubectl, namespace))


async def test_elicit_asks_the_human_and_a_refusal_changes_nothing(
    ruled: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    manifest = (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {namespace}}}\n"
        "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: registry.example/web:1}]}\n"
    )
    async with eliciting_client(ruled.url, "legacy", "decline") as client:
        declined = await client.call_tool("resources_create_or_update", {"resource": manifest})
    assert declined.is_error and "not approved" in text_of(declined)
    assert "web" not in names(kubectl, namespace, "deployment")
    async with eliciting_client(ruled.url, "auto", "accept") as client:
        accepted = await client.call_tool("resources_create_or_update", {"resource": manifest})
    assert not accepted.is_error, text_of(accepted)
    assert "web" in names(kubectl, namespace, "deployment")


async def test_a_multi_document_apply_is_judged_per_object(
    ruled: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    kubectl("create", "configmap", "keep-b", "-n", namespace)
    allowed_then_denied = configmap("scratch-a", namespace) + "---\n" + configmap("keep-b", namespace)
    async with connect(ruled.url, "auto") as client:
        denied = await client.call_tool("resources_create_or_update", {"resource": allowed_then_denied})
        text = text_of(denied)
        assert denied.is_error and "\n" not in text and "approval rule 'keep-is-kept'" in text, text
        assert f"patch configmaps {namespace}/keep-b is denied" in text
        # the survey stopped before anything was written: not even the allowed first object exists
        assert names(kubectl, namespace) == {"keep-b"}

        allowed_and_unmatched = configmap("scratch-c", namespace) + "---\n" + configmap("plain-d", namespace)
        preview = await client.call_tool("resources_create_or_update", {"resource": allowed_and_unmatched})
        assert text_of(preview).startswith("PREVIEW ONLY"), text_of(preview)  # plain-d follows the setting
        assert "ConfigMap/scratch-c created (dry run)" in text_of(preview)
        assert "ConfigMap/plain-d created (dry run)" in text_of(preview)
        assert names(kubectl, namespace) == {"keep-b"}
        done = await client.call_tool(
            "resources_create_or_update", {"resource": allowed_and_unmatched, "approvalToken": token_of(preview)}
        )
        assert not done.is_error, text_of(done)
        assert names(kubectl, namespace) == {"keep-b", "scratch-c", "plain-d"}

        only_allowed = configmap("scratch-e", namespace) + "---\n" + configmap("scratch-f", namespace)
        direct = await client.call_tool("resources_create_or_update", {"resource": only_allowed})
        assert not direct.is_error and "PREVIEW" not in text_of(direct), text_of(direct)
    assert {"scratch-e", "scratch-f"} <= names(kubectl, namespace)


async def test_a_helm_release_is_judged_per_object_it_renders(
    ruled: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    async with connect(ruled.url, "auto") as client:
        denied = await client.call_tool("helm_install", {"chart": CHART, "name": "locked", "namespace": namespace})
        text = text_of(denied)
        assert denied.is_error and "\n" not in text, text
        assert f"create configmaps {namespace}/locked-config is denied by approval rule 'no-locked-config'" in text
        missing = await client.call_tool("helm_status", {"name": "locked", "namespace": namespace})
        assert missing.is_error  # the release was never installed
        installed = await client.call_tool("helm_install", {"chart": CHART, "name": "free", "namespace": namespace})
        assert not installed.is_error, text_of(installed)
    assert "free-config" in names(kubectl, namespace) and "locked-config" not in names(kubectl, namespace)


def test_a_rule_file_with_a_typo_stops_the_start_with_one_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: oops\n    namespace: prod\n    decision: deny\n")
    done = subprocess.run(
        [sys.executable, "-m", "app", "--approval-rules", str(rules), "--kubeconfig", "/nonexistent"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"k8s-mcp: approval rules file {rules}: rule #1: unknown field 'namespace' "
        "(known fields: name, tools, verbs, apiGroups, kinds, namespaces, names, decision)\n"
    )
