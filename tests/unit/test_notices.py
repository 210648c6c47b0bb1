"""Progress values, log levels, helm's stderr read as progress, and a watched process stopped with its group.

The process tests run real processes (``sh``, ``sleep``): a cancelled ``run_watched`` must leave no
process of its group behind, which ``os.killpg(group, 0)`` checks after the fact.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from pydantic import BaseModel

from app.config import load_settings
from app.kube.discovery import Discovery
from app.kube.helmlines import HelmWatch, read_line, without_debug
from app.kube.process import run_watched
from app.notify import SILENT, at_least
from app.scope import notices, notifying, previewing
from app.server import assemble
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.workloads.rollout import condition_notes, rollout_counts, warning_notes
from app.transport import notices as notices_module
from app.transport.mcp_server import build_mcp
from app.transport.notices import ProgressCounter, SessionLevels


def test_progress_values_strictly_increase_with_counts_creep_and_a_count_that_falls() -> None:
    counter = ProgressCounter(started=100.0)
    values = [
        counter.value(101.0, 1, 3),
        counter.value(105.0, None, None),  # a heartbeat: creeps towards 2
        counter.value(200.0, None, None),
        counter.value(201.0, 2, 3),
        counter.value(202.0, 1, 3),  # a count that falls still moves forwards
        counter.value(5000.0, None, None),
    ]
    assert all(b > a for a, b in itertools.pairwise(values)), values
    assert 1 < values[2] < 2 and values[3] == 2 and counter.total == 3


def test_progress_without_a_count_is_the_seconds_elapsed_and_keeps_its_total() -> None:
    counter = ProgressCounter(started=10.0)
    assert counter.value(12.5, None, 30) == 2.5 and counter.total == 30
    assert counter.value(20.0, None, None) == 10.0 and counter.total == 30


def test_session_levels_are_bounded_and_stateless_requests_keep_nothing() -> None:
    levels = SessionLevels(capacity=2)
    levels.set("a", "debug")
    levels.set("b", "error")
    levels.set(None, "debug")
    levels.set("c", "warning")
    assert len(levels) == 2
    assert levels.get("a") == "info"  # forgotten: back to the default
    assert (levels.get("b"), levels.get("c"), levels.get(None)) == ("error", "warning", "info")


def test_levels_compare_by_severity() -> None:
    assert at_least("error", "warning") and at_least("info", "info") and not at_least("debug", "info")


def test_the_scope_is_silent_by_default_and_inside_a_preview() -> None:
    loud: Any = object()
    assert notices() is SILENT
    with notifying(loud):
        assert notices() is loud
        with previewing():
            assert notices() is SILENT
        assert notices() is loud


def test_helm_debug_lines_become_progress_messages_and_leave_error_translation_alone() -> None:
    watch = HelmWatch("install")
    said = [
        watch.read("client.go:142: [debug] creating 4 resource(s)"),
        watch.read("wait.go:48: [debug] beginning wait for 4 resources with timeout of 5m0s"),
        watch.read("ready.go:303: [debug] Deployment is not ready: ns/web. 0 out of 1 expected pods are ready"),
        watch.read("ready.go:303: [debug] Deployment is not ready: ns/web. 0 out of 1 expected pods are ready"),
        watch.read('install.go:225: [debug] Original chart version: ""'),
        watch.read("Error: INSTALLATION FAILED: context deadline exceeded"),
    ]
    messages = [message for _, message in said]
    assert messages[:4] == [
        "helm install: creating 4 resources",
        "helm: waiting for 4 resources to be ready",
        "helm: waiting for 4 resources; Deployment ns/web is not ready yet (0 out of 1 expected pods are ready)",
        "helm: waiting for 4 resources; Deployment ns/web is not ready yet (0 out of 1 expected pods are ready)",
    ]
    levels = [line.level for line, _ in said if line is not None]
    assert levels == ["info", "info", "info", "debug", "debug", "error"]  # a repeated wait line is only debug
    stderr = "wait.go:48: [debug] beginning wait\nError: INSTALLATION FAILED: boom\nhelm.go:92: [debug] trace"
    assert without_debug(stderr) == "Error: INSTALLATION FAILED: boom"


def test_helm_v3_debug_output_with_times_and_a_stack_trace_is_read_as_debug() -> None:
    stderr = (Path(__file__).parent / "data" / "helm-install-wait-debug.txt").read_text()
    watch = HelmWatch("install")
    read = [watch.read(raw) for raw in stderr.splitlines()]
    messages = [m for _, m in read if m]
    assert messages[:3] == [
        "helm install: creating 2 resources",
        "helm: waiting for 2 resources to be ready",
        "helm: waiting for 2 resources; ReplicaSet h12probe/probe-f88cddd58 is not ready yet "
        "(observedGeneration (0) does not match spec generation (1))",
    ]
    assert "Deployment h12probe/probe is not ready yet (0 out of 1 expected pods are ready)" in messages[3]
    not_debug = [line.text for line, _ in read if line is not None and not line.debug]
    assert not_debug == ["Error: INSTALLATION FAILED: context deadline exceeded"]
    assert without_debug(stderr) == "Error: INSTALLATION FAILED: context deadline exceeded"


def test_helm_slog_lines_are_read_too() -> None:
    line = read_line('time=2026-12-01T10:00:00Z level=DEBUG msg="beginning wait for 2 resources" timeout=5m0s')
    assert line is not None and line.debug and line.text.startswith("beginning wait for 2 resources")
    watch = HelmWatch("uninstall")
    _, message = watch.read(
        'time=x level=DEBUG msg="beginning wait for 2 resources to be deleted with timeout of 5m0s"'
    )
    assert message == "helm: waiting for 2 resources to be deleted"
    line, message = watch.read(
        'client.go:518: 2026-12-01 09:54:10 +0000 UTC [debug] Starting delete for "web" Deployment'
    )
    assert message == "helm uninstall: deleting Deployment web" and line is not None and line.level == "info"
    warning = read_line("WARNING: Kubernetes configuration file is group-readable")
    assert warning is not None and warning.level == "warning" and not warning.debug


def test_rollout_counts_and_changed_conditions() -> None:
    deployment = {
        "spec": {"replicas": 3},
        "status": {
            "updatedReplicas": 2,
            "availableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
                {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"},
            ],
        },
    }
    assert rollout_counts("Deployment", deployment) == (1, 3)
    daemonset = {"status": {"desiredNumberScheduled": 4, "updatedNumberScheduled": 4, "numberAvailable": 3}}
    assert rollout_counts("DaemonSet", daemonset) == (3, 4)
    notes = condition_notes(None, deployment)
    assert notes == [
        (True, "condition Available=False (MinimumReplicasUnavailable)"),
        (False, "condition Progressing=True (ReplicaSetUpdated)"),
    ]
    assert condition_notes(deployment, deployment) == []


def test_warning_events_of_the_workload_its_replicasets_and_pods_are_reported_once_per_occurrence() -> None:
    def event(uid: str, name: str, count: int, kind: str = "Pod", type_: str = "Warning") -> dict[str, Any]:
        return {
            "metadata": {"uid": uid},
            "type": type_,
            "reason": "FailedScheduling",
            "message": "0/3 nodes are available:\n 3 node(s) didn't match Pod's node affinity/selector.",
            "count": count,
            "involvedObject": {"kind": kind, "name": name},
        }

    seen: dict[str, int] = {}
    events = [event("a", "web-5d9c-x1", 1), event("b", "webshop-1", 1), event("c", "web", 1, "Deployment", "Normal")]
    assert warning_notes(events, "web", seen) == [
        "Pod web-5d9c-x1: FailedScheduling: 0/3 nodes are available: "
        "3 node(s) didn't match Pod's node affinity/selector."
    ]
    assert warning_notes(events, "web", seen) == []  # nothing new
    assert len(warning_notes([event("a", "web-5d9c-x1", 2)], "web", seen)) == 1  # it happened again


def _group_alive(group: int) -> bool:
    """Whether a process of ``group`` still runs (a zombie waiting for init to reap it runs nothing)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def test_a_cancelled_watched_process_leaves_no_process_of_its_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    lines: list[str] = []

    async def on_line(line: str) -> None:
        lines.append(line)

    async def main() -> None:
        script = f"echo $$ > {pid_file}; echo started >&2; sleep 300 & sleep 300; wait"
        with anyio.move_on_after(1.5):
            await run_watched(["sh", "-c", script], stdin=None, env=dict(os.environ), on_line=on_line, grace=1)
        raise AssertionError("the process was expected to outlive the deadline")

    with pytest.raises(AssertionError, match="outlive"):
        anyio.run(main)
    group = int(pid_file.read_text())
    assert lines == ["started"]
    assert not _group_alive(group), "a process of the cancelled group is still running"


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    async def main() -> None:
        script = f"trap '' TERM; echo $$ > {pid_file}; sleep 300"
        with anyio.move_on_after(1.0):
            await run_watched(["sh", "-c", script], stdin=None, env=dict(os.environ), grace=0.5)

    anyio.run(main)
    assert not _group_alive(int(pid_file.read_text()))


