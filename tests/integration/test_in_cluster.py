"""In-cluster mode, proven: the chart installed into the real control plane, then our server run the way
its pod runs it, with the chart's own service account and nothing else.

kwok "runs" the chart's pod as far as Kubernetes is concerned (scheduled, Running, Ready) but no
container starts, so the server process is started here, exactly as the image would start it:
``entrypoint.sh --config <the chart's ConfigMap>``, with a service-account directory holding a token
for the chart's ServiceAccount (TokenRequest API), the cluster CA and the namespace, and
KUBERNETES_SERVICE_HOST/PORT pointing at the API server. No kubeconfig is visible to it. What it may
read is then decided by the chart's RBAC alone.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
import yaml

from tests.integration.conftest import ROOT, Kubectl, ServerProcess, connect, free_port, rig_bin, text_of
from tests.integration.oidc import Provider
from tests.integration.oidc import token_for as mint
from tests.integration.test_approval import delete_args, exists, token_of

pytestmark = pytest.mark.anyio

CHART = ROOT / "charts" / "k8s-mcp"
RELEASE = "k8s-mcp"


@dataclass
class Install:
    namespace: str
    service_account: str
    notes: str
    server: ServerProcess
    sa_dir: Path
    token: str


def helm(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(rig_bin() / "helm"), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def cluster_ca(kubeconfig: Path) -> bytes:
    cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
    if cluster.get("certificate-authority-data"):
        return base64.b64decode(cluster["certificate-authority-data"])
    path = Path(cluster["certificate-authority"])
    return (path if path.is_absolute() else kubeconfig.parent / path).read_bytes()


def api_port(kubeconfig: Path) -> str:
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    return str(urlsplit(server).port or 443)


def deployment_env(kubectl: Kubectl, namespace: str) -> dict[str, str]:
    """The env the chart gives the container, resolved as the kubelet would: values and Secret keys
    (the downward API is left out; nothing here needs it)."""
    deployment = json.loads(kubectl("get", "deployment", RELEASE, "-n", namespace, "-o", "json"))
    resolved: dict[str, str] = {}
    for entry in deployment["spec"]["template"]["spec"]["containers"][0].get("env") or []:
        if "value" in entry:
            resolved[entry["name"]] = entry["value"]
        elif "secretKeyRef" in entry.get("valueFrom", {}):
            ref = entry["valueFrom"]["secretKeyRef"]
            data = kubectl("get", "secret", ref["name"], "-n", namespace, "-o", f"jsonpath={{.data.{ref['key']}}}")
            resolved[entry["name"]] = base64.b64decode(data).decode()
    return resolved


def pod_env(sa_dir: Path, kubeconfig: Path) -> dict[str, str]:
    """The environment of the chart's pod: the image's PATH, the service host/port, no kubeconfig."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_MCP_", "KUBECONFIG", "MCP_PORT", "OTEL_"))}
    env.update(
        PATH=f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}",
        HOME=str(sa_dir.parent / "home"),  # no ~/.kube/config there
        KUBERNETES_SERVICE_HOST="127.0.0.1",
        KUBERNETES_SERVICE_PORT=api_port(kubeconfig),
    )
    return env


