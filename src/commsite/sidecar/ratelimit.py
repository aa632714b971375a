"""A token bucket per sending domain: the inbox's answer to floods (429 + Retry-After).

This bucket lives in the process: `commsite sidecar` on SQLite answers alone,
and keeps no shared state on the hot path. When several processes answer
(gunicorn workers, or PostgreSQL with processes on several hosts), the buckets
are rows of the database instead (ratelimit_store.StoredRateLimiter), behind
the same `Limiter`: see server._limiters and docs/sidecar.md.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Limiter", "RateLimiter"]


class Limiter(Protocol):
    def take(self, key: str, now: float) -> float: ...

    def retry_after(self, wait: float) -> str: ...


@dataclass(slots=True)
class _Bucket:
    tokens: float
    last: float


class RateLimiter:
    """`rate` requests a second per key, with bursts of up to `burst`."""

    def __init__(self, rate: float, burst: int, max_keys: int = 10_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float:
        """Spend a token for `key`: 0.0 when allowed, else seconds until one is free."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.last) * self.rate)
            bucket.last = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        """The Retry-After header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait)))

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled completely (they hold no information)."""
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.last) * self.rate >= self.burst
        ]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_keys:  # still full: forget the oldest half
            for k in sorted(self._buckets, key=lambda k: self._buckets[k].last)[
                : self.max_keys // 2
            ]:
                del self._buckets[k]
