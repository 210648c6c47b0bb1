"""Interoperability: the official TypeScript SDK (a second, independent MCP client) drives the server.

tests/interop/client.mjs connects over streamable HTTP, lists and calls tools (the SDK itself checks
every structuredContent against the tool's outputSchema), reads a prompt and a resource, and ends its
session; this test asserts on the JSON report it prints. Its dependencies come from
tests/interop/package-lock.json (`make integration` runs `npm ci` there).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.integration.conftest import Kubectl, ServerProcess
from tests.integration.test_rig import running_pods

INTEROP = Path(__file__).resolve().parents[1] / "interop"


def test_the_typescript_sdk_client_lists_calls_reads_and_validates_output(
    server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    node = shutil.which("node")
    assert node, "node is required for the interoperability test (the README lists it)"
    assert (INTEROP / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir(), "run: npm ci --prefix tests/interop"
    kubectl("run", "solo", "--image=busybox", "-n", namespace)
    kubectl.wait_until("the pod runs", lambda: len(running_pods(kubectl, namespace, "run=solo")) == 1)
    completed = subprocess.run(
        [node, str(INTEROP / "client.mjs"), server.url, namespace, "solo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)

    assert report["protocolVersion"] == "2025-11-25" and report["sessionId"]
    assert report["server"]["name"] == "k8s-mcp"
    tools = {t["name"]: t for t in report["tools"]}
    assert {"pods_list", "pods_get", "resources_get", "events_list"} <= set(tools)
    assert all(t["outputSchemaType"] == "object" for t in tools.values())
    assert tools["pods_list"]["readOnly"] is True

    assert not report["podsList"]["isError"] and report["podsList"]["rows"][0][0] == "solo"
    assert not report["podsGet"]["isError"] and "name: solo" in report["podsGet"]["text"]
    assert report["bad"]["isError"] and "unknown kind 'Nonsense'" in report["bad"]["text"]
    assert "\n" not in report["bad"]["text"]
    assert report["reads"] and all(outcome == "ok" for outcome in report["reads"].values()), report["reads"]

    assert "troubleshoot_pod" in report["prompts"] and f"pod {namespace}/solo" in report["plan"]
    assert "version:" in report["summary"] and "nodes:" in report["summary"]
