"""Per-client rate limit on the /v1 API (token bucket by client address): over it, 429 with Retry-After."""

import json
import math
import threading
import time

from api.limits import ASGIApp, Receive, Scope, Send


class RateLimit:
    """`per_minute` requests per client, in bursts of up to that many; probes, the page and metrics are exempt."""

    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _take(self, client: str) -> float:
        """0 when a request may pass now, else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, since = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - since) * self.refill)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > 100_000:  # forget idle clients rather than grow without bound
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}
            return (1 - tokens) / self.refill

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self._take(client)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry = str(max(1, math.ceil(wait)))
        body = json.dumps({"error": "too many requests", "detail": f"this client is over its rate limit; retry in {retry} s"}).encode()
        headers = [(b"content-type", b"application/json"), (b"retry-after", retry.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
