"""Our server on loopback with no cluster, and a raw 2025-11-25 session on it: for the benchmarks whose
request is answered from memory (``tools/list``), so that what they compare (auth, the event store) is
all that differs between the servers they start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], workdir: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    """Our server with ``args``, no kubeconfig and no rate limit; returns the process and its base URL.
    Its log is ``workdir/<name>.log``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_MCP_", "KUBECONFIG", "MCP_PORT"))}
    log = (workdir / f"{name}.log").open("wb")
    command = [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--kubeconfig", str(workdir / "none"), "--rate-limit", "", *args]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx2.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{name} server did not start; see {workdir / name}.log")


def session(http: httpx2.Client, url: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    """Open a 2025-11-25 session on ``url``; returns the headers every later request of it carries."""
    opened = http.post(url, json=INIT, headers={**ACCEPT, **(headers or {})})
    opened.raise_for_status()
    common = {**ACCEPT, **(headers or {}), "mcp-session-id": opened.headers["mcp-session-id"]}
    common["mcp-protocol-version"] = "2025-11-25"
    http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=common)
    return common
