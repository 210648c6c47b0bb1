"""The built image, run the way users run it: `docker compose` with the project's docker-compose.yml.

`make image-test` builds the image first (`make image`), then these tests start it with
docker-compose.yml plus tests/image/compose.test.yml (host networking, a free port, the test control
plane's kubeconfig flattened to one file) and check what a user would meet: the first log line, the
operational endpoints, an MCP session with the SDK client (initialize, tools/list, pods_list,
helm_list), the container's user, root filesystem and capabilities, a clean stop on SIGTERM, and the
entrypoint's one-line refusals of a bad kubeconfig. Nothing fakes the Kubernetes API; without an
engine, the image or the control plane these tests fail, they do not skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from tests.integration.conftest import ROOT, Kubectl, connect, free_port, rig_bin, text_of
from tests.integration.test_rig import DEPLOYMENT, running_pods

IMAGE = os.environ.get("K8S_MCP_IMAGE", "k8s-mcp:local")
SERVICE = "k8s-mcp"
TEST_OVERRIDE = ROOT / "tests" / "image" / "compose.test.yml"
HELLO_CHART = ROOT / "tests" / "charts" / "hello"
UID = "10001"


def docker(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The rig's docker CLI (one that can build and has `compose`), from the repository root."""
    return subprocess.run(
        [str(ROOT / "rig" / "docker.sh"), "docker", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def must(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{' '.join(map(str, result.args))}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass
class Compose:
    """One compose project of docker-compose.yml + the test override (+ extra override files)."""

    env: dict[str, str]
    extra: list[Path] = field(default_factory=list)
    project: str = field(default_factory=lambda: f"k8s-mcp-test-{uuid.uuid4().hex[:8]}")

    def __call__(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        files = ["-f", "docker-compose.yml", "-f", str(TEST_OVERRIDE)]
        for extra in self.extra:
            files += ["-f", str(extra)]
        return docker("compose", "-p", self.project, *files, *args, env=self.env, timeout=timeout)

    def container(self) -> str:
        cid = must(self("ps", "-a", "-q", SERVICE)).strip()
        assert cid, f"no {SERVICE} container in project {self.project}"
        return cid

    def logs(self) -> str:
        result = docker("logs", self.container())
        return result.stdout + result.stderr

    def inspect(self) -> dict[str, Any]:
        return dict(json.loads(must(docker("inspect", self.container())))[0])

    def down(self) -> None:
        self("down", "--volumes", "--remove-orphans", "--timeout", "15")

    def run_once(self, *args: str) -> tuple[int, str]:
        """`compose run` of the service (no deps, no TTY): its exit code and everything it printed."""
        name = f"{self.project}-run"
        result = self("run", "--name", name, "--no-deps", "-T", SERVICE, *args)
        try:
            out = docker("logs", name)
            return result.returncode, out.stdout + out.stderr
        finally:
            docker("rm", "-f", name)


@dataclass
class Stack:
    compose: Compose
    base: str
    kubeconfig: dict[str, Any]


def flattened_kubeconfig(kubectl: Kubectl, path: Path, mode: int = 0o644) -> Path:
    """The test control plane's kubeconfig as one self-contained file the container's uid can read."""
    path.write_text(kubectl("config", "view", "--flatten", "--minify"))
    path.chmod(mode)
    return path


@pytest.fixture(scope="module")
def flat_kubeconfig(kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return flattened_kubeconfig(kubectl, tmp_path_factory.mktemp("kube") / "kubeconfig")


def compose_env(kubeconfig: Path, port: int | None = None) -> dict[str, str]:
    return {
        "K8S_MCP_IMAGE": IMAGE,
        "K8S_MCP_KUBECONFIG": str(kubeconfig),
        "K8S_MCP_TEST_PORT": str(port or free_port()),
    }


@pytest.fixture(scope="module")
def stack(flat_kubeconfig: Path) -> Iterator[Stack]:
    """`docker compose up` of the built image; answers /healthz before the tests start."""
    assert must(docker("image", "inspect", "--format", "{{.Id}}", IMAGE)).strip(), f"no image {IMAGE}: make image"
    port = free_port()
    compose = Compose(compose_env(flat_kubeconfig, port))
    try:
        must(compose("up", "--detach", "--no-build", "--pull", "never", timeout=300))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            state = compose.inspect()["State"]
            assert state["Running"], (
                f"the container stopped ({state['Status']}, exit {state['ExitCode']}):\n{compose.logs()}"
            )
            assert time.monotonic() < deadline, f"no /healthz within 90 s:\n{compose.logs()}"
            time.sleep(0.2)
        yield Stack(compose, base, yaml.safe_load(flat_kubeconfig.read_text()))
    finally:
        compose.down()


def wait_ready(base: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx2.get(f"{base}/readyz", timeout=10)
        body = dict(response.json())
        if response.status_code == 200 and body["helm"]["ready"]:
            return body
        assert time.monotonic() < deadline, f"/readyz not ready: {response.status_code} {body}"
        time.sleep(0.5)


def proc_status(stack: Stack) -> dict[str, str]:
    """/proc/1/status of the container: PID 1 is the server itself (the entrypoint execs it)."""
    text = must(docker("exec", stack.compose.container(), "cat", "/proc/1/status"))
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


# --- the running container ------------------------------------------------------------------------


def test_the_first_log_line_names_the_credentials_and_host_networking_needs_no_warning(stack: Stack) -> None:
    cfg = stack.kubeconfig
    context = cfg["current-context"]
    server = cfg["clusters"][0]["cluster"]["server"]
    lines = stack.compose.logs().splitlines()
    assert lines[0] == (
        f"k8s-mcp: cluster credentials: kubeconfig /home/app/.kube/config; context {context}; "
        f"server {server}; auth client-cert; namespace default"
    ), lines[:3]
    # The cluster on the host's loopback answers under network_mode: host: no loopback warning.
    assert not [line for line in lines if "warning" in line.lower()], lines
    # Then the server's own JSON log lines.
    assert json.loads(lines[1])["message"], lines[1]


def test_healthz_readyz_and_metrics_answer(stack: Stack) -> None:
    assert httpx2.get(f"{stack.base}/healthz", timeout=5).json() == {"status": "ok"}
    ready = wait_ready(stack.base)
    assert ready["status"] == "ready" and ready["reason"] == "cluster reachable", ready
    assert ready["helm"]["ready"] is True, ready
    metrics = httpx2.get(f"{stack.base}/metrics", timeout=5)
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE k8s_mcp_tool_calls_total counter" in metrics.text


@pytest.mark.anyio
async def test_an_mcp_client_lists_tools_pods_and_helm_releases(
    stack: Stack, kubectl: Kubectl, namespace: str, flat_kubeconfig: Path
) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    subprocess.run(
        [str(rig_bin() / "helm"), "install", "greeting", str(HELLO_CHART), "-n", namespace],
        env={**os.environ, "KUBECONFIG": str(flat_kubeconfig)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    kubectl.wait_until("2 running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)

    async with connect(f"{stack.base}/mcp", "legacy") as client:
        assert client.protocol_version.startswith("20"), client.protocol_version
        assert client.server_info is not None and client.server_info.name
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"pods_list", "helm_list"} <= names, sorted(names)

        pods = await client.call_tool(
            "pods_list", {"labelSelector": "app=web", "fieldSelector": f"metadata.namespace={namespace}"}
        )
        assert not pods.is_error, text_of(pods)
        assert pods.structured_content["count"] == 2, text_of(pods)
        assert set(running_pods(kubectl, namespace, "app=web")) <= set(text_of(pods).split())

        releases = await client.call_tool("helm_list", {"namespace": namespace})
        assert not releases.is_error, text_of(releases)
        assert [r["name"] for r in releases.structured_content["releases"]] == ["greeting"], text_of(releases)


def test_the_server_runs_as_uid_10001_with_no_capabilities(stack: Stack) -> None:
    status = proc_status(stack)
    assert status["Uid"].split() == [UID] * 4 and status["Gid"].split() == [UID] * 4, status
    for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[caps], 16) == 0, f"{caps}={status[caps]}"
    assert status["NoNewPrivs"] == "1"
    cmdline = must(docker("exec", stack.compose.container(), "cat", "/proc/1/cmdline")).split("\0")
    assert any(part.endswith("k8s-mcp") for part in cmdline), cmdline


def test_the_root_filesystem_is_read_only_and_tmp_is_writable(stack: Stack) -> None:
    assert stack.compose.inspect()["HostConfig"]["ReadonlyRootfs"] is True
    cid = stack.compose.container()
    for path in ("/app/probe", "/home/app/probe", "/usr/local/bin/probe"):
        refused = docker("exec", cid, "sh", "-c", f"echo x > {path}")
        assert refused.returncode != 0 and "Read-only file system" in refused.stderr, (path, refused.stderr)
    must(docker("exec", cid, "sh", "-c", "echo x > /tmp/probe && rm /tmp/probe"))


def test_the_image_has_no_installers_and_a_qualified_base_name(stack: Stack) -> None:
    config = json.loads(must(docker("image", "inspect", IMAGE)))[0]["Config"]
    assert config["User"] == f"{UID}:{UID}"
    assert config["Labels"]["org.opencontainers.image.base.name"] == "docker.io/library/python:3.11-slim-bookworm"
    found = must(
        docker(
            "exec",
            stack.compose.container(),
            "python",
            "-c",
            "import importlib.util as u; print([m for m in ('pip', 'setuptools', 'wheel') if u.find_spec(m)])",
        )
    )
    assert found.strip() == "[]"
    passwd = must(docker("exec", stack.compose.container(), "getent", "passwd", UID)).strip()
    assert passwd == f"app:x:{UID}:{UID}::/home/app:/usr/sbin/nologin"


def test_sigterm_stops_the_server_cleanly_within_the_grace_period(stack: Stack) -> None:
    """Last in the module: it stops the stack. SIGKILL after the grace period would exit 137."""
    must(stack.compose("stop", SERVICE, timeout=60))
    state = stack.compose.inspect()["State"]
    logs = stack.compose.logs()
    assert state["Status"] == "exited" and state["ExitCode"] == 0 and not state["OOMKilled"], (state, logs[-2000:])
    assert '"message": "exited"' in logs.splitlines()[-1], logs[-2000:]


# --- the entrypoint's refusals -----------------------------------------------------------------------


def refusal(compose: Compose) -> str:
    code, out = compose.run_once()
    lines = out.strip().splitlines()
    assert code == 1, (code, out)
    assert len(lines) == 1 and lines[0].startswith("k8s-mcp: cannot start: "), out
    assert "Traceback" not in out
    return lines[0]


def test_no_kubeconfig_is_refused_in_one_line(flat_kubeconfig: Path, tmp_path: Path) -> None:
    no_mount = tmp_path / "no-kubeconfig.yml"
    no_mount.write_text(f"services:\n  {SERVICE}:\n    volumes: !reset []\n")
    line = refusal(Compose(compose_env(flat_kubeconfig), extra=[no_mount]))
    assert "no cluster credentials" in line and "mount a kubeconfig" in line, line


def test_an_unreadable_kubeconfig_is_refused_in_one_line(kubectl: Kubectl, tmp_path: Path) -> None:
    private = flattened_kubeconfig(kubectl, tmp_path / "kubeconfig", mode=0o600)
    line = refusal(Compose(compose_env(private)))
    assert line == (
        "k8s-mcp: cannot start: kubeconfig /home/app/.kube/config cannot be read: Permission denied; "
        f"the server runs as uid {UID}"
    )


def test_a_kubeconfig_naming_missing_certificate_files_is_refused_in_one_line(
    flat_kubeconfig: Path, tmp_path: Path
) -> None:
    cfg = yaml.safe_load(flat_kubeconfig.read_text())
    user = cfg["users"][0]
    user["user"] = {"client-certificate": "/home/me/.kube/client.crt", "client-key": "/home/me/.kube/client.key"}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o644)
    line = refusal(Compose(compose_env(path)))
    assert f"client-certificate of user '{user['name']}': /home/me/.kube/client.crt cannot be read" in line, line
    assert "kubectl config view --flatten --minify" in line, line


def test_the_loopback_warning_fires_where_loopback_is_the_containers_own(flat_kubeconfig: Path, tmp_path: Path) -> None:
    isolated = tmp_path / "no-network.yml"
    isolated.write_text(f"services:\n  {SERVICE}:\n    network_mode: none\n")
    code, out = Compose(compose_env(flat_kubeconfig), extra=[isolated]).run_once("k8s-mcp-preflight")
    lines = out.strip().splitlines()
    server = yaml.safe_load(flat_kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    assert code == 0, out
    assert lines[0].startswith("k8s-mcp: cluster credentials: kubeconfig /home/app/.kube/config;"), out
    assert lines[1:] == [
        f"k8s-mcp: warning: the API server {server} is a loopback address and nothing answers there: inside a "
        "container that is the container itself (use network_mode: host, or a kubeconfig naming host.docker.internal)"
    ], out
