"""Install, start, measure and stop the servers a benchmark compares: ours and the peers.

Peers are installed with their ordinary clients (npm, uv) into a cache outside the repository
(``~/.cache/k8s-mcp/peers`` unless ``K8S_MCP_PEERS_DIR`` says otherwise), at the versions pinned
below, the ones measured in shared/PEERS.md. Each server runs as its own process group on loopback,
so stopping it also stops the kubectl processes the kubectl-based peers fork.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("K8S_MCP_PEERS_DIR", Path.home() / ".cache" / "k8s-mcp" / "peers"))

GO_VERSION = "0.0.67"  # npm kubernetes-mcp-server (ships the Go binary)
FLUX_VERSION = "4.1.7"  # npm mcp-server-kubernetes (Node, forks kubectl)
KUBECTL_MCP_VERSION = "2.0.0"  # PyPI kubectl-mcp-server (Python, forks kubectl)


def rig_bin() -> Path:
    out = subprocess.run([str(ROOT / "rig" / "build.sh"), "--dir"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------- installation


def _npm_dir() -> Path:
    return CACHE / "npm"


def install_npm_peers() -> None:
    """Both npm peers in one prefix; a no-op when the pinned versions are already there."""
    base = _npm_dir() / "node_modules"
    wanted = {"kubernetes-mcp-server": GO_VERSION, "mcp-server-kubernetes": FLUX_VERSION}
    if all(_npm_version(base / name) == version for name, version in wanted.items()):
        return
    _npm_dir().mkdir(parents=True, exist_ok=True)
    print(f"[bench] npm install into {_npm_dir()}", file=sys.stderr)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *(f"{n}@{v}" for n, v in wanted.items())],
        cwd=_npm_dir(),
        check=True,
    )


def _npm_version(package_dir: Path) -> str | None:
    import json

    try:
        return str(json.loads((package_dir / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def go_binary() -> Path:
    base = _npm_dir() / "node_modules" / "kubernetes-mcp-server-linux-amd64" / "bin"
    return base / "kubernetes-mcp-server-linux-amd64"


def flux_entry() -> Path:
    return _npm_dir() / "node_modules" / "mcp-server-kubernetes" / "dist" / "index.js"


def kubectl_mcp_venv() -> Path:
    return CACHE / "kubectl-mcp"


def install_kubectl_mcp() -> bool:
    """kubectl-mcp-server in its own venv; False (and a note) when it does not install cleanly."""
    exe = kubectl_mcp_venv() / "bin" / "kubectl-mcp"
    if exe.exists():
        return True
    print(f"[bench] installing kubectl-mcp-server {KUBECTL_MCP_VERSION} into {kubectl_mcp_venv()}", file=sys.stderr)
    env = {**os.environ, "VIRTUAL_ENV": str(kubectl_mcp_venv())}
    try:
        subprocess.run(["uv", "venv", "-q", "-p", "3.11", str(kubectl_mcp_venv())], check=True)
        subprocess.run(
            ["uv", "pip", "install", "-q", f"kubectl-mcp-server=={KUBECTL_MCP_VERSION}"], env=env, check=True
        )
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"[bench] kubectl-mcp-server did not install ({e}); it is left out", file=sys.stderr)
        return False
    return exe.exists()


def compile_bytecode(python: str, *paths: Path) -> None:
    """Precompile .pyc files, as the image does (UV_COMPILE_BYTECODE=1): start-up then measures the
    server, not the compiler (this machine sets PYTHONDONTWRITEBYTECODE, so nothing is cached otherwise)."""
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", *map(str, paths)],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def site_packages(venv: Path) -> list[Path]:
    return sorted(venv.glob("lib/python3*/site-packages"))


# ---------------------------------------------------------------- servers


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: argv and environment for a port and a kubeconfig."""

    key: str
    label: str
    version: str
    argv: Callable[[int, Path], list[str]]
    env: Callable[[int, Path], dict[str, str]] = lambda port, kubeconfig: {}
    cwd: Path | None = None
    path: str = "/mcp"
    kubectl_based: bool = False


def _base_env(kubeconfig: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_MCP_", "KUBECONFIG", "MCP_PORT", "PORT"))}
    env["KUBECONFIG"] = str(kubeconfig)
    env["PATH"] = f"{rig_bin()}{os.pathsep}{env.get('PATH', '')}"  # the rig's kubectl first
    return env


def ours(
    extra_args: tuple[str, ...] = (),
    key: str = "k8s-mcp",
    label: str = "k8s-mcp (ours)",
    env: dict[str, str] | None = None,
) -> ServerSpec:
    def argv(port: int, kubeconfig: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--kubeconfig",
            str(kubeconfig),
            "--rate-limit",
            "",  # peers have no rate limit; ours defaults to 300/minute per identity
            # The Go server serves resources_create_or_update out of the box; ours hides it (a
            # destructive-hinted tool) unless destructive operations are on, and would then ask for
            # approval first. Here the gate is open and approval off, so the write is one call, as on the Go server.
            "--enable-destructive-operations",
            "--approval",
            "none",
            *extra_args,
        ]

    extra_env = dict(env or {})
    return ServerSpec(key, label, _our_version(), argv, lambda port, kubeconfig: extra_env, cwd=ROOT)


def go_server() -> ServerSpec:
    def argv(port: int, kubeconfig: Path) -> list[str]:
        return [str(go_binary()), "--port", str(port), "--bind-address", "127.0.0.1", "--kubeconfig", str(kubeconfig)]

    return ServerSpec("go", "kubernetes-mcp-server (Go)", GO_VERSION, argv)


def flux_server() -> ServerSpec:
    def argv(port: int, kubeconfig: Path) -> list[str]:
        return ["node", str(flux_entry())]

    def env(port: int, kubeconfig: Path) -> dict[str, str]:
        return {"ENABLE_UNSAFE_STREAMABLE_HTTP_TRANSPORT": "1", "PORT": str(port), "HOST": "127.0.0.1"}

    return ServerSpec(
        "flux",
        "mcp-server-kubernetes (Node)",
        FLUX_VERSION,
        argv,
        env,
        cwd=flux_entry().parent.parent,
        kubectl_based=True,
    )


def kubectl_mcp_server() -> ServerSpec:
    def argv(port: int, kubeconfig: Path) -> list[str]:
        exe = kubectl_mcp_venv() / "bin" / "kubectl-mcp"
        return [str(exe), "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]

    return ServerSpec("kubectl-mcp", "kubectl-mcp-server (Python)", KUBECTL_MCP_VERSION, argv, kubectl_based=True)


def _our_version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


@dataclass
class Running:
    spec: ServerSpec
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started: float = field(default_factory=time.perf_counter)
    ready_cpu: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.spec.path}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_mb(self) -> float:
        return tree_rss_mb(self.pid)

    def logs(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the server's own process group, then SIGKILL after 10 s."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # forked kubectl children left behind


def start(spec: ServerSpec, kubeconfig: Path, log_dir: Path) -> Running:
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{spec.key}-{port}.log"
    env = {**_base_env(kubeconfig), **spec.env(port, kubeconfig)}
    with log_path.open("wb") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(
            spec.argv(port, kubeconfig),
            cwd=spec.cwd,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Running(spec, port, process, log_path, started)


# ---------------------------------------------------------------- memory


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree_rss_mb(pid: int) -> float:
    """VmRSS of a process and all its descendants, in MB (forked kubectl processes included)."""
    kids = _children()
    total_kb = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        todo.extend(kids.get(current, []))
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
    return total_kb / 1024
