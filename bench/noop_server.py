"""Our whole server plus one bench-only tool, ``bench_noop``, whose handler does nothing.

    python bench/noop_server.py [our server's flags]     # e.g. --host 127.0.0.1 --port 8123 --kubeconfig K

Started by bench/profile_call.py. A ``bench_noop`` call crosses everything a real call crosses in our
server (HTTP middleware, authentication and rate limiting when configured, the request scope, argument
validation, the policy check, metrics, the audit line, the text scrub, structured content, the SDK's
encoding) except the handler's own work (the API call, decoding, redaction, rendering). So, over HTTP:

    ours(pods_get) - ours(bench_noop)      = the handler, itemised in process by profile_call.py
    ours(bench_noop) - bare SDK(trivial)   = our per-call layers around any handler
    bare SDK(trivial)                      = the SDK's and its client's own cost (bench/trivial_server.py)

The tool is added to the served catalog by wrapping ``exposed_specs`` before the app is assembled; the
product's code is untouched and the tool exists only in this process.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import BaseModel, ConfigDict

import app.server
from app.__main__ import main
from app.policy import Selection
from app.spec import Deps, ToolResult, ToolSpec


class NoopArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoopOutput(BaseModel):
    ok: bool


async def noop(args: NoopArgs, deps: Deps) -> ToolResult:
    return ToolResult(text="ok", data=NoopOutput(ok=True))


NOOP = ToolSpec(
    name="bench_noop",
    title="Bench: do nothing",
    description="Answers ok without touching the cluster (bench only).",
    params=NoopArgs,
    output=NoopOutput,
    handler=noop,
    action=lambda args: "do nothing",
    read_only=True,
    open_world=False,
)

_exposed = app.server.exposed_specs


def exposed_with_noop(*args: Any, **kwargs: Any) -> Selection[ToolSpec[Any]]:
    selection = _exposed(*args, **kwargs)
    return Selection(tools=[*selection.tools, NOOP], withheld=selection.withheld)


app.server.exposed_specs = exposed_with_noop

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