def start_like_the_pod(
    kubectl: Kubectl, kubeconfig: Path, namespace: str, workdir: Path, *extra: str
) -> tuple[ServerProcess, str]:
    """entrypoint.sh with the chart's rendered config file, listening on a free loopback port.

    ``extra`` replaces paths the pod would have mounted (and this machine has elsewhere)."""
    config = workdir / "config.yaml"
    config.write_text(kubectl("get", "configmap", RELEASE, "-n", namespace, "-o", "jsonpath={.data.config\\.yaml}"))
    port = free_port()
    log_path = workdir / "server.log"
    args = ["--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--service-account-dir", str(workdir / "sa"), *extra]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(ROOT / "entrypoint.sh"), *args],
            cwd=workdir,
            env={**pod_env(workdir / "sa", kubeconfig), **deployment_env(kubectl, namespace)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # two Python starts (preflight, server); a machine busy compiling makes each slow
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return ServerProcess(f"{base}/mcp", base, process, log_path), " ".join(args)
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    raise AssertionError(f"server did not answer /healthz within 60s:\n{log_path.read_text()}")


def install(
    kubectl: Kubectl, kubeconfig: Path, workdir: Path, *values: str, server_args: tuple[str, ...] = ()
) -> Iterator[Install]:
    """Install the chart, then start the server as its pod would. With ``config.cluster_auth=passthrough``
    the pod has no service account token (the chart turns automount off): the directory then holds only
    what the chart's projected volume holds, the cluster CA and the namespace."""
    namespace = f"mcp-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", namespace)
    try:
        result = helm(
            kubeconfig, "install", RELEASE, str(CHART), "-n", namespace, "--wait", "--timeout", "120s", *values
        )
        service_account = RELEASE  # release name == chart name: full name is the release name
        pod = yaml.safe_load(kubectl("get", "pods", "-n", namespace, "-o", "yaml"))["items"][0]["spec"]
        token = ""
        sa_dir = workdir / "sa"
        sa_dir.mkdir()
        if pod.get("automountServiceAccountToken", True):
            token = kubectl("create", "token", service_account, "-n", namespace, "--duration", "15m").strip()
            (sa_dir / "token").write_text(token)
        (sa_dir / "ca.crt").write_bytes(cluster_ca(kubeconfig))
        (sa_dir / "namespace").write_text(namespace)
        server, _ = start_like_the_pod(kubectl, kubeconfig, namespace, workdir, *server_args)
        try:
            yield Install(namespace, service_account, result.stdout, server, sa_dir, token)
        finally:
            server.stop()
    finally:
        helm(kubeconfig, "uninstall", RELEASE, "-n", namespace, "--wait", check=False)
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture(scope="module")
def cluster_wide(kubectl: Kubectl, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    # The server's own rule denies Secrets before any request is sent; lift it here so the test shows that
    # the chart's ClusterRole refuses them too (the server rule is tested in test_security.py).
    yield from install(
        kubectl,
        kubeconfig,
        tmp_path_factory.mktemp("cluster-wide"),
        "--set-json",
        'config.denied_resources=["example.com/Nothing"]',
    )


@pytest.fixture(scope="module")
def namespaced(kubectl: Kubectl, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    yield from install(kubectl, kubeconfig, tmp_path_factory.mktemp("namespaced"), "--set", "rbac.namespaced=true")


@pytest.fixture(scope="module")
def writable(kubectl: Kubectl, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    """Writes and destructive tools on, in the release namespace only: approvals, hence the ledger."""
    yield from install(
        kubectl,
        kubeconfig,
        tmp_path_factory.mktemp("writable"),
        "--set",
        "rbac.namespaced=true,rbac.write=true,config.enable_destructive_operations=true",
    )


async def test_the_charts_role_lets_the_ledger_record_approvals_in_its_own_namespace_only(
    writable: Install, kubectl: Kubectl, kubeconfig: Path
) -> None:
    ns = writable.namespace
    kubectl("create", "configmap", "doomed", "-n", ns)
    async with connect(writable.server.url, "auto") as client:
        token = token_of(await client.call_tool("resources_delete", delete_args(ns)))
        done = await client.call_tool("resources_delete", {**delete_args(ns), "approvalToken": token})
        kubectl("create", "configmap", "doomed", "-n", ns)
        replay = await client.call_tool("resources_delete", {**delete_args(ns), "approvalToken": token})
    assert not done.is_error, text_of(done)
    assert replay.is_error and "already used" in text_of(replay)
    assert exists(kubectl, ns)
    records = kubectl("get", "leases", "-n", ns, "-l", "k8s-mcp.io/record=approval-nonce", "-o", "name").split()
    assert len(records) == 1
    account = f"system:serviceaccount:{ns}:{writable.service_account}"
    assert kubectl("auth", "can-i", "create", "leases", "-n", ns, "--as", account).strip() == "yes"
    assert kubectl("auth", "can-i", "create", "leases", "-n", "default", "--as", account, check=False).strip() == "no"


def test_the_shared_approval_key_survives_an_upgrade(writable: Install, kubectl: Kubectl, kubeconfig: Path) -> None:
    def key() -> str:
        return kubectl(
            "get", "secret", f"{RELEASE}-approval", "-n", writable.namespace, "-o", "jsonpath={.data.secret}"
        )

    before = key()
    assert len(base64.b64decode(before)) == 48
    helm(kubeconfig, "upgrade", RELEASE, str(CHART), "-n", writable.namespace, "--reuse-values", "--wait")
    assert key() == before


def test_the_chart_installs_and_its_pod_runs_as_the_charts_service_account(
    cluster_wide: Install, kubectl: Kubectl
) -> None:
    pods = yaml.safe_load(kubectl("get", "pods", "-n", cluster_wide.namespace, "-o", "yaml"))["items"]
    assert len(pods) == 1
    assert pods[0]["status"]["phase"] == "Running"
    assert pods[0]["spec"]["serviceAccountName"] == cluster_wide.service_account
    assert f"port-forward service/{RELEASE} 8008:8008" in cluster_wide.notes
    assert "http://localhost:8008/mcp" in cluster_wide.notes
    bindings = kubectl("get", "clusterrolebinding", f"{RELEASE}-{cluster_wide.namespace}", "-o", "name")
    assert bindings.strip()


async def test_the_server_in_cluster_lists_pods_and_namespaces_the_cluster_role_allows(
    cluster_wide: Install, era: str
) -> None:
    async with connect(cluster_wide.server.url, era) as client:
        pods = await client.call_tool("pods_list_in_namespace", {"namespace": cluster_wide.namespace})
        namespaces = await client.call_tool("namespaces_list", {})
        contexts = await client.call_tool("configuration_contexts_list", {})
    assert not pods.is_error, text_of(pods)
    assert f"{RELEASE}-" in text_of(pods) and "Running" in text_of(pods)
    assert not namespaces.is_error, text_of(namespaces)
    assert cluster_wide.namespace in text_of(namespaces)
    assert contexts.structured_content["current"] == "in-cluster"
    assert contexts.structured_content["contexts"][0]["namespace"] == cluster_wide.namespace


async def test_the_server_in_cluster_is_refused_secrets_in_one_forbidden_line(cluster_wide: Install, era: str) -> None:
    async with connect(cluster_wide.server.url, era) as client:
        result = await client.call_tool("resources_list", {"apiVersion": "v1", "kind": "Secret"})
    text = text_of(result)
    assert result.is_error
    assert len(text.splitlines()) == 1
    assert "forbidden" in text.lower() and "secrets" in text
    assert f"system:serviceaccount:{cluster_wide.namespace}:{cluster_wide.service_account}" in text


def test_the_entrypoint_names_the_service_account_and_never_prints_the_token(cluster_wide: Install) -> None:
    first = cluster_wide.server.logs().splitlines()[0]
    assert first.startswith("k8s-mcp: cluster credentials: in-cluster service account")
    assert f"auth in-cluster (system:serviceaccount:{cluster_wide.namespace}:{RELEASE})" in first
    assert f"namespace {cluster_wide.namespace}" in first
    assert cluster_wide.token not in cluster_wide.server.logs()


async def test_namespaced_rbac_reads_its_namespace_and_is_refused_everywhere_else(
    namespaced: Install, era: str
) -> None:
    async with connect(namespaced.server.url, era) as client:
        own = await client.call_tool("pods_list_in_namespace", {"namespace": namespaced.namespace})
        other = await client.call_tool("pods_list_in_namespace", {"namespace": "default"})
        namespaces = await client.call_tool("namespaces_list", {})
    assert not own.is_error, text_of(own)
    assert f"{RELEASE}-" in text_of(own)
    for refused in (other, namespaces):
        assert refused.is_error
        assert len(text_of(refused).splitlines()) == 1
        assert "forbidden" in text_of(refused).lower()


def test_notes_warn_when_the_hpa_would_break_legacy_sessions(cluster_wide: Install, kubeconfig: Path) -> None:
    result = helm(
        kubeconfig,
        "upgrade",
        RELEASE,
        str(CHART),
        "-n",
        cluster_wide.namespace,
        "--dry-run=server",
        "--set",
        "autoscaling.enabled=true",
    )
    assert "WARNING: the HPA runs 2-5 pods with config.stateless false" in result.stdout
    stateless = helm(
        kubeconfig,
        "upgrade",
        RELEASE,
        str(CHART),
        "-n",
        cluster_wide.namespace,
        "--dry-run=server",
        "--set",
        "autoscaling.enabled=true,config.stateless=true",
    )
    assert "WARNING" not in stateless.stdout


def test_wrong_values_are_refused_before_anything_is_created(cluster_wide: Install, kubeconfig: Path) -> None:
    result = helm(
        kubeconfig, "install", "bad", str(CHART), "-n", cluster_wide.namespace, "--set", "rbac.write=yes", check=False
    )
    assert result.returncode != 0
    assert "at '/rbac/write': got string, want boolean" in result.stderr
    assert "bad" not in helm(kubeconfig, "list", "-n", cluster_wide.namespace, "-q").stdout.split()


@pytest.fixture(scope="module")
def passthrough(
    kubectl: Kubectl, kubeconfig: Path, oidc_provider: Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Install]:
    """The chart in passthrough mode, trusting the rig's OpenID provider (the test cluster's API server does too)."""
    yield from install(
        kubectl,
        kubeconfig,
        tmp_path_factory.mktemp("passthrough"),
        "--set",
        f"config.oidc_issuer={oidc_provider.issuer},config.cluster_auth=passthrough,oidc.caConfigMap=idp-ca",
        server_args=("--oidc-ca-file", str(oidc_provider.ca_file)),  # the pod would mount the ConfigMap there
    )


async def test_passthrough_in_cluster_has_no_credentials_of_its_own_and_acts_as_each_caller(
    passthrough: Install, kubectl: Kubectl, oidc_provider: Provider
) -> None:
    pod = yaml.safe_load(kubectl("get", "pods", "-n", passthrough.namespace, "-o", "yaml"))["items"][0]["spec"]
    assert pod["automountServiceAccountToken"] is False and not (passthrough.sa_dir / "token").exists()
    bindings = kubectl("get", "clusterrolebinding,rolebinding", "-A", "-o", "name")
    assert f"{RELEASE}-{passthrough.namespace}" not in bindings  # no RBAC for the release itself
    first = passthrough.server.logs().splitlines()[0]
    assert "auth passthrough (each caller's own bearer token; no credentials of the server's own)" in first
    ready = httpx2.get(f"{passthrough.server.base}/readyz")
    assert ready.status_code == 200, ready.text

    ns = passthrough.namespace
    kubectl("create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", ns)
    kubectl("create", "rolebinding", "team-a-pods", "--role=pod-reader", "--group=team-a", "-n", ns)
    tokens = {user: mint(oidc_provider, user, passthrough.server.url)["access_token"] for user in ("alice", "carol")}
    async with connect(passthrough.server.url, "auto", {"Authorization": f"Bearer {tokens['alice']}"}) as client:
        allowed = await client.call_tool("pods_list_in_namespace", {"namespace": ns})
    async with connect(passthrough.server.url, "auto", {"Authorization": f"Bearer {tokens['carol']}"}) as client:
        refused = await client.call_tool("pods_list_in_namespace", {"namespace": ns})
    assert not allowed.is_error and f"{RELEASE}-" in text_of(allowed), text_of(allowed)
    assert refused.is_error and f'User "carol" cannot list resource "pods" in API group "" in the namespace "{ns}"' in (
        text_of(refused)
    )
    logs = passthrough.server.logs()
    assert all(token not in logs and token not in text_of(refused) for token in tokens.values())
