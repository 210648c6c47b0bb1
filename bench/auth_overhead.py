"""What checking a bearer token costs per request: no auth, a static token, a JWT from the rig's OpenID provider.

    uv run python bench/auth_overhead.py [--calls 300] [--rounds 5]

Starts three servers on loopback (no cluster needed: the request is MCP ``tools/list``, answered from
memory) and the rig's provider (rig/oidc.sh, its own state directory, removed at the end). Each round
sends ``--calls`` sequential ``tools/list`` requests to each server in turn, on one open session with
JSON responses; the rounds interleave the three, so load on a shared machine hits all alike. Printed:
the median latency per request of each kind, and static/none and jwt/none as ratios of those medians
(the figures to quote; absolute times depend on the machine). The JWT is verified for real on every
request (signature, issuer, audience, expiry; keys cached as the server always does).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.oidc import read_provider, run_rig, token_for  # noqa: E402

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
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_MCP_", "KUBECONFIG", "MCP_PORT"))}
    log = (workdir / f"{name}.log").open("wb")
    command = [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(port), "--json-response"]
    command += ["--kubeconfig", str(workdir / "none"), "--rate-limit", "", *args]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, f"{base}/mcp"
        except httpx2.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{name} server did not start; see {workdir / name}.log")


def session(http: httpx2.Client, url: str, headers: dict[str, str]) -> dict[str, str]:
    opened = http.post(url, json=INIT, headers={**ACCEPT, **headers})
    opened.raise_for_status()
    common = {**ACCEPT, **headers, "mcp-session-id": opened.headers["mcp-session-id"]}
    common["mcp-protocol-version"] = "2025-11-25"
    http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=common)
    return common


def timed(http: httpx2.Client, url: str, headers: dict[str, str], calls: int) -> list[float]:
    body = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        response = http.post(url, json=body, headers=headers)
        out.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="auth-bench-") as tmp:
        workdir = Path(tmp)
        provider_dir = workdir / "oidc"
        run_rig("up", provider_dir)
        provider = read_provider(provider_dir)
        (workdir / "tokens.csv").write_text("static-bench-token-0123456789,alice,1,team-a\n")
        processes = []
        try:
            none_proc, none_url = start([], workdir, "none")
            static_proc, static_url = start(["--auth-tokens-file", str(workdir / "tokens.csv")], workdir, "static")
            jwt_proc, jwt_url = start(
                ["--oidc-issuer", provider.issuer, "--oidc-ca-file", str(provider.ca_file)], workdir, "jwt"
            )
            processes = [none_proc, static_proc, jwt_proc]
            token = token_for(provider, "alice", jwt_url)["access_token"]
            kinds = {
                "none": (none_url, {}),
                "static": (static_url, {"Authorization": "Bearer static-bench-token-0123456789"}),
                "jwt": (jwt_url, {"Authorization": f"Bearer {token}"}),
            }
            samples: dict[str, list[float]] = {kind: [] for kind in kinds}
            with httpx2.Client(timeout=30) as http:
                headers = {kind: session(http, url, extra) for kind, (url, extra) in kinds.items()}
                for kind, (url, _) in kinds.items():
                    timed(http, url, headers[kind], 20)  # warm-up: connections, caches, the JWKS fetch
                for _ in range(options.rounds):
                    for kind, (url, _) in kinds.items():
                        samples[kind] += timed(http, url, headers[kind], options.calls)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=15)
            run_rig("clean", provider_dir)
    medians = {kind: statistics.median(values) * 1000 for kind, values in samples.items()}
    print(f"tools/list, {options.rounds} rounds x {options.calls} calls each, sequential, one session, JSON responses")
    for kind, value in medians.items():
        print(f"  {kind:<6} median {value:6.2f} ms")
    none = medians["none"]
    print(f"  static/none {medians['static'] / none:.2f}x   jwt/none {medians['jwt'] / none:.2f}x")


if __name__ == "__main__":
    main()
