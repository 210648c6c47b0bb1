"""The redaction corpus on the real control plane: planted credentials leave through no output.

One value per credential format (tests/redaction_corpus.py) is planted in each carrier: ConfigMap
data, a Pod's env values and annotations, a Helm release's values and its rendered manifest and notes
(tests/charts/planted), and a file the pod's command prints (kwok runs exec on the host, so pods_exec
output is real command output; the kwok pods' log is one fixed file for the whole cluster, so the log
path is covered by tests/unit/test_redaction_paths.py, through the same pipeline). Every read of them
(tools, structured content, the k8s:// resources, a prompt, Helm values/manifest/status) and the
server's own log and audit lines must carry none of them, while the look-alikes (digests, UIDs,
resourceVersions, plain URLs, ordinary base64) come out unchanged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import ROOT, Kubectl, ServerProcess, connect, start_unguarded_server, text_of
from tests.redaction_corpus import LOOK_ALIKES, PLANTS

pytestmark = pytest.mark.anyio

CHART = str(ROOT / "tests" / "charts" / "planted")
DIGEST_IMAGE = next(v for v in LOOK_ALIKES if v.startswith("registry.example.com/team/app@sha256:"))
SECRETS = {plant.name: plant.secret for plant in PLANTS}


def _manifest(namespace: str) -> str:
    planted = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "planted", "namespace": namespace},
        "data": {plant.name: plant.value for plant in PLANTS},
    }
    lookalikes = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "lookalikes", "namespace": namespace},
        "data": {f"l{i}": value for i, value in enumerate(LOOK_ALIKES)},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "planted",
            "namespace": namespace,
            "annotations": {f"corpus.example.com/{plant.name}": plant.value for plant in PLANTS},
        },
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": DIGEST_IMAGE,
                    # Neutral names: the values must be caught by their format, not by a telling name.
                    "env": [{"name": f"V{i}", "value": plant.value} for i, plant in enumerate(PLANTS)],
                }
            ]
        },
    }
    return yaml.safe_dump_all([planted, lookalikes, pod])


@pytest.fixture(scope="module")
def corpus_server(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Destructive tools on and approval off (exec and helm_install are carriers here, not the subject)."""
    proc = start_unguarded_server(tmp_path_factory.mktemp("corpus"), kubeconfig)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def planted(kubectl: Kubectl) -> Iterator[str]:
    """A namespace holding the planted ConfigMap and Pod (Running, so exec works) and the look-alikes."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    kubectl.wait_until("default service account", lambda: kubectl("get", "sa", "default", "-n", name, check=False))
    kubectl.apply(_manifest(name))
    kubectl.wait_until(
        "pod planted Running",
        lambda: kubectl("get", "pod", "planted", "-n", name, "-o", "jsonpath={.status.phase}") == "Running",
    )
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exec") / "corpus.txt"
    path.write_text("".join(f"{plant.name}={plant.value}\n" for plant in PLANTS))
    return path


def _shown(result: Any) -> str:
    """Everything a tool result carries: its text and its structured content."""
    return text_of(result) + "\n" + json.dumps(result.structured_content)


def _leaks(outputs: dict[str, str]) -> list[tuple[str, str]]:
    return [(where, name) for where, text in outputs.items() for name, secret in SECRETS.items() if secret in text]


async def _call(client: Any, tool: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool}: {text_of(result)}"
    return result


async def test_no_planted_credential_leaves_through_any_read_of_objects(
    corpus_server: ServerProcess, planted: str, corpus_file: Path, era: str
) -> None:
    ns = planted
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "name": "planted", "namespace": ns}
    pod = {"apiVersion": "v1", "kind": "Pod", "name": "planted", "namespace": ns}
    outputs: dict[str, str] = {}
    async with connect(corpus_server.url, era) as client:
        shown_configmap = await _call(client, "resources_get", configmap)
        outputs["resources_get configmap"] = _shown(shown_configmap)
        outputs["resources_get pod"] = _shown(await _call(client, "resources_get", pod))
        outputs["pods_get"] = _shown(await _call(client, "pods_get", {"name": "planted", "namespace": ns}))
        outputs["resources_describe pod"] = _shown(await _call(client, "resources_describe", pod))
        outputs["resources_list configmaps"] = _shown(
            await _call(client, "resources_list", {"apiVersion": "v1", "kind": "ConfigMap", "namespace": ns})
        )
        for kind in ("configmaps", "pods"):
            read = await client.read_resource(f"k8s://current/{ns}/{kind}/planted")
            outputs[f"k8s:// {kind}"] = "\n".join(str(c.text) for c in read.contents)
        prompt = await client.get_prompt("troubleshoot_pod", {"namespace": ns, "pod": "planted"})
        outputs["prompt troubleshoot_pod"] = "\n".join(str(m.content.text) for m in prompt.messages)
        outputs["pods_exec"] = _shown(
            await _call(client, "pods_exec", {"name": "planted", "namespace": ns, "command": ["cat", str(corpus_file)]})
        )
    assert not _leaks(outputs), _leaks(outputs)
    # What was planted is really there, scrubbed, not missing.
    data = yaml.safe_load(text_of(shown_configmap))["data"]
    for plant in PLANTS:
        assert "<redacted" in data[plant.name], plant.name
        for kept in plant.kept:
            assert kept in data[plant.name], (plant.name, kept)
    assert outputs["pods_exec"].count("<redacted") >= len(PLANTS)
    assert "[exit code 0]" in outputs["pods_exec"]


async def test_no_planted_credential_leaves_through_helm_values_manifest_or_notes(
    corpus_server: ServerProcess, planted: str
) -> None:
    release = {"name": "corpus", "namespace": planted}
    values = {"data": {plant.name: plant.value for plant in PLANTS}}
    outputs: dict[str, str] = {}
    async with connect(corpus_server.url, "legacy") as client:
        outputs["helm_install"] = _shown(
            await _call(client, "helm_install", {"chart": CHART, **release, "values": values})
        )
        outputs["helm_status"] = _shown(await _call(client, "helm_status", release))
        outputs["helm_get_values"] = _shown(await _call(client, "helm_get_values", release))
        outputs["helm_get_values all"] = _shown(await _call(client, "helm_get_values", {**release, "all": True}))
        outputs["helm_get_manifest"] = _shown(await _call(client, "helm_get_manifest", release))
        outputs["rendered configmap"] = _shown(
            await _call(
                client,
                "resources_get",
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "corpus-planted", "namespace": planted},
            )
        )
    assert not _leaks(outputs), _leaks(outputs)
    manifest = outputs["helm_get_manifest"]
    assert "kind: ConfigMap" in manifest and "name: V0" in manifest and "postgres://admin:<redacted>@db" in manifest
    assert "corpus is configured with:" in outputs["helm_status"]


async def test_look_alikes_come_out_unchanged(
    corpus_server: ServerProcess, planted: str, kubectl: Kubectl, era: str
) -> None:
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "name": "lookalikes", "namespace": planted}
    async with connect(corpus_server.url, era) as client:
        shown = await _call(client, "resources_get", configmap)
        pod = await _call(client, "pods_get", {"name": "planted", "namespace": planted})
        resource = await client.read_resource(f"k8s://current/{planted}/configmaps/lookalikes")
    data = yaml.safe_load(text_of(shown))["data"]
    assert [data[f"l{i}"] for i in range(len(LOOK_ALIKES))] == list(LOOK_ALIKES)
    assert yaml.safe_load(str(resource.contents[0].text))["data"] == data
    assert json.dumps(shown.structured_content).count("<redacted") == 0
    uid = kubectl("get", "pod", "planted", "-n", planted, "-o", "jsonpath={.metadata.uid}")
    version = kubectl("get", "pod", "planted", "-n", planted, "-o", "jsonpath={.metadata.resourceVersion}")
    shown_pod = yaml.safe_load(text_of(pod))
    assert shown_pod["metadata"]["uid"] == uid
    assert int(shown_pod["metadata"]["resourceVersion"]) >= int(version)
    assert shown_pod["spec"]["containers"][0]["image"] == DIGEST_IMAGE


async def test_the_server_log_and_audit_lines_carry_no_planted_credential(
    corpus_server: ServerProcess, planted: str
) -> None:
    async with connect(corpus_server.url, "legacy") as client:
        # A call whose arguments carry every planted value (audit line) and that fails (error line).
        result = await client.call_tool(
            "resources_get",
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "missing", "namespace": planted},
        )
        assert result.is_error
        await client.call_tool(
            "pods_exec", {"name": "planted", "namespace": planted, "command": ["echo", PLANTS[0].value]}
        )
    logs = corpus_server.logs()
    assert '"message": "tool call"' in logs
    assert not [name for name, secret in SECRETS.items() if secret in logs]
