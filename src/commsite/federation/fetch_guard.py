"""The network guard under every fetch: which addresses we refuse to connect
to (loopback, private, link-local, ... IPv6 included), name resolution within
a deadline, a clock over a whole exchange that shuts its sockets down, and a
connection pinned to the address that was checked (see fetch.py)."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

__all__ = ["Watchdog", "blocked_reason", "pinned_adapter", "resolve_host", "resolve_within"]

# NAT64 (RFC 6052) embeds an IPv4 address in the low 32 bits.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, each once, in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def blocked_reason(address: str) -> str | None:
    """Why we refuse to connect to `address`, or None when it is a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = blocked_reason(str(embedded))
            return f"{reason} (embedded in {ip})" if reason else None
    for name in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if not ip.is_global:
        return "not globally routable"
    return None


class Watchdog:
    """Bounds a whole exchange in time: at the deadline, the sockets it watches are shut down.

    Per-read socket timeouts alone let a server that drips a byte at a time hold us forever.
    `deadline` (time.monotonic()) ends it sooner, when an outer exchange shares one.
    """

    def __init__(self, seconds: float, deadline: float | None = None) -> None:
        now = time.monotonic()
        self.deadline = now + seconds if deadline is None else min(now + seconds, deadline)
        self.seconds = round(self.deadline - now, 1)
        self.fired = False
        self._timers: list[threading.Timer] = []

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        timer = threading.Timer(max(self.remaining(), 0.0), self._fire, (sock,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _fire(self, sock: socket.socket) -> None:
        self.fired = True
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(self, *exc: object) -> None:
        for timer in self._timers:
            timer.cancel()


def resolve_within(
    resolver: Callable[[str, int], Iterable[str]], host: str, port: int, seconds: float
) -> list[str]:
    """`resolver(host, port)`, or TimeoutError after `seconds`.

    getaddrinfo has no timeout of its own, and the name server of a keyId's domain is the
    sender's to choose: a slow one would hold the caller for the resolver's retries (tens of
    seconds). The lookup runs in a daemon thread that is left to finish on its own."""
    found: list[str] = []
    failed: list[BaseException] = []

    def lookup() -> None:
        try:
            found.extend(resolver(host, port))
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)

    thread = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(max(seconds, 0.0))
    if thread.is_alive():
        raise TimeoutError(f"resolving {host} took over {seconds:.1f}s")
    if failed:
        raise failed[0]
    return found


def pinned_adapter(address: str, watchdog: Watchdog) -> HTTPAdapter:
    """A requests adapter whose connections go to `address` whatever the URL's host says.

    urllib3 still uses the URL's host for the Host header, SNI and certificate matching.
    """

    def new_conn(conn: HTTPConnection) -> socket.socket:
        try:
            sock = create_connection(
                (address, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as e:
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} ({address}) timed out"
            ) from e
        except OSError as e:
            raise NewConnectionError(
                conn, f"Failed to connect to {conn.host} ({address}): {e}"
            ) from e
        watchdog.watch(sock)
        return sock

    class Conn(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return new_conn(self)

    class TLSConn(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return new_conn(self)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TLSConn

    adapter = HTTPAdapter(max_retries=0)
    adapter.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}
    return adapter
