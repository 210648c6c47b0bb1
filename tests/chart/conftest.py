"""Chart render fixtures: the rig's helm binary (no cluster needed) and a renderer returning parsed objects."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "k8s-mcp"


def _versions() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (ROOT / "rig" / "versions.env").read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.startswith("#")}


@pytest.fixture(scope="session")
def helm() -> str:
    out = subprocess.run([str(ROOT / "rig" / "build.sh"), "--dir"], capture_output=True, text=True, check=True)
    binary = Path(out.stdout.strip()) / "helm"
    if not binary.exists():
        pytest.fail(f"no helm at {binary}: run rig/build.sh", pytrace=False)
    return str(binary)


Render = Callable[..., list[dict[str, Any]]]


@pytest.fixture(scope="session")
def render(helm: str) -> Render:
    """render(*helm_args, namespace=...) -> every rendered object, parsed."""
    kube_version = _versions()["KUBE_VERSION"].lstrip("v")

    def _render(*args: str, namespace: str = "tools") -> list[dict[str, Any]]:
        result = subprocess.run(
            [helm, "template", "mcp", str(CHART), "--namespace", namespace, "--kube-version", kube_version, *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise AssertionError(f"helm template failed: {result.stderr.strip()}")
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    return _render


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def kinds(objects: list[dict[str, Any]]) -> list[str]:
    return sorted(o["kind"] for o in objects)
