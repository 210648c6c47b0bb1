"""Where our start-up time and idle memory go: one process imports the server's parts in layers.

    uv run python bench/startup_profile.py            # a table: each layer's import time and added RSS

Each layer runs in a fresh interpreter that first imports every layer before it, so a layer is charged
only what it adds (a module two layers share is counted in the first). Time is wall time of the
layer's imports (median of --runs fresh interpreters; for the interpreter itself, the whole run of a
program that does nothing); memory is the resident set size (VmRSS) it adds.
The layers, bottom up: the interpreter; pydantic; the HTTP stack (uvicorn, Starlette, anyio, httpx2);
the MCP SDK's server (with its protocol types); rich, which the SDK's ``MCPServer`` imports to make a
log handler it then does not install when logging is already configured; the Kubernetes client
package (kubeconfig loading); our own modules (``app.server``: tool models, redaction rules,
settings); and ``create_app`` (settings parsed, tools and middleware assembled, no request served).

The bare SDK server of bench/trivial_server.py stops after the SDK layers: the rest is ours. Bytecode
is compiled first, as in the image, so the table measures imports, not the compiler.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS: list[tuple[str, str]] = [
    ("interpreter", "pass"),
    ("pydantic", "import pydantic"),
    ("HTTP stack (uvicorn, Starlette, anyio, httpx2)", "import uvicorn, starlette.applications, anyio, httpx2"),
    ("MCP SDK server and protocol types", "import mcp.server.mcpserver, mcp.server.streamable_http_manager"),
    ("rich (imported by the SDK's MCPServer for a log handler)", "import rich.console, rich.logging"),
    ("Kubernetes client package (kubeconfig loading)", "import kubernetes.client, kubernetes.config"),
    ("our modules (app.server)", "import app.server"),
    (
        "create_app (settings, tools, middleware)",
        "from app.config import load_settings; from app.server import create_app; "
        "create_app(load_settings(['--port', '8999', '--kubeconfig', KUBECONFIG, '--log-level', 'warning']))",
    ),
]

PROBE = """
import sys, time, json
sys.path.insert(0, ROOT)
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
before = (time.perf_counter(), rss())
exec(STATEMENT)
print(json.dumps({"seconds": time.perf_counter() - before[0], "mb": rss() - before[1], "rss": rss()}))
"""


def measure(index: int, kubeconfig: Path) -> dict[str, float]:
    """Run layers 0..index-1 silently, then time layer ``index``."""
    prelude = "; ".join(statement for _, statement in LAYERS[1:index]) or "pass"
    code = (
        f"ROOT = {str(ROOT)!r}; KUBECONFIG = {str(kubeconfig)!r}\n"
        f"import sys; sys.path.insert(0, ROOT)\n{prelude}\n" + PROBE.replace("STATEMENT", repr(LAYERS[index][1]))
    )
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - started
    sample = dict(json.loads(out.strip().splitlines()[-1]))
    if index == 0:  # the interpreter's own start: the whole run of a program that does nothing
        sample.update(seconds=wall, mb=sample["rss"])
    return sample


def layers(kubeconfig: Path, runs: int) -> list[tuple[str, float, float]]:
    """(layer, import time in ms, RSS added in MB), medians of ``runs`` fresh interpreters each."""
    rows = []
    for index, (label, _) in enumerate(LAYERS):
        samples = [measure(index, kubeconfig) for _ in range(runs)]
        seconds = statistics.median(s["seconds"] for s in samples)
        rows.append((label, seconds * 1000, statistics.median(s["mb"] for s in samples)))
    return rows


def table(rows: list[tuple[str, float, float]]) -> list[str]:
    lines = ["| layer | import time (ms) | RSS added (MB) |", "|---|---|---|"]
    lines += [f"| {label} | {ms:.0f} | {mb:.1f} |" for label, ms, mb in rows]
    lines.append(f"| total | {sum(r[1] for r in rows):.0f} | {sum(r[2] for r in rows):.1f} |")
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kubeconfig", type=Path, default=ROOT / ".cluster" / "kubeconfig")
    p.add_argument("--runs", type=int, default=5, help="fresh interpreters per layer (default 5)")
    opts = p.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    import peers

    peers.compile_bytecode(sys.executable, ROOT / "app", *peers.site_packages(Path(sys.prefix)))
    print("\n".join(table(layers(opts.kubeconfig, opts.runs))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
