"""Lease tokens: who holds a claimed job, and whether they can still be working on it.

A claim writes a token and an expiry (`lease_until`) on each job it takes; an
expired lease is claimable again, whoever held it. The token names the holder,
`HOST:PID:RANDOM`, so a claim on the same machine can also release at once
the leases of a process that is gone (killed with SIGKILL, say) instead of
waiting for them to expire (`queue.reap`): a publish run after a crash finishes
what the crashed one left. Another machine's leases only expire.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from commsite.processes import process_alive

__all__ = ["HOSTNAME", "holder_gone", "live_token", "local_prefix"]

HOSTNAME = socket.gethostname()

# Tokens of the claimers still going in this process.
_LIVE: set[str] = set()
_LIVE_LOCK = threading.Lock()


def local_prefix() -> str:
    """What every token made on this machine starts with."""
    return f"{HOSTNAME}:"


@contextmanager
def live_token() -> Iterator[str]:
    """A fresh lease token for this process, counted as live until the block ends."""
    token = f"{HOSTNAME}:{os.getpid()}:{uuid.uuid4().hex}"
    with _LIVE_LOCK:
        _LIVE.add(token)
    try:
        yield token
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(token)


def holder_gone(token: str) -> bool:
    """True when `token` was made on this machine by a process that can no longer
    be working: it has exited, or it is this process and the token's block ended
    (or the pid was reused after a crash). False for other machines' tokens and
    for anything that is not a token of ours."""
    host, _, rest = token.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != HOSTNAME or not pid_text.isascii() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        with _LIVE_LOCK:
            return token not in _LIVE
    return not process_alive(pid)
