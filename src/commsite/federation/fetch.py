"""Every outgoing request to the fediverse: SSRF-safe, bounded, optionally signed.

The sidecar fetches URLs that strangers choose (keyIds, actors, objects), so `Fetcher`:

* allows http and https only;
* resolves the host itself and refuses loopback, private, link-local (cloud metadata),
  multicast, reserved and unspecified addresses, IPv6 included (IPv4-mapped, 6to4, NAT64),
  unless `allow_private` — or the address is in `allow_networks`;
* connects to the address it checked (the connection is pinned to it, so a second DNS answer
  cannot swap in 127.0.0.1) while keeping the Host header, TLS SNI and certificate checks on the
  hostname;
* follows redirects itself, re-checking every hop, at most `max_redirects`;
* bounds the time of the whole exchange (`timeout`: name resolution, connect, TLS, headers and
  body, every redirect, by the wall clock, not per read) and the size of the body (`max_bytes`);
  `get_json(url, deadline=...)` shares one deadline between several fetches (a key document
  and its owner's actor in `fetch_public_key`).

GETs are signed (draft-cavage over ``(request-target) host date``) when a signer is given, so
key fetches work against servers in "authorized fetch" mode.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urldefrag, urljoin, urlsplit

import requests
import urllib3.exceptions
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

from commsite import __version__
from commsite.activitypub.media_types import ACCEPT, AS2_TYPES, JRD_ACCEPT, JRD_TYPES, essence
from commsite.activitypub.signatures import PublicKey, sign_cavage
from commsite.errors import CommsiteError

__all__ = [
    "BlockedAddress",
    "FetchError",
    "Fetcher",
    "Gone",
    "TooLarge",
    "UnusableKey",
    "fetch_public_key",
    "user_agent",
]

REDIRECTS = (301, 302, 303, 307, 308)
# NAT64 (RFC 6052) embeds an IPv4 address in the low 32 bits.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class FetchError(CommsiteError):
    """A fetch failed; `url` is what we asked for, `status` the HTTP status if there was one."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class BlockedAddress(FetchError):
    """The URL leads to an address we do not connect to (loopback, private, metadata…)."""


class TooLarge(FetchError):
    """The response is bigger than `Fetcher.max_bytes`."""


class Gone(FetchError):
    """The remote answered 404 or 410 (`status`): the object or actor is not there."""


class UnusableKey(FetchError):
    """The keyId led to a document with no usable key, or to a key its owner does not claim."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _fetch_errors(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Every way the fetch path can fail on what a stranger sends is a FetchError.

    A hostile keyId or answer reaches parsers that raise their own types: a
    redirect to file:// makes the signer raise ValueError, an invalid IPv6 URL
    urlsplit's ValueError, a broken connection OSError or an http.client or
    urllib3 error that requests did not wrap. Callers (the key cache, the
    worker) handle FetchError; anything else would have been a 500.
    """

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except FetchError:
            raise
        except (
            ValueError,
            OSError,
            requests.RequestException,
            http.client.HTTPException,
            urllib3.exceptions.HTTPError,
        ) as exc:
            url = next((a for a in args if isinstance(a, str)), "")
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}", url=url) from exc

    return wrapper


def user_agent(base_url: str | None = None) -> str:
    return f"commsite/{__version__}" + (f" (+{base_url})" if base_url else "")


def _getaddrinfo(host: str, port: int) -> list[str]:
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


class _Watchdog:
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

    def __enter__(self) -> _Watchdog:
        return self

    def __exit__(self, *exc: object) -> None:
        for timer in self._timers:
            timer.cancel()


