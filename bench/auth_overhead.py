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
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import ROOT, session, start

sys.path.insert(0, str(ROOT))

from tests.integration.oidc import read_provider, run_rig, token_for


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
            json = ["--json-response"]
            none_proc, none_base = start(json, workdir, "none")
            static_proc, static_base = start(
                [*json, "--auth-tokens-file", str(workdir / "tokens.csv")], workdir, "static"
            )
            jwt_proc, jwt_base = start(
                [*json, "--oidc-issuer", provider.issuer, "--oidc-ca-file", str(provider.ca_file)], workdir, "jwt"
            )
            none_url, static_url, jwt_url = (f"{base}/mcp" for base in (none_base, static_base, jwt_base))
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
