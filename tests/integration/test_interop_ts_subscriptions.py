"""Live subscriptions through the official TypeScript SDK client (tests/interop/subscribe.mjs).

The script subscribes to a ConfigMap in a 2025-era session, reports the refusals of a URI that does not
parse and of a denied kind, then prints every notifications/resources/updated it receives and obeys
commands on stdin (unsubscribe, subscribe, close). The changes are made with the rig's kubectl; each
wait is bounded and none is asserted on for speed. Its dependencies come from
tests/interop/package-lock.json (`make integration` runs `npm ci` there).
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.integration.conftest import Kubectl, ServerProcess, start_server

INTEROP = Path(__file__).resolve().parents[1] / "interop"
WAIT = 30


@pytest.fixture(scope="module")
def own_server(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own, so its gauges count only this test's subscriptions."""
    proc = start_server(tmp_path_factory.mktemp("ts-live"), "--kubeconfig", str(kubeconfig), "--rate-limit", "")
    yield proc
    proc.stop()


class Script:
    """The running script: its JSON lines in a queue (read by a thread), commands to its stdin."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def next(self) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=WAIT)
        except queue.Empty:
            self.process.kill()
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"the TypeScript client said nothing for {WAIT}s: {stderr}") from None
        event: dict[str, Any] = json.loads(line)
        return event

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()


def gauges(server: ServerProcess) -> tuple[int, int]:
    text = httpx2.get(f"{server.base}/metrics").text
    found = [
        re.search(rf"^{name} (\S+)$", text, re.M)
        for name in ("k8s_mcp_resource_watches", "k8s_mcp_resource_subscriptions")
    ]
    assert all(found), "the subscription gauges are missing from /metrics"
    return tuple(int(float(m.group(1))) for m in found if m)  # type: ignore[return-value]


def gauges_become(server: ServerProcess, wanted: tuple[int, int]) -> None:
    deadline = time.monotonic() + WAIT
    while gauges(server) != wanted:
        assert time.monotonic() < deadline, f"the gauges stayed at {gauges(server)}, not {wanted}"
        time.sleep(0.2)


def test_the_typescript_sdk_client_subscribes_is_told_unsubscribes_and_gets_the_final_update(
    own_server: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    node = shutil.which("node")
    assert node, "node is required for the interoperability test (the README lists it)"
    assert (INTEROP / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir(), "run: npm ci --prefix tests/interop"
    kubectl("create", "configmap", "watched", "-n", namespace, "--from-literal=step=0")
    uri = f"k8s://current/{namespace}/configmaps/watched"
    bad, denied = "k8s://current/nonsense", f"k8s://current/{namespace}/secrets/anything"
    process = subprocess.Popen(
        [node, str(INTEROP / "subscribe.mjs"), own_server.url, uri, bad, denied],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    script = Script(process)
    try:
        ready = script.next()
        assert ready["event"] == "ready" and ready["protocolVersion"] == "2025-11-25"
        assert ready["subscribe"] is True
        assert ready["bad"]["code"] == -32602 and f"failed to subscribe to {bad}: " in ready["bad"]["message"]
        assert ready["denied"]["code"] == -32602 and "denied by server policy" in ready["denied"]["message"]
        assert gauges(own_server) == (1, 1)

        kubectl("patch", "configmap", "watched", "-n", namespace, "--type=merge", "-p", '{"data":{"step":"1"}}')
        assert script.next() == {"event": "updated", "uri": uri}

        script.send("unsubscribe")
        assert script.next() == {"event": "unsubscribed"}
        assert gauges(own_server) == (0, 0)

        script.send("subscribe")
        assert script.next() == {"event": "subscribed"}
        kubectl("delete", "configmap", "watched", "-n", namespace)
        assert script.next() == {"event": "updated", "uri": uri}  # the deletion: the final update
        gauges_become(own_server, (0, 0))

        script.send("close")
        assert script.next() == {"event": "closed"}
        assert process.wait(timeout=WAIT) == 0
    finally:
        if process.poll() is None:
            process.kill()