def test_a_watched_process_hands_back_its_output_and_reads_stdin() -> None:
    async def main() -> Any:
        return await run_watched(["sh", "-c", "cat; echo oops >&2; exit 3"], stdin=b"hello", env=dict(os.environ))

    done = anyio.run(main)
    assert (done.returncode, done.stdout, done.stderr) == (3, b"hello", b"oops\n")


def test_the_server_declares_logging_and_answers_set_level(tmp_path: Path) -> None:
    settings = load_settings(["--transport", "stdio", "--in-cluster", "false"], environ={})
    server = assemble(settings).mcp

    async def main() -> tuple[Any, Any]:
        async with Client(server, mode="legacy") as client:
            answer = await client.set_logging_level("debug")
            return client.server_capabilities, answer

    capabilities, answer = anyio.run(main)
    assert capabilities.logging is not None
    assert answer.model_dump(exclude_none=True) in ({}, {"meta": None})


class _Seconds(BaseModel):
    seconds: float = 0


class _Done(BaseModel):
    ok: bool


async def _slow(args: _Seconds, deps: Any) -> ToolResult:
    """A tool that waits: a first count, two log lines (one with a credential), silence, the next count."""
    notifier = notices()
    await notifier.progress("starting", 0, 2)
    await notifier.log("info", "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789 seen")
    await notifier.log("debug", "a debug line")
    await anyio.sleep(args.seconds)
    await notifier.progress("half way", 1, 2)
    return ToolResult("done", _Done(ok=True))


SLOW: ToolSpec[Any] = ToolSpec(
    name="slow",
    title="Slow",
    description="Waits.",
    params=_Seconds,
    output=_Done,
    handler=_slow,
    action=lambda a: "wait",
    read_only=True,
)


def _slow_server() -> Any:
    settings = load_settings(["--transport", "stdio", "--in-cluster", "false"], environ={})
    assembly = assemble(settings)
    deps = Deps(kube=assembly.kube, discovery=Discovery(assembly.kube), settings=settings, helm=assembly.helm)
    return build_mcp(settings, [SLOW], deps, assembly.metrics, catalog=[SLOW]), assembly.metrics


def test_a_waiting_tool_sends_scrubbed_progress_a_heartbeat_and_log_lines_at_the_session_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notices_module, "HEARTBEAT_SECONDS", 0.3)
    server, _ = _slow_server()
    heard: list[tuple[Any, ...]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        heard.append(("progress", progress, total, message))

    async def on_log(params: Any) -> None:
        heard.append(("log", params.level, params.data))

    async def main() -> None:
        async with Client(server, mode="legacy", logging_callback=on_log) as client:
            await client.call_tool("slow", {"seconds": 1.0}, progress_callback=on_progress)
            await client.set_logging_level("debug")
            await client.call_tool("slow", {"seconds": 0})  # no token: log lines only

    anyio.run(main)
    progress = [h for h in heard if h[0] == "progress"]
    logs = [h for h in heard if h[0] == "log"]
    assert progress[0][1:] == (0, 2, "starting") and progress[-1][1:] == (1, 2, "half way")
    beats = progress[1:-1]
    assert beats and all(m.startswith("starting (") and m.endswith("s elapsed)") for *_, m in beats), progress
    values = [p for _, p, _, _ in progress]
    assert all(b > a for a, b in itertools.pairwise(values)) and all(0 < v < 1 for v in values[1:-1])
    # The first call logs at the default level (info), the second at the level set (debug); all scrubbed.
    assert logs == [
        ("log", "info", "token=<redacted github-pat> seen"),
        ("log", "info", "token=<redacted github-pat> seen"),
        ("log", "debug", "a debug line"),
    ]


def test_a_cancelled_call_sends_no_result_and_counts_as_cancelled() -> None:
    server, metrics = _slow_server()

    async def main() -> list[Any]:
        results: list[Any] = []
        async with Client(server, mode="legacy") as client:
            with anyio.move_on_after(0.5):
                results.append(await client.call_tool("slow", {"seconds": 30}))
            results.append(await client.call_tool("slow", {"seconds": 0}))
        return results

    results = anyio.run(main)
    assert len(results) == 1 and not results[0].is_error
    cancelled = metrics.tool_calls.labels("slow", "cancelled")._value.get()
    assert cancelled == 1 and metrics.inflight._value.get() == 0
