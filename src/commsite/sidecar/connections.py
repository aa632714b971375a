"""waitress with deadlines on slow clients, and room for new ones when it is full.

waitress reads requests in its event loop and hands a thread only a complete
request, so a slow client costs a connection, not a thread. But it keeps at
most `connection_limit` connections and then stops accepting; a connection that
sends a header byte now and then stays open as long as it likes (waitress only
closes connections idle for `channel_timeout`). A few hundred such connections
(slowloris) kept valid senders out for as long as the attack lasted.

`guarded_server` runs waitress with:

* deadlines: a connection must send a request's complete headers within
  `header_timeout` seconds of opening (or of the request's first byte on a
  kept-alive connection), and the whole request within `request_timeout`;
  a kept-alive connection with nothing to do is closed after `idle_timeout`;
* room when full: at `connection_limit`, a new connection is accepted and the
  connection that has been waiting longest for a request to arrive (a partial
  request, or idle) is closed, taken from the address that holds the most such
  connections (IPv6 by /64). A complete request being answered is never cut.
  A sender's request arrives right after it connects, so it is served; the
  connections an attacker keeps open are the ones that go. The backlog is
  accepted up to `ACCEPT_BATCH` at a time, so reconnecting attackers cannot
  keep a new sender queued behind them.

Checked every `CHECK_EVERY` seconds, in waitress's own loop thread.
"""

from __future__ import annotations

import ipaddress
import logging
import select
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

__all__ = ["CHECK_EVERY", "ConnectionLimits", "guarded_server"]

log = logging.getLogger(__name__)

CHECK_EVERY = 1  # seconds between deadline checks (waitress's cleanup_interval)
REPORT_EVERY = 10.0  # seconds between log lines about closed connections
ACCEPT_BATCH = 64  # connections accepted per turn of waitress's loop, at most


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_timeout: float = 10.0  # from connecting (or a request's first byte) to its headers' end
    request_timeout: float = 30.0  # ... to its body's end (1 MiB at 35 KB/s)
    idle_timeout: int = 30  # a kept-alive connection with no request (waitress channel_timeout)
    connection_limit: int = 200  # open connections; past this the longest-waiting one goes


class _Channel(HTTPChannel):  # type: ignore[misc]
    """A connection that remembers since when it has been waiting for a request to arrive."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # time.time(), like waitress's creation_time/last_activity; None: no request partly in.
        self.began: float | None = self.creation_time
        self.group = _address_group(self.addr)

    def received(self, data: bytes) -> bool:
        result: bool = super().received(data)
        if self.request is None:
            self.began = None  # every request in so far is complete
        elif self.began is None:
            self.began = time.time()
        return result

    def waiting_since(self) -> float:
        """Since when this connection has made no complete request (for eviction)."""
        return self.began if self.began is not None else float(self.last_activity)

    def evictable(self) -> bool:
        return not self.requests and not self.will_close


def _address_group(addr: object) -> str:
    """The client address an attacker cannot vary cheaply: the IP, or its /64 for IPv6."""
    host = addr[0] if isinstance(addr, tuple) and addr else str(addr)
    try:
        ip = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return str(host)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


class _GuardedServer(TcpWSGIServer):  # type: ignore[misc]
    channel_class = _Channel
    limits: ConnectionLimits = ConnectionLimits()
    next_channel_cleanup: float = 0.0

    def _channels(self) -> list[_Channel]:
        return [c for c in self.active_channels.values() if isinstance(c, _Channel)]

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections (channel_timeout)
        for channel in self._channels():
            if channel.began is None or not channel.evictable():
                continue
            request = channel.request
            if request is not None and request.headers_finished:
                limit, what = self.limits.request_timeout, "request"
            else:
                limit, what = self.limits.header_timeout, "request headers"
            if now - channel.began > limit:
                log.debug("closing %s: its %s took over %ss", channel.addr, what, limit)
                channel.will_close = True

    def _victims(self) -> list[_Channel]:
        """Connections that may be closed to make room, the first to go first."""
        candidates = [c for c in self._channels() if c.evictable()]
        held = Counter(c.group for c in candidates)
        return sorted(candidates, key=lambda c: (-held[c.group], c.waiting_since()))

    def _full(self) -> bool:
        return len(self.active_channels) >= self.limits.connection_limit

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        # Full: accept only when a waiting connection can make room (else the new ones
        # wait in the listen backlog, as with plain waitress).
        return not self._full() or any(c.evictable() for c in self._channels())

    def handle_accept(self) -> None:
        """Accept what waits in the backlog (up to ACCEPT_BATCH), making room as needed.

        waitress accepts one connection per turn of its loop, whose every turn costs time
        in proportion to the open connections: an attacker reconnecting as fast as it is
        closed would keep a new sender's connection queued behind its own."""
        victims: list[_Channel] | None = None
        for _ in range(ACCEPT_BATCH):
            if self._full():
                if victims is None:
                    victims = self._victims()
                if not victims:
                    return
                victim = victims.pop(0)
                victim.will_close = True  # closed by the loop, like waitress's own timeouts
                self._evicted(victim)
            before = len(self.active_channels)
            super().handle_accept()
            if len(self.active_channels) == before:
                return  # nothing more waiting (or an accept error, which waitress logged)

    evictions = 0
    _last_report = 0.0

    def _evicted(self, victim: _Channel) -> None:
        """Log evictions, at most one line every REPORT_EVERY seconds (an attack makes many)."""
        self.evictions += 1
        now = time.monotonic()
        if now - self._last_report >= REPORT_EVERY:
            log.warning(
                "%d connections open (the limit): closed %d waiting ones since the last report,"
                " the last from %s, with no complete request for %.0fs",
                len(self.active_channels),
                self.evictions,
                victim.addr[0] if isinstance(victim.addr, tuple) else victim.addr,
                time.time() - victim.waiting_since(),
            )
            self.evictions = 0
            self._last_report = now


def guarded_server(
    app: Callable[..., Iterable[bytes]],
    sock: socket.socket,
    *,
    threads: int,
    limits: ConnectionLimits = ConnectionLimits(),
    **adjustments: Any,
) -> Any:
    """A waitress server for `app` on the bound socket `sock` (listening once created)."""
    adj = Adjustments(
        threads=threads,
        channel_timeout=limits.idle_timeout,
        cleanup_interval=CHECK_EVERY,
        connection_limit=limits.connection_limit,
        # select() cannot watch descriptors past 1024; poll() can (not on Windows).
        asyncore_use_poll=hasattr(select, "poll"),
        **adjustments,
    )
    server = _GuardedServer(
        app,
        map={},
        _sock=sock,
        adj=adj,
        bind_socket=False,
        sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
    )
    server.limits = limits
    return server
