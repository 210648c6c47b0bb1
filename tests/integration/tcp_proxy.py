"""A TCP relay whose connections can be cut: `python -m tests.integration.tcp_proxy LISTEN_PORT TARGET_HOST:PORT`.

Bytes pass through unchanged (TLS included, so a client verifying the API server's certificate still
does). SIGUSR1 closes every open connection at once, as a dropped network or a restarting API server
would, and keeps listening, so clients can reconnect. It prints ``ready`` once it listens. Only for
tests on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import signal
import sys


async def main(listen_port: int, target: str) -> None:
    host, _, port = target.rpartition(":")
    open_writers: set[asyncio.StreamWriter] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.close()
            return
        open_writers.update((client_writer, upstream_writer))
        try:
            await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        finally:
            open_writers.difference_update((client_writer, upstream_writer))

    def cut() -> None:
        for writer in list(open_writers):
            transport = writer.transport
            transport.abort()  # a reset, not a polite close
        open_writers.clear()
        print("cut", flush=True)

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, cut)
    server = await asyncio.start_server(relay, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
