"""Start-to-ready of the image under `docker compose`, against the same server started on this host.

    uv run python bench/image_start.py [--rounds 5] [--kubeconfig PATH] [--image k8s-mcp:local]

Needs `make image` and the test control plane (``.cluster/kubeconfig``, $K8S_MCP_TEST_KUBECONFIG or
--kubeconfig). Each round runs both, one after the other:

- host: ``entrypoint.sh`` with this checkout's venv on PATH (the same credential check and server the
  container runs), timed from spawn to the first ``/readyz`` 200;
- container: ``docker compose up --detach`` of docker-compose.yml + tests/image/compose.test.yml
  (host networking, the kubeconfig flattened to one file), timed from the command to the first
  ``/readyz`` 200, also split into the command itself and the first ``/healthz`` 200; then
  ``docker compose down``.

At the moment of readiness it also reads the CPU time the server used so far (``/proc/<pid>/stat``:
its own and that of the credential check it waited for; in the container, of PID 1), which the load
of a shared machine moves far less than the wall-clock times. It prints the medians and the ratios
container/host.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import time
import uuid
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rig_bin() -> Path:
    out = subprocess.run([str(ROOT / "rig" / "build.sh"), "--dir"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def wait_for(url: str, start: float, timeout: float = 120) -> float:
    """Seconds from ``start`` until ``url`` answers 200."""
    while time.monotonic() - start < timeout:
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(url, timeout=1).status_code == 200:
                return time.monotonic() - start
        time.sleep(0.02)
    raise SystemExit(f"{url} did not answer within {timeout}s")


def cpu_seconds(stat: str) -> float:
    """utime + stime + cutime + cstime of a /proc/<pid>/stat line."""
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def host_round(kubeconfig: Path) -> tuple[float, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_MCP_", "KUBECONFIG", "MCP_PORT"))}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env['PATH']}"
    start = time.monotonic()
    proc = subprocess.Popen(
        [str(ROOT / "entrypoint.sh"), "--kubeconfig", str(kubeconfig), "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = wait_for(f"http://127.0.0.1:{port}/readyz", start)
        return ready, cpu_seconds(Path(f"/proc/{proc.pid}/stat").read_text())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def container_round(kubeconfig: Path, image: str) -> tuple[float, float, float, float]:
    port = free_port()
    compose = [
        str(ROOT / "rig" / "docker.sh"),
        "docker",
        "compose",
        "-p",
        f"k8s-mcp-bench-{uuid.uuid4().hex[:8]}",
        "-f",
        "docker-compose.yml",
        "-f",
        "tests/image/compose.test.yml",
    ]
    env = {**os.environ, "K8S_MCP_IMAGE": image, "K8S_MCP_KUBECONFIG": str(kubeconfig), "K8S_MCP_TEST_PORT": str(port)}
    start = time.monotonic()
    subprocess.run([*compose, "up", "--detach", "--no-build", "--pull", "never"], cwd=ROOT, env=env, check=True)
    command = time.monotonic() - start
    try:
        healthy = wait_for(f"http://127.0.0.1:{port}/healthz", start)
        ready = wait_for(f"http://127.0.0.1:{port}/readyz", start)
        ps = subprocess.run([*compose, "ps", "-q"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        stat = subprocess.run(
            [str(ROOT / "rig" / "docker.sh"), "docker", "exec", ps.stdout.strip(), "cat", "/proc/1/stat"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        subprocess.run([*compose, "down", "--timeout", "15"], cwd=ROOT, env=env, check=True, capture_output=True)
    return command, healthy, ready, cpu_seconds(stat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--image", default="k8s-mcp:local")
    default_kcfg = os.environ.get("K8S_MCP_TEST_KUBECONFIG", str(ROOT / ".cluster" / "kubeconfig"))
    parser.add_argument("--kubeconfig", type=Path, default=Path(default_kcfg))
    args = parser.parse_args()

    flat = Path(f"/tmp/k8s-mcp-bench-{uuid.uuid4().hex[:8]}.kubeconfig")  # noqa: S108 - bind-mounted, 644
    view = [str(rig_bin() / "kubectl"), "--kubeconfig", str(args.kubeconfig), "config", "view", "--flatten", "--minify"]
    flat.write_text(subprocess.run(view, capture_output=True, text=True, check=True).stdout)
    flat.chmod(0o644)
    host: list[tuple[float, float]] = []
    container: list[tuple[float, float, float, float]] = []
    try:
        for n in range(args.rounds):
            host.append(host_round(flat))
            container.append(container_round(flat, args.image))
            h, c = host[-1], container[-1]
            print(
                f"round {n + 1}: host ready {h[0]:.2f}s cpu {h[1]:.2f}s; container ready {c[2]:.2f}s cpu {c[3]:.2f}s "
                f"(up {c[0]:.2f}s, healthz {c[1]:.2f}s)"
            )
    finally:
        flat.unlink()
    med = statistics.median
    host_ready, host_cpu = (med(h[i] for h in host) for i in range(2))
    command, healthy, ready, cpu = (med(c[i] for c in container) for i in range(4))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians of {args.rounds} rounds:")
    print(f"  host process (entrypoint.sh)  ready {host_ready:.2f}s, cpu {host_cpu:.2f}s")
    print(f"  docker compose up             ready {ready:.2f}s, cpu {cpu:.2f}s", end=" ")
    print(f"(the command {command:.2f}s, healthz {healthy:.2f}s)")
    print(f"  container / host              ready {ready / host_ready:.2f}x, cpu {cpu / host_cpu:.2f}x")


if __name__ == "__main__":
    main()
