"""Previewing Helm changes (the approval "confirm" mode runs them inside ``app.scope.previewing``) changes nothing.

The preview flag is a context variable set by the approval path inside the server, not something a
client can send, so these tests call the handlers in-process, wired exactly as the server wires them,
against the real control plane and the real helm binary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app import errors
from app.config import load_settings
from app.kube.discovery import Discovery
from app.scope import previewing
from app.server import assemble
from app.spec import Deps
from app.tools.helm import releases as tools
from tests.integration.conftest import Kubectl, rig_bin
from tests.integration.test_helm import CHART, configmap_message

pytestmark = pytest.mark.anyio


@pytest.fixture
def deps(kubeconfig: Path) -> Deps:
    settings = load_settings(
        ["--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--helm-binary", str(rig_bin() / "helm")],
        environ={},
    )
    parts = assemble(settings)
    return Deps(kube=parts.kube, discovery=Discovery(parts.kube), settings=settings, helm=parts.helm)


async def revisions(deps: Deps, namespace: str, name: str) -> list[tuple[int, str]]:
    result = await tools.helm_history(tools.HelmHistoryArgs(name=name, namespace=namespace), deps)
    return [(r.revision, r.status) for r in result.data.revisions]  # type: ignore[attr-defined]


async def test_previewed_install_upgrade_rollback_and_uninstall_change_nothing(
    deps: Deps, kubectl: Kubectl, namespace: str
) -> None:
    with previewing():
        preview = await tools.helm_install(tools.HelmInstallArgs(chart=CHART, name="web", namespace=namespace), deps)
        assert preview.data.dry_run and "would install release" in preview.text  # type: ignore[attr-defined]
    assert kubectl("get", "configmap", "web-config", "-n", namespace, "--ignore-not-found").strip() == ""

    await tools.helm_install(tools.HelmInstallArgs(chart=CHART, name="web", namespace=namespace), deps)
    await tools.helm_upgrade(
        tools.HelmUpgradeArgs(name="web", chart=CHART, namespace=namespace, values={"message": "two"}), deps
    )
    assert await revisions(deps, namespace, "web") == [(1, "superseded"), (2, "deployed")]

    with previewing():
        upgrade = await tools.helm_upgrade(
            tools.HelmUpgradeArgs(name="web", chart=CHART, namespace=namespace, values={"message": "three"}), deps
        )
        assert "would upgrade release" in upgrade.text and "three" in (upgrade.data.manifest or "")  # type: ignore[attr-defined]
        rollback = await tools.helm_rollback(tools.HelmRollbackArgs(name="web", namespace=namespace), deps)
        assert rollback.data.message == (  # type: ignore[attr-defined]
            f"would roll back release {namespace}/web from revision 2 to revision 1 (hello-0.1.0) as new revision 3 "
            "(dry run: nothing was changed)"
        )
        uninstall = await tools.helm_uninstall(tools.HelmUninstallArgs(name="web", namespace=namespace), deps)
        assert uninstall.data.dry_run and "would uninstall release" in uninstall.text  # type: ignore[attr-defined]
        assert set(uninstall.data.resources) == {"Deployment/web", "ConfigMap/web-config"}  # type: ignore[attr-defined]
        with pytest.raises(errors.PolicyDenied, match="cannot be previewed; it was not run"):
            await deps.helm.rollback(None, name="web", namespace=namespace, revision=1, wait=False, timeout=30)

    assert await revisions(deps, namespace, "web") == [(1, "superseded"), (2, "deployed")]
    assert configmap_message(kubectl, namespace, "web-config") == "two"
