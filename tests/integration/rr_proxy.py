"""A tiny HTTP load balancer for the replica tests: `python -m tests.integration.rr_proxy PORT MODE BACKEND...`.

Every request goes to the next backend in turn (``round-robin``), or (``learn``) to the backend that
answered with that ``Mcp-Session-Id`` before, as HAProxy's ``stick store-response`` or NGINX Plus's
``sticky learn`` do; requests without a known id go round-robin. ``ready`` is round-robin over the
backends whose ``/readyz`` answered 200 at the last probe (every 0.2 s), as a Service routes only to
ready endpoints; with none ready it answers 503 (``GET /_proxy/ready`` shows what the proxy believes).
No mode retries a failed request on another backend (kube-proxy does not either), so a replica that
drops a request shows up as a failed call. Responses, SSE included, are streamed back unchanged.
Only for tests on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections.abc import AsyncIterator

import anyio
import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length", "host"}


PROBE_SECONDS = 0.2


def build(mode: str, backends: list[str]) -> Starlette:
    turn = itertools.cycle(range(len(backends)))
    learned: dict[str, int] = {}
    ready = [mode != "ready"] * len(backends)
    client = httpx2.AsyncClient(timeout=60)

    async def probe_forever() -> None:
        async with httpx2.AsyncClient(timeout=1) as prober:
            while True:
                for index, backend in enumerate(backends):
                    try:
                        ready[index] = (await prober.get(backend + "/readyz")).status_code == 200
                    except httpx2.HTTPError:
                        ready[index] = False
                await anyio.sleep(PROBE_SECONDS)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            if mode == "ready":
                tasks.start_soon(probe_forever)
            yield
            tasks.cancel_scope.cancel()

    def choose(session: str | None) -> int | None:
        if mode == "learn" and session in learned:
            return learned[session]
        for _ in backends:
            index = next(turn)
            if ready[index]:
                return index
        return None

    async def forward(request: Request) -> Response:
        session = request.headers.get("mcp-session-id")
        index = choose(session)
        if index is None:
            return JSONResponse({"error": "no ready backend"}, status_code=503)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = client.build_request(
            request.method,
            backends[index] + request.url.path,
            params=request.query_params,
            headers=headers,
            content=await request.body(),
        )
        try:
            response = await client.send(upstream, stream=True)
        except httpx2.HTTPError as e:
            return JSONResponse({"error": f"backend {index}: {type(e).__name__}"}, status_code=502)
        created = response.headers.get("mcp-session-id")
        if created:
            learned[created] = index

        async def body() -> AsyncIterator[bytes]:
            async for chunk in response.aiter_raw():
                yield chunk

        out_headers = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
        out_headers["x-backend"] = str(index)
        return StreamingResponse(
            body(), status_code=response.status_code, headers=out_headers, background=BackgroundTask(response.aclose)
        )

    async def backends_ready(request: Request) -> Response:
        return JSONResponse({"ready": ready})

    methods = ["GET", "POST", "DELETE", "PUT"]
    routes = [Route("/_proxy/ready", backends_ready), Route("/{path:path}", forward, methods=methods)]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    port, mode, *backends = sys.argv[1:]
    uvicorn.run(build(mode, backends), host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
