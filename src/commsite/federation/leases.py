"""Leases on delivery rows: which process is sending a row right now.

A run takes a lease (wall-clock time, host name, pid and a token of its own)
before it sends, and drops it when it records the answer. Another run may take
the row over only when the lease is stale: its process is gone (on this host),
its token is not live in this very process (a pid reused after a crash), or it
is older than `LEASE_TTL` (another host, or a hung process). Wall-clock time,
not the queue's clock: a lease is about real processes.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from commsite.processes import process_alive

__all__ = ["HOSTNAME", "LEASE_TTL", "is_stale", "live_token"]

LEASE_TTL = 15 * 60.0  # seconds: a lease this old is stale even if its process lives
HOSTNAME = socket.gethostname()

# Tokens of the runs still going in this process.
_LIVE: set[str] = set()
_LIVE_LOCK = threading.Lock()


@contextmanager
def live_token() -> Iterator[str]:
    """A fresh lease token, counted as live until the block ends."""
    token = uuid.uuid4().hex
    with _LIVE_LOCK:
        _LIVE.add(token)
    try:
        yield token
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(token)


def is_stale(
    token: str, lease_at: float | None, lease_host: str | None, lease_pid: int | None
) -> bool:
    """True when whoever holds this lease can no longer be sending."""
    if lease_at is None or time.time() - float(lease_at) > LEASE_TTL:
        return True
    if lease_host != HOSTNAME or lease_pid is None:
        return False  # another machine: only the TTL can tell
    if lease_pid == os.getpid():
        with _LIVE_LOCK:
            return token not in _LIVE
    return not process_alive(int(lease_pid))
