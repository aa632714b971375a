"""The per-domain token buckets in the database, shared by every sidecar process.

On PostgreSQL several `commsite sidecar` processes (on several hosts) answer
the inbox; a bucket per process would let a sender through at processes x
rate. Here a bucket is a row of `inbox_rate_limits`, refilled and spent by
one atomic statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING), so
two processes taking a token at once each see the other's. Time is the wall
clock (seconds since the epoch), which every host shares; a host whose clock
is behind never refills a bucket backwards.

The write is not made durable (synchronous_commit off): a bucket lost in a
crash only means a sender gets its burst again.
"""

from __future__ import annotations

import itertools
import math
import threading

from commsite.sidecar.store import Store

__all__ = ["StoredRateLimiter"]

_PRUNE_EVERY = 1000  # takes between sweeps of buckets that have refilled


def _refill(rate: str, burst: str) -> str:
    elapsed = "(CASE WHEN excluded.last > b.last THEN excluded.last - b.last ELSE 0 END)"
    grown = f"b.tokens + {elapsed} * {rate}"
    return f"(CASE WHEN {grown} > {burst} THEN {burst} ELSE {grown} END)"


_REFILL = _refill("?", "?")
_TAKE = (
    "INSERT INTO inbox_rate_limits AS b (key, tokens, last, allowed) VALUES (?, ?, ?, 1)"
    " ON CONFLICT (key) DO UPDATE SET"
    f" tokens = CASE WHEN {_REFILL} >= 1 THEN {_REFILL} - 1 ELSE {_REFILL} END,"
    f" allowed = CASE WHEN {_REFILL} >= 1 THEN 1 ELSE 0 END,"
    " last = CASE WHEN excluded.last > b.last THEN excluded.last ELSE b.last END"
    " RETURNING tokens, allowed"
)


class StoredRateLimiter:
    """`rate` requests a second per key, bursts of up to `burst`, across processes."""

    def __init__(self, store: Store, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.store = store
        self.rate = rate
        self.burst = burst
        self._takes = itertools.count(1)
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float:
        """Spend a token for `key` at `now` (epoch seconds): 0.0 when allowed, else
        seconds until one is free."""
        refill = (self.rate, self.burst, self.burst, self.rate) * 4  # the four _REFILLs
        with self.store.transaction(serialised=False) as conn:
            if conn.dialect == "postgresql":
                conn.execute("SET LOCAL synchronous_commit TO OFF")
            row = conn.execute(_TAKE, (key, float(self.burst - 1), float(now), *refill)).fetchone()
            with self._lock:
                sweep = next(self._takes) % _PRUNE_EVERY == 0
            if sweep:
                conn.execute(
                    "DELETE FROM inbox_rate_limits WHERE tokens + (? - last) * ? >= ?",
                    (float(now), self.rate, self.burst),
                )
        tokens, allowed = float(row[0]), int(row[1])
        return 0.0 if allowed else (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        """The Retry-After header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait)))
