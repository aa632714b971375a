"""Slots for the key fetches admission makes: taken before a fetch starts, or refused at once.

A key fetch runs on the WSGI server's thread that is answering the delivery, and a
remote server that answers slowly holds that thread until the fetch deadline. Without
a bound, a few dozen deliveries whose keyIds point at a slow server take every thread,
and a delivery whose key is cached waits behind them. So:

* at most `total` fetches are in flight, all hosts together: the sidecar sizes it to
  half the server's threads, so requests that need no fetch always find a thread;
* at most `per_host` of them go to one host (host and port of the keyId), so one slow
  host cannot take every slot from the others.

A request that finds no free slot is not queued (a queue would hold a thread too): it
raises `NoFetchSlot`, which admission answers 503 with Retry-After; Mastodon and the
others retry a delivery later.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["FetchSlots", "NoFetchSlot"]


class NoFetchSlot(Exception):
    """Every slot (or every slot for this host) is taken; try again after `retry_after` s."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class FetchSlots:
    """`total` fetches in flight at most, `per_host` of them to one host."""

    def __init__(self, total: int, per_host: int, retry_after: float = 5.0) -> None:
        if total < 1 or per_host < 1:
            raise ValueError("total and per_host must be at least 1")
        self.total = total
        self.per_host = per_host
        # A slot is free again at the latest when a fetch's deadline passes.
        self.retry_after = max(1, math.ceil(retry_after))
        self._lock = threading.Lock()
        self._in_flight = 0
        self._by_host: dict[str, int] = {}

    def busy(self, host: str) -> NoFetchSlot | None:
        """Why a fetch from `host` would find no slot now, or None (a slot is free)."""
        with self._lock:
            return self._busy(host.lower())

    def _busy(self, host: str) -> NoFetchSlot | None:
        if self._by_host.get(host, 0) >= self.per_host:
            return NoFetchSlot(
                f"{self.per_host} key fetches from {host} are already under way", self.retry_after
            )
        if self._in_flight >= self.total:
            return NoFetchSlot("too many key fetches under way", self.retry_after)
        return None

    @contextmanager
    def hold(self, host: str) -> Iterator[None]:
        """Hold a slot for a fetch from `host` while the block runs; NoFetchSlot if none."""
        host = host.lower()
        with self._lock:
            busy = self._busy(host)
            if busy is not None:
                raise busy
            self._in_flight += 1
            self._by_host[host] = self._by_host.get(host, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                left = self._by_host[host] - 1
                if left:
                    self._by_host[host] = left
                else:
                    del self._by_host[host]  # an idle host costs no memory

    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight
