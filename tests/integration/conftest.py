"""Integration fixtures: the real control plane (rig/cluster.sh), the real server process, the real MCP client.

Nothing here fakes the Kubernetes API. Without a running control plane these tests fail, they do
not skip: run `make cluster-up` (or `make test`, which does it).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.integration.oidc import Provider, is_running, read_provider, run_rig

ROOT = Path(__file__).resolve().parents[2]
ERAS = ("legacy", "auto")  # 2025-era sessions, and the 2026-07-28 stateless protocol
START_SECONDS = 150


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def kubeconfig_path() -> Path:
    path = Path(os.environ.get("K8S_MCP_TEST_KUBECONFIG", ROOT / ".cluster" / "kubeconfig"))
    if not path.exists():
        pytest.fail(f"no test control plane: {path} is missing; run `make cluster-up`", pytrace=False)
    return path


def rig_bin() -> Path:
    out = subprocess.run([str(ROOT / "rig" / "build.sh"), "--dir"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@pytest.fixture(scope="session")
def kubeconfig() -> Path:
    return kubeconfig_path()


def cluster_context() -> str:
    """The test cluster's context name (kwok-<cluster name>), read from its kubeconfig."""
    return str(yaml.safe_load(kubeconfig_path().read_text())["current-context"])


class Kubectl:
    """The rig's own kubectl, for arranging fixtures and checking results independently of our server."""

    def __init__(self, kubeconfig: Path) -> None:
        self.binary = str(rig_bin() / "kubectl")
        self.kubeconfig = str(kubeconfig)

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            [self.binary, "--kubeconfig", self.kubeconfig, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def apply(self, manifest: str, namespace: str | None = None) -> None:
        args = ["apply", "-f", "-"] + (["-n", namespace] if namespace else [])
        self(*args, stdin=manifest)

    def wait_until(self, what: str, predicate: Any, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.5)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="session")
def kubectl(kubeconfig: Path) -> Kubectl:
    return Kubectl(kubeconfig)


def provider_dir() -> Path:
    """The OpenID provider the test cluster trusts (rig/cluster.sh notes it beside the kubeconfig), else this
    checkout's own (.oidc)."""
    noted = kubeconfig_path().parent / "oidc.env"
    if noted.exists():
        for line in noted.read_text().splitlines():
            if line.startswith("K8S_MCP_OIDC_DIR="):
                return Path(line.split("=", 1)[1])
    return ROOT / ".oidc"


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    """The rig's OpenID provider (rig/oidc.sh): started for the session unless it already runs, then stopped."""
    directory = provider_dir()
    started = not is_running(directory)
    if started:
        run_rig("up", directory)
    yield read_provider(directory)
    if started:
        run_rig("down", directory)


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    """A fresh namespace per test, with its default service account ready (admission needs it)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    kubectl.wait_until(
        "default service account", lambda: kubectl("get", "sa", "default", "-n", name, check=False).strip() != ""
    )
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    url: str
    base: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"server ignored SIGTERM for {timeout}s") from None
        return self.process.returncode


#: A raw 2025-era initialize request and the headers /mcp wants, for tests that speak plain HTTP.
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def jsonrpc_message(body: str) -> Any:
    """The (last) JSON-RPC message of a /mcp response, sent as one JSON body or as SSE events."""
    if body.lstrip().startswith("{"):
        return json.loads(body)
    events = [line[5:].strip() for line in body.splitlines() if line.startswith("data:") and line[5:].strip()]
    return json.loads(events[-1])


def start_server(
    tmp_dir: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None
) -> ServerProcess:
    port = port or free_port()
    log_path = tmp_dir / f"server-{port}.log"
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("K8S_MCP_", "KUBECONFIG", "MCP_PORT", "OTEL_"))
    }
    # No load balancer probes these servers, so nothing needs them to linger unready after SIGTERM;
    # the shutdown tests set their own delay.
    full_env["K8S_MCP_SHUTDOWN_DELAY_SECONDS"] = "0"
    full_env.update(env or {})
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=ROOT,
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    # Bounded, and generous: on a shared 2-core machine under load, importing the SDKs alone has taken 20 s.
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return ServerProcess(f"{base}/mcp", base, process, log_path)
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"server did not answer /healthz within {START_SECONDS}s:\n{log_path.read_text()}")


def start_unguarded_server(tmp_dir: Path, kubeconfig: Path, *args: str) -> ServerProcess:
    """A server with destructive tools on, approval off, the rig's helm and no rate limit: for tests whose
    subject is what the tools do (approval and limits are tested on servers of their own)."""
    return start_server(
        tmp_dir,
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--approval",
        "none",
        "--helm-binary",
        str(rig_bin() / "helm"),
        "--rate-limit",
        "",
        *args,
    )


@pytest.fixture(scope="session")
def server(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the session, against the real control plane, destructive tools off (the default).

    Without a rate limit: the whole suite shares it from one address and makes far more than the default
    300 requests a minute (the limit itself is tested on a server of its own).
    """
    proc = start_server(tmp_path_factory.mktemp("server"), "--kubeconfig", str(kubeconfig), "--rate-limit", "")
    yield proc
    proc.stop()


@dataclass(frozen=True)
class Jaeger:
    """The rig's Jaeger v2: where servers send OTLP, and its query API."""

    otlp_endpoint: str
    query_url: str

    def otel_env(self) -> dict[str, str]:
        """What a server needs to send its traces here, flushed promptly."""
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}


@pytest.fixture(scope="session")
def jaeger() -> Iterator[Jaeger]:
    """rig/jaeger.sh up (built from its Go module on first use); stopped at the end if this session started it."""
    script = str(ROOT / "rig" / "jaeger.sh")
    was_running = subprocess.run([script, "status"], capture_output=True, check=False).returncode == 0
    up = subprocess.run([script, "up"], capture_output=True, text=True, timeout=3600, check=False)
    if up.returncode != 0:
        pytest.fail(f"the tracing backend did not start: {up.stderr.strip()[-2000:]}", pytrace=False)
    found = dict(line.split("=", 1) for line in up.stdout.splitlines() if "=" in line)
    yield Jaeger(found["OTEL_EXPORTER_OTLP_ENDPOINT"], found["JAEGER_QUERY_URL"])
    if not was_running:
        subprocess.run([script, "down"], capture_output=True, check=False)


@contextlib.asynccontextmanager
async def connect(url: str, mode: str, headers: dict[str, str] | None = None) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=headers or {}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


@pytest.fixture(params=ERAS)
def era(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")
