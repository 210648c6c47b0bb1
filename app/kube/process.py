"""Run a command-line tool (helm) so that it can be watched while it runs and stopped for real.

``anyio.run_process`` collects output only at the end and, when cancelled, kills just the process it
started. ``run_watched`` instead:

- hands each line of stderr, as it comes, to ``on_line`` (progress and log notifications);
- starts the process in a session and process group of its own, and when the caller is cancelled
  (the client cancelled the call, or the deadline passed) sends SIGTERM to the whole group, waits up
  to ``grace`` seconds for it to finish (helm marks a release it was installing as failed on
  SIGTERM), then SIGKILLs whatever is left of the group: no orphan keeps changing the cluster.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from subprocess import DEVNULL, PIPE

import anyio
from anyio.abc import ByteReceiveStream, Process

#: Seconds a stopped process group gets between SIGTERM and SIGKILL.
GRACE_SECONDS = 5.0
#: Longest stderr line handed to ``on_line`` (longer ones are cut).
MAX_LINE = 4096

OnLine = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: bytes
    stderr: bytes


async def run_watched(
    argv: list[str],
    *,
    stdin: bytes | None,
    env: dict[str, str],
    on_line: OnLine | None = None,
    grace: float = GRACE_SECONDS,
) -> Finished:
    """Run ``argv`` to its end; on cancellation, stop its whole process group before re-raising."""
    process = await anyio.open_process(
        argv, stdin=PIPE if stdin is not None else DEVNULL, stdout=PIPE, stderr=PIPE, env=env, start_new_session=True
    )
    out, err = bytearray(), bytearray()
    try:
        async with anyio.create_task_group() as readers:
            assert process.stdout is not None and process.stderr is not None
            readers.start_soon(_collect, process.stdout, out)
            readers.start_soon(_lines, process.stderr, err, on_line)
            if stdin is not None and process.stdin is not None:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    await process.stdin.send(stdin)
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    await process.stdin.aclose()
        returncode = await process.wait()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await stop_group(process, grace)
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await process.aclose()
    return Finished(returncode, bytes(out), bytes(err))


async def stop_group(process: Process, grace: float) -> None:
    """SIGTERM the process's group, wait up to ``grace`` seconds, then SIGKILL what is left of it."""
    group = process.pid  # the leader of a new session: its pid is the group id
    _signal_group(group, signal.SIGTERM)
    with anyio.move_on_after(grace):
        await process.wait()
    _signal_group(group, signal.SIGKILL)
    await process.wait()
    # Children that outlived the leader are reaped by init; return once the group is gone (bounded).
    with anyio.move_on_after(grace):
        while _signal_group(group, 0):
            await anyio.sleep(0.05)


def _signal_group(group: int, signum: int) -> bool:
    """Signal every process of ``group``; False when none is left."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _collect(stream: ByteReceiveStream, into: bytearray) -> None:
    async for chunk in stream:
        into.extend(chunk)


async def _lines(stream: ByteReceiveStream, into: bytearray, on_line: OnLine | None) -> None:
    pending = b""
    async for chunk in stream:
        into.extend(chunk)
        if on_line is None:
            continue
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            await on_line(raw[:MAX_LINE].decode("utf-8", "replace").rstrip())
        if len(pending) > MAX_LINE:
            await on_line(pending[:MAX_LINE].decode("utf-8", "replace"))
            pending = b""
    if on_line is not None and pending.strip():
        await on_line(pending[:MAX_LINE].decode("utf-8", "replace").rstrip())
