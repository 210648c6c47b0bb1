"""A tiny HTTP load balancer for the replica tests: `python -m tests.integration.rr_proxy PORT MODE BACKEND...`.

Every request goes to the next backend in turn (``round-robin``), or (``learn``) to the backend that
answered with that ``Mcp-Session-Id`` before, as HAProxy's ``stick store-response`` or NGINX Plus's
``sticky learn`` do; requests without a known id go round-robin. Responses, SSE included, are streamed
back unchanged. Only for tests on 127.0.0.1.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import AsyncIterator

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length", "host"}


def build(mode: str, backends: list[str]) -> Starlette:
    turn = itertools.cycle(range(len(backends)))
    learned: dict[str, int] = {}
    client = httpx2.AsyncClient(timeout=60)

    async def forward(request: Request) -> StreamingResponse:
        session = request.headers.get("mcp-session-id")
        index = learned[session] if mode == "learn" and session in learned else next(turn)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = client.build_request(
            request.method,
            backends[index] + request.url.path,
            params=request.query_params,
            headers=headers,
            content=await request.body(),
        )
        response = await client.send(upstream, stream=True)
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

    methods = ["GET", "POST", "DELETE", "PUT"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


def main() -> None:
    port, mode, *backends = sys.argv[1:]
    uvicorn.run(build(mode, backends), host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
