"""API calls over a pooled keep-alive connection that the server closed meanwhile.

A local HTTP/1.1 server answers the first request of each connection and keeps it open, then drops the
connection when the second request arrives on it, without answering: what a client sees when the API
server (or a proxy before it) closes an idle connection just as the client reuses it. Reads must get
their answer on a fresh connection; a change must never be sent twice.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import urllib3
from urllib3.exceptions import ProtocolError

from app.kube.contexts import RETRY_STALE_CONNECTION

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}"


class DroppingServer:
    """Answers the first request of a connection; drops the connection at its second request."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            for answered in (True, False):
                request = _read_request(conn)
                if request is None:
                    return
                self.received[request] += 1
                if answered:
                    conn.sendall(ANSWER)

    def close(self) -> None:
        self._listener.close()


def _read_request(conn: socket.socket) -> str | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = next((int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536)
    method, path, _ = lines[0].split(" ")
    return f"{method} {path}"


@pytest.fixture
def server() -> Iterator[DroppingServer]:
    running = DroppingServer()
    yield running
    running.close()


def test_a_read_on_a_dropped_connection_is_answered_on_a_fresh_one(server: DroppingServer) -> None:
    pool = urllib3.PoolManager(retries=RETRY_STALE_CONNECTION)
    assert pool.request("GET", f"{server.url}/api/v1/pods").status == 200
    assert pool.request("GET", f"{server.url}/api/v1/events").status == 200
    assert server.received["GET /api/v1/events"] == 2  # dropped once, then answered


def test_without_the_retry_the_same_read_fails(server: DroppingServer) -> None:
    pool = urllib3.PoolManager(retries=False)
    pool.request("GET", f"{server.url}/api/v1/pods")
    with pytest.raises(ProtocolError):
        pool.request("GET", f"{server.url}/api/v1/events")


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_a_change_on_a_dropped_connection_is_never_sent_twice(server: DroppingServer, method: str) -> None:
    pool = urllib3.PoolManager(retries=RETRY_STALE_CONNECTION)
    pool.request("GET", f"{server.url}/api/v1/pods")
    with pytest.raises(ProtocolError):
        pool.request(method, f"{server.url}/api/v1/namespaces/a/configmaps/b", body=b"{}")
    assert server.received[f"{method} /api/v1/namespaces/a/configmaps/b"] == 1


def test_a_read_that_timed_out_is_not_sent_again() -> None:
    """A timeout is an answer (the server is slow or gone); retrying it would only double the wait."""
    received: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def swallow() -> None:
        conn, _ = listener.accept()
        received.append(conn.recv(65536))  # read the request, never answer
        conn.recv(1)  # until the client gives up

    threading.Thread(target=swallow, daemon=True).start()
    pool = urllib3.PoolManager(retries=RETRY_STALE_CONNECTION, timeout=urllib3.Timeout(connect=1, read=0.3))
    try:
        with pytest.raises(urllib3.exceptions.ReadTimeoutError):
            pool.request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1/pods")
    finally:
        listener.close()
    assert len(received) == 1
