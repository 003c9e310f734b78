"""Requests per client per minute on the local stack's API routes (in AWS, API Gateway throttles).

A token bucket per client address: ``burst`` requests at once (by default a whole minute's worth,
``per_minute``), refilled evenly over a minute.
"""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None):
        self.capacity = per_minute if burst is None else max(1, min(burst, per_minute))
        self.refill_per_second = per_minute / 60
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when)
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float:
        """0 when the request may go ahead; else the seconds until it may (for Retry-After)."""
        if self.refill_per_second <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.refill_per_second)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.refill_per_second


def retry_after_header(wait_seconds: float) -> str:
    return str(max(1, math.ceil(wait_seconds)))