def _resolve_within(
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


def _pinned_adapter(address: str, watchdog: _Watchdog) -> HTTPAdapter:
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


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Fetcher:
    allow_private: bool = False
    timeout: float = 10.0  # seconds for the whole exchange, redirects included
    max_bytes: int = 1 << 20
    max_redirects: int = 3
    # (key_id, key): GETs are signed with it (authorized fetch).
    signer: tuple[str, RSAPrivateKey] | None = None
    user_agent: str = field(default_factory=user_agent)
    # Networks allowed even though they are not public (e.g. a peer on the LAN), as CIDR strings.
    allow_networks: Sequence[str] = ()
    # host, port -> addresses. socket.getaddrinfo by default; tests may map names themselves.
    resolver: Callable[[str, int], Iterable[str]] = _getaddrinfo
    clock: Callable[[], datetime] = _now
    # requests' `verify`: True (certifi's CAs), or a CA bundle path for a test network's own CA.
    verify_tls: bool | str = True

    # -- public API

    @_fetch_errors
    def get_json(
        self, url: str, *, deadline: float | None = None, jrd: bool = False
    ) -> dict[str, object]:
        """GET an ActivityPub document (with `jrd`, a WebFinger JRD). Raises Gone
        (404/410), FetchError and its subclasses.

        Done within `timeout` seconds, and by `deadline` (a time.monotonic() value) if given."""
        accept, types = (JRD_ACCEPT, JRD_TYPES) if jrd else (ACCEPT, AS2_TYPES)
        with _Watchdog(self.timeout, deadline) as watchdog:
            current = url
            for _hop in range(self.max_redirects + 1):
                response = self._signed_get(current, watchdog, include_query=True, accept=accept)
                if response.status_code == 401 and self.signer and urlsplit(current).query:
                    # Some verifiers (Fedify 1.5, older Misskey/Friendica) leave the query out
                    # of (request-target): knock once more with that form.
                    response.close()
                    response = self._signed_get(
                        current, watchdog, include_query=False, accept=accept
                    )
                try:
                    status = response.status_code
                    if status in REDIRECTS and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    if status in (404, 410):
                        raise Gone(f"{current} answered HTTP {status}", url=url, status=status)
                    if not 200 <= status < 300:
                        raise FetchError(
                            f"{current} answered HTTP {status}", url=url, status=status
                        )
                    content_type = response.headers.get("content-type", "")
                    content_type = essence(content_type)
                    if content_type not in types:
                        raise FetchError(
                            f"{current} answered Content-Type {content_type or '(none)'!r},"
                            " not ActivityPub JSON",
                            url=url,
                            status=status,
                        )
                    body = self._read(response, current, watchdog)
                finally:
                    response.close()
                return _json_object(body, current, url)
        raise FetchError(f"{url}: more than {self.max_redirects} redirects", url=url)

    @_fetch_errors
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> requests.Response:
        """POST `body` with `headers` as given (signed by the caller). Redirects are not followed.

        The returned response's content has been read (at most `max_bytes`; more is dropped).
        """
        with _Watchdog(self.timeout) as watchdog:
            sent = {"User-Agent": self.user_agent, **headers}
            response = self._send("POST", url, sent, body, watchdog)
            try:
                content = bytearray()
                for chunk in self._chunks(response, url, watchdog):
                    content += chunk
                    if len(content) >= self.max_bytes:
                        del content[self.max_bytes :]
                        break
                response._content = bytes(content)  # what requests itself sets on reading
            finally:
                response.close()
        return response

    # -- the mechanism

    def check_url(self, url: str, *, within: float | None = None) -> tuple[str, str]:
        """The (host, address) to connect to for `url`, or BlockedAddress/FetchError.

        `within`: seconds the name resolution may take (FetchError after that)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise BlockedAddress(f"{url}: only http and https URLs are fetched", url=url)
        host = parts.hostname
        if not host:
            raise FetchError(f"{url}: no host in the URL", url=url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise FetchError(f"{url}: bad port", url=url) from exc
        try:
            if within is None:
                addresses = list(self.resolver(host, port))
            else:
                addresses = _resolve_within(self.resolver, host, port, within)
        except TimeoutError as exc:
            raise FetchError(f"{url}: timed out: {exc}", url=url) from exc
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"{url}: cannot resolve {host}: {exc}", url=url) from exc
        if not addresses:
            raise FetchError(f"{url}: {host} has no address", url=url)
        if not self.allow_private:
            allowed = [ipaddress.ip_network(n, strict=False) for n in self.allow_networks]
            for address in addresses:
                ip = ipaddress.ip_address(address.split("%", 1)[0])
                if any(ip in net for net in allowed):
                    continue
                reason = blocked_reason(address)
                if reason is not None:
                    raise BlockedAddress(
                        f"{url}: {host} resolves to {address}, a {reason} address;"
                        " commsite does not connect there"
                        " (federation.allow_private_addresses is for test networks)",
                        url=url,
                    )
        return host, addresses[0]

    def _signed_get(
        self, url: str, watchdog: _Watchdog, *, include_query: bool, accept: str = ACCEPT
    ) -> requests.Response:
        headers = {"Accept": accept, "User-Agent": self.user_agent}
        if self.signer is not None:
            key_id, key = self.signer
            headers = sign_cavage(
                method="GET",
                url=url,
                body=None,
                key_id=key_id,
                private_key=key,
                now=self.clock(),
                headers=headers,
                include_query=include_query,
            )
        return self._send("GET", url, headers, None, watchdog)

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        watchdog: _Watchdog,
    ) -> requests.Response:
        if watchdog.remaining() <= 0:
            raise self._timed_out(url, watchdog)
        _host, address = self.check_url(url, within=watchdog.remaining())
        remaining = watchdog.remaining()
        if remaining <= 0:
            raise self._timed_out(url, watchdog)
        session = requests.Session()
        session.trust_env = False  # no proxies from the environment: they would bypass the checks
        adapter = _pinned_adapter(address, watchdog)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        try:
            return session.request(
                method,
                url,
                headers=dict(headers),
                data=body,
                allow_redirects=False,
                stream=True,
                timeout=remaining,
                verify=self.verify_tls,
            )
        except requests.RequestException as exc:
            if watchdog.fired or isinstance(exc, requests.Timeout):
                raise self._timed_out(url, watchdog) from exc
            raise FetchError(f"{url}: {exc}", url=url) from exc

    def _timed_out(self, url: str, watchdog: _Watchdog) -> FetchError:
        return FetchError(f"{url}: timed out after {watchdog.seconds}s", url=url)

    def _chunks(
        self, response: requests.Response, url: str, watchdog: _Watchdog
    ) -> Iterator[bytes]:
        try:
            yield from response.iter_content(chunk_size=16384)
        except requests.RequestException as exc:
            if watchdog.fired or isinstance(exc, requests.Timeout):
                raise self._timed_out(url, watchdog) from exc
            raise FetchError(f"{url}: {exc}", url=url) from exc
        if watchdog.fired:  # a shut-down socket can look like a clean end of the body
            raise self._timed_out(url, watchdog)

    def _read(self, response: requests.Response, url: str, watchdog: _Watchdog) -> bytes:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise TooLarge(f"{url}: the answer is {declared} bytes, over {self.max_bytes}", url=url)
        body = bytearray()
        for chunk in self._chunks(response, url, watchdog):
            body += chunk
            if len(body) > self.max_bytes:
                raise TooLarge(f"{url}: the answer is over {self.max_bytes} bytes", url=url)
        return bytes(body)


def _json_object(body: bytes, where: str, url: str) -> dict[str, object]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError(f"{where} did not answer valid JSON: {exc}", url=url) from exc
    if not isinstance(doc, dict):
        raise FetchError(f"{where} answered JSON that is not an object", url=url)
    return doc


# ------------------------------------------------------------------------------- public keys


def _key_entries(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = doc.get("publicKey")
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


@_fetch_errors
def fetch_public_key(fetcher: Fetcher, key_id: str, *, timeout: float | None = None) -> PublicKey:
    """Fetch the key `key_id` names and the actor that owns it, all within `timeout` seconds
    (default: the fetcher's), however many documents that takes.

    Accepts an actor document whose ``publicKey`` (one or a list) has the key, or a key document
    (``publicKeyPem`` + ``owner``) whose owner's actor document lists the same key. A document
    claiming to be someone else, or a key its owner does not list, raises UnusableKey.
    """
    url = urldefrag(key_id).url
    deadline = time.monotonic() + (fetcher.timeout if timeout is None else timeout)
    doc = fetcher.get_json(url, deadline=deadline)
    if "publicKeyPem" in doc:  # a key document (GoToSocial, some others)
        if doc.get("id") != key_id:
            raise UnusableKey(
                f"{url}: the key document's id {doc.get('id')!r} is not {key_id}", url=url
            )
        owner = doc.get("owner")
        pem = doc.get("publicKeyPem")
        if not isinstance(owner, str) or not isinstance(pem, str):
            raise UnusableKey(f"{url}: the key document has no owner or publicKeyPem", url=url)
        actor = fetcher.get_json(urldefrag(owner).url, deadline=deadline)
        if actor.get("id") != owner:
            raise UnusableKey(f"{owner}: the owner document's id is {actor.get('id')!r}", url=url)
        claimed = [e.get("publicKeyPem") for e in _key_entries(actor) if e.get("id") == key_id]
        if not claimed or not isinstance(claimed[0], str) or claimed[0].strip() != pem.strip():
            raise UnusableKey(
                f"{key_id}: its owner {owner} does not list this key as its own", url=url
            )
        return PublicKey(key_id=key_id, owner=owner, pem=pem)
    actor_id = doc.get("id")
    if actor_id != url:
        raise UnusableKey(f"{url}: the document's id is {actor_id!r}, not {url}", url=url)
    entries = _key_entries(doc)
    if key_id == actor_id and len(entries) == 1:
        entries = [{**entries[0], "id": key_id}]  # keyId is the actor itself, with one key
    for entry in entries:
        if entry.get("id") != key_id:
            continue
        owner, pem = entry.get("owner", actor_id), entry.get("publicKeyPem")
        if owner != actor_id:
            raise UnusableKey(f"{key_id}: owned by {owner!r}, not by {actor_id}", url=url)
        if not isinstance(pem, str):
            raise UnusableKey(f"{key_id}: no publicKeyPem", url=url)
        return PublicKey(key_id=key_id, owner=actor_id, pem=pem)
    raise UnusableKey(f"{url}: no publicKey with id {key_id}", url=url)
