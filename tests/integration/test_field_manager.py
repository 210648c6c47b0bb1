"""--field-manager: server-side apply and the other writes own their fields under the configured manager.

The default (k8s-mcp) is checked by the cordon test in test_node_maintenance.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import Kubectl, connect, start_server, text_of

pytestmark = pytest.mark.anyio


def managers(kubectl: Kubectl, namespace: str, kind: str, name: str) -> set[str]:
    obj = json.loads(kubectl("get", kind, name, "-n", namespace, "-o", "json", "--show-managed-fields"))
    return {entry["manager"] for entry in obj["metadata"].get("managedFields") or []}


async def test_the_go_servers_field_manager_can_be_kept(
    kubeconfig: Path, kubectl: Kubectl, tmp_path: Path, namespace: str
) -> None:
    proc = start_server(
        tmp_path,
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--approval",
        "none",
        "--field-manager",
        "kubernetes-mcp-server",
    )
    manifest = (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {namespace}}}\n"
        "spec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: registry.example/web:1}]}\n"
    )
    try:
        async with connect(proc.url, "auto") as client:
            applied = await client.call_tool("resources_create_or_update", {"resource": manifest})
            assert not applied.is_error, text_of(applied)
            scaled = await client.call_tool(
                "resources_scale", {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                    "namespace": namespace, "scale": 2}
            )  # fmt: skip
            assert not scaled.is_error, text_of(scaled)
    finally:
        proc.stop()
    assert managers(kubectl, namespace, "deployment", "web") >= {"kubernetes-mcp-server"}
    assert "k8s-mcp" not in managers(kubectl, namespace, "deployment", "web")
