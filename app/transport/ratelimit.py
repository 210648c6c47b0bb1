"""Per-caller rate limit on /mcp: 429 with Retry-After once a caller exceeds its allowance.

The caller is the bearer token (hashed; each identity has its own) or, without one, the client
address. The ``limits`` library keeps a moving window in memory (per replica).
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.strategies import MovingWindowRateLimiter


def caller_key(scope: Scope) -> str:
    authorization = Headers(scope=scope).get("authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode()).hexdigest()[:32]
    client = scope.get("client") or ("unknown", 0)
    return f"addr:{client[0]}"


class RateLimit:
    def __init__(self, app: ASGIApp, *, rule: str) -> None:
        # Imported here: a server with no rate limit never loads ``limits``.
        from limits import parse
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.app = app
        self.item: RateLimitItem = parse(rule)
        self.limiter: MovingWindowRateLimiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST":
            key = caller_key(scope)
            if not self.limiter.hit(self.item, key):
                reset_at, _ = self.limiter.get_window_stats(self.item, key)
                retry_after = max(1, math.ceil(reset_at - time.time()))
                response = JSONResponse(
                    {
                        "jsonrpc": "2.0",
                        "id": None,
                        "error": {
                            "code": -32000,
                            "message": f"rate limit exceeded ({self.item}); retry in {retry_after}s",
                        },
                    },
                    status_code=429,
                    headers={"Retry-After": str(retry_after)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
