"""In a dry-run preview (approval 'confirm' mode) the mutating tools of this catalog change nothing.

The handlers are called in-process, with the real cluster gateway and the preview flag set, the
way the approval flow runs them; kubectl then checks that nothing happened.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import Settings
from app.kube.client import Kube
from app.kube.discovery import Discovery
from app.kube.helm import Helm
from app.observability import Metrics
from app.policy import Policy
from app.scope import previewing
from app.spec import Deps
from app.tools.infra import profile as infra
from app.tools.pods import containers, pods
from tests.integration.conftest import Kubectl
from tests.integration.test_rig import DEPLOYMENT, running_pods

pytestmark = pytest.mark.anyio


def deps_for(kubeconfig: Path) -> Deps:
    settings = Settings(kubeconfig=str(kubeconfig), enable_destructive_operations=True)
    kube = Kube(settings, Metrics(), Policy(allow_destructive=True))
    helm = Helm(settings, kube.contexts, Metrics(), Policy(allow_destructive=True))
    return Deps(kube=kube, discovery=Discovery(kube), settings=settings, helm=helm)


async def test_previews_of_exec_delete_run_scale_and_apply_change_nothing(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.wait_until("2 running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)
    pod = running_pods(kubectl, namespace, "app=web")[0]
    marker = tmp_path / "ran"
    deps = deps_for(kubeconfig)
    with previewing():
        ran = await containers.pods_exec(
            containers.PodsExecArgs(name=pod, namespace=namespace, command=["touch", str(marker)]), deps
        )
        deleted = await pods.pods_delete(pods.PodsDeleteArgs(name=pod, namespace=namespace), deps)
        created = await pods.pods_run(pods.PodsRunArgs(image="nginx", name="preview", namespace=namespace), deps)
        scaled = await infra.scale_deployment(
            infra.ScaleDeploymentArgs(name="web", namespace=namespace, replicas=5), deps
        )
        applied = await infra.apply_manifest(
            infra.ApplyManifestArgs(
                yamlContent="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: preview}\n", namespace=namespace
            ),
            deps,
        )
    assert ran.text.startswith("[dry run] would run `touch") and not marker.exists()
    assert deleted.text == f"[dry run] Would delete pod {namespace}/{pod} (nothing was changed)"
    assert created.text.startswith(f"[dry run] Would create pod {namespace}/preview")
    assert scaled.text.endswith("would be scaled from 2 to 5 replicas (dry run)")
    assert "dry run" in applied.text.lower()
    names = json.loads(kubectl("get", "pods,configmaps", "-n", namespace, "-o", "json"))["items"]
    assert pod in {i["metadata"]["name"] for i in names}
    assert not {"preview"} & {i["metadata"]["name"] for i in names}
    assert kubectl("get", "deployment", "web", "-n", namespace, "-o", "jsonpath={.spec.replicas}") == "2"
