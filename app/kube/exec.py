"""Run a command in a container through the API server's exec WebSocket.

Exec is not a request/response call, so it cannot go through ``Kube.request``; this module is its
twin for streams and keeps the same rules: the policy check on the verb first, the context's own
credentials, a worker thread from a pool of its own, a deadline, the failure translated once into
our exception tree, a metric and a log line. In a dry-run preview nothing is run. A cancelled call
closes the stream at once (the worker thread stops reading); whether the command itself stops is
up to the container runtime (Kubernetes does not promise to kill a command whose stream closed).

The channel protocol (v5.channel.k8s.io, else v4): every binary frame starts with a channel byte,
1 = stdout, 2 = stderr, 3 = the final ``Status`` (exit code), 255 = close of a channel (v5).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import ssl
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import certifi
import websocket
from kubernetes.stream.ws_client import get_websocket_url, websocket_proxycare

from app import errors
from app.kube import errors as kube_errors
from app.kube.client import Kube, caller_headers
from app.kube.gate import judge_request
from app.scope import dry_run_active

log = logging.getLogger("k8s_mcp.kube")

PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
STDOUT, STDERR, ERROR, CLOSE = 1, 2, 3, 255
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class ExecResult:
    stdout: str
    stderr: str
    exit_code: int | None
    """None when the command did not finish (timeout) or never started."""
    failure: str | None
    """The API's reason when the command could not be run at all (e.g. executable not found)."""
    timed_out: bool
    truncated: bool


