"""Over stdio, one client is one session: after switchContext, resources, prompts and completion follow it.

The kubeconfig's current context points at a port where nothing listens; a second context 'live'
points at the real control plane. Until the session switches, everything that uses the default
context fails to reach a cluster; after ``switchContext('live')`` a ``k8s://current/...`` read, a
prompt that reads the pod and a completion all reach the live cluster, like the tool calls do.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from mcp import Client, StdioServerParameters

from tests.integration.conftest import ROOT, Kubectl, free_port, text_of
from tests.integration.test_prompts_resources import plan_of, read, read_error

pytestmark = pytest.mark.anyio


def dead_then_live(kubeconfig: Path, namespace: str, tmp_path: Path) -> Path:
    doc = yaml.safe_load(kubeconfig.read_text())
    live = json.loads(json.dumps(doc["contexts"][0]))
    live["name"] = "live"
    live["context"]["namespace"] = namespace
    doc["clusters"].append(
        {"name": "dead", "cluster": {"server": f"https://127.0.0.1:{free_port()}", "insecure-skip-tls-verify": True}}
    )
    doc["contexts"] = [{"name": "dead", "context": {"cluster": "dead", "user": live["context"]["user"]}}, live]
    doc["current-context"] = "dead"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


async def test_after_switch_context_over_stdio_resources_prompts_and_completion_use_the_new_context(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    kubectl("run", "marker", "--image", "busybox", "-n", namespace)
    config = dead_then_live(kubeconfig, namespace, tmp_path)
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "app", "--transport", "stdio", "--tool-profile", "infra", "--kubeconfig", str(config)],
        cwd=str(ROOT),
    )
    uri = f"k8s://current/{namespace}/pods/marker"
    pod = {"namespace": namespace, "pod": "marker"}
    async with Client(server) as client:
        unreachable = await read_error(client, uri)
        plan_before = await plan_of(client, "troubleshoot_pod", pod)
        switched = await client.call_tool("switchContext", {"contextName": "live"})
        current = await client.call_tool("getCurrentContext", {})
        marker = yaml.safe_load(await read(client, uri))
        summary = yaml.safe_load(await read(client, "k8s://summary"))
        plan_after = await plan_of(client, "troubleshoot_pod", pod)
        completed = await client.complete(
            {"type": "ref/prompt", "name": "troubleshoot_pod"},
            {"name": "pod", "value": "mar"},
            {"namespace": namespace},
        )
    assert unreachable.code == -32603 and "cannot reach the API server" in unreachable.message
    assert "could not read pod" in plan_before and "diagnosis:" not in plan_before
    assert not switched.is_error, text_of(switched)
    assert current.structured_content["name"] == "live"
    assert marker["metadata"]["name"] == "marker" and marker["metadata"]["namespace"] == namespace
    assert summary["context"] == "live" and summary["nodes"]["total"] >= 1
    assert "diagnosis:" in plan_after and "could not read" not in plan_after
    assert completed.completion.values == ["marker"]