async def exec_in_pod(
    kube: Kube,
    *,
    namespace: str,
    pod: str,
    command: list[str],
    container: str | None,
    context: str | None,
    timeout: float,
    max_bytes: int,
) -> ExecResult:
    """Run ``command`` and collect its output (at most ``max_bytes`` per stream) and exit status."""
    path = f"/api/v1/namespaces/{namespace}/pods/{pod}/exec"
    kube.policy.check_verb("POST", path)  # the API server authorizes exec as 'create pods/exec'
    judge_request("POST", path)
    if dry_run_active():
        raise errors.PolicyDenied("exec cannot be previewed; the command was not run")
    caller: dict[str, str] = {}
    groups = caller_headers(kube.settings, caller)  # the same identity rules as every other API call
    ctx = await anyio.to_thread.run_sync(kube.contexts.resolve, context)
    client = await anyio.to_thread.run_sync(kube.contexts.client, ctx)
    query: list[tuple[str, str]] = [("command", part) for part in command]
    query += [("stdout", "true"), ("stderr", "true")]
    if container:
        query.append(("container", container))
    started = time.perf_counter()
    status = "error"
    stream = _Stream()
    try:
        with anyio.fail_after(timeout + CONNECT_TIMEOUT + 5):
            result = await anyio.to_thread.run_sync(
                partial(_run, client, path, query, (caller, groups), timeout, max_bytes, stream),
                limiter=kube.stream_limiter,
                abandon_on_cancel=True,
            )
        status = "101"
        return result
    except anyio.get_cancelled_exc_class():
        status = "cancelled"
        stream.abort()  # the worker thread stops reading now instead of at the deadline
        raise
    except websocket.WebSocketBadStatusException as e:
        status = str(e.status_code)
        raise kube_errors.from_status(e.status_code, getattr(e, "resp_body", None), None) from e
    except TimeoutError as e:
        status = "timeout"
        stream.abort()
        raise errors.Timeout(f"the exec stream did not finish within {timeout:g}s") from e
    except (websocket.WebSocketException, OSError, ssl.SSLError) as e:
        status = "unreachable"
        raise kube_errors.from_transport(e, client.configuration.host) from e
    finally:
        kube.metrics.kube_calls.labels("EXEC", status).inc()
        log.info(
            "kube api call",
            extra={
                "verb": "EXEC",
                "path": path,
                "status": status,
                "context": ctx.name,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )


class _Stream:
    """The exec WebSocket, shared with the event loop so that a cancelled call can close it from there."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: websocket.WebSocket | None = None
        self.aborted = False

    def attach(self, sock: websocket.WebSocket) -> None:
        with self._lock:
            self._sock = sock
            if self.aborted:
                sock.abort()

    def abort(self) -> None:
        """Wake the worker thread blocked on the socket and end the stream (a no-op once it ended)."""
        with self._lock:
            self.aborted = True
            if self._sock is not None:
                with contextlib.suppress(OSError, websocket.WebSocketException):
                    self._sock.abort()


def _run(
    client: Any,
    path: str,
    query: list[tuple[str, str]],
    caller: tuple[dict[str, str], tuple[str, ...]],
    timeout: float,
    max_bytes: int,
    stream: _Stream,
) -> ExecResult:
    """Runs in a worker thread: connect, read frames until the Status, the deadline or an abort."""
    extra, groups = caller
    _, url, headers, _, _ = client.param_serialize(
        "GET", path, query_params=query, header_params=dict(extra), auth_settings=["BearerToken"]
    )
    header = [
        f"{k}: {v}" for k, v in headers.items() if k.lower() == "authorization" or k.lower().startswith("impersonate-")
    ]
    header += [f"Impersonate-Group: {group}" for group in groups]
    sock = _connect(client.configuration, get_websocket_url(url), header)
    stream.attach(sock)
    buffers: dict[int, bytearray] = {STDOUT: bytearray(), STDERR: bytearray(), ERROR: bytearray()}
    truncated = timed_out = False
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            sock.settimeout(remaining)
            try:
                opcode, frame = sock.recv_data_frame(True)
            except websocket.WebSocketTimeoutException:
                timed_out = True
                break
            except websocket.WebSocketConnectionClosedException:
                break
            except OSError:
                if stream.aborted:  # the call was cancelled: nobody waits for this result
                    break
                raise
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            data = bytes(frame.data or b"")
            if not data or data[0] == CLOSE:
                continue
            target = buffers.get(data[0])
            if target is None:
                continue
            room = max_bytes - len(target) if data[0] != ERROR else len(data)
            target.extend(data[1 : 1 + max(room, 0)])
            if len(data) - 1 > room:
                truncated = True
                if data[0] == STDOUT:
                    break  # enough to show; stop the transfer rather than buffer a flood
    finally:
        sock.close()
    exit_code, failure = parse_exec_status(buffers[ERROR].decode("utf-8", "replace"))
    return ExecResult(
        stdout=buffers[STDOUT].decode("utf-8", "replace"),
        stderr=buffers[STDERR].decode("utf-8", "replace"),
        exit_code=None if timed_out else exit_code,
        failure=None if timed_out else failure,
        timed_out=timed_out,
        truncated=truncated,
    )


def _connect(configuration: Any, url: str, header: list[str]) -> websocket.WebSocket:
    """A WebSocket with the context's TLS settings, the given credential headers, and a connect timeout."""
    if url.startswith("wss://") and configuration.verify_ssl:
        sslopt: dict[str, Any] = {
            "cert_reqs": ssl.CERT_REQUIRED,
            "ca_certs": configuration.ssl_ca_cert or certifi.where(),
        }
        if configuration.assert_hostname is not None:
            sslopt["check_hostname"] = configuration.assert_hostname
    else:
        sslopt = {"cert_reqs": ssl.CERT_NONE}
    if configuration.cert_file:
        sslopt["certfile"] = configuration.cert_file
    if configuration.key_file:
        sslopt["keyfile"] = configuration.key_file
    if configuration.tls_server_name:
        sslopt["server_hostname"] = configuration.tls_server_name
    options: dict[str, Any] = {"header": header, "subprotocols": PROTOCOLS, "timeout": CONNECT_TIMEOUT}
    if configuration.proxy or configuration.proxy_headers:
        options = websocket_proxycare(options, configuration, url, None)
    sock = websocket.WebSocket(sslopt=sslopt, skip_utf8_validation=True)
    sock.connect(url, **options)
    return sock


_EXIT_STATUS = re.compile(r"exit (?:status|code) (\d+)")
_INTERNAL = re.compile(r"^(?:Internal error occurred: )+")


def parse_exec_status(raw: str) -> tuple[int | None, str | None]:
    """(exit code, failure) from the Status on the error channel.

    Success is 0. A real kubelet reports a non-zero exit as reason NonZeroExitCode with an ExitCode
    cause; kwok and some runtimes only say "exit status N" in the message. Anything else is a command
    that could not run: its reason comes back as ``failure``, without the repeated prefixes.
    """
    if not raw.strip():
        return None, None
    try:
        status = json.loads(raw)
    except ValueError:
        return None, " ".join(raw.split())[:300]
    if not isinstance(status, dict):
        return None, None
    if status.get("status") == "Success":
        return 0, None
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message", "")), None
            except ValueError:
                break
    message = " ".join(str(status.get("message") or "").split())
    found = _EXIT_STATUS.search(message)
    if found:
        return int(found.group(1)), None
    return None, _INTERNAL.sub("", message)[:300] or "the command could not be run"
