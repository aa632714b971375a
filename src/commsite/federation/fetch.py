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
  and its owner's actor in `public_keys.fetch_public_key`).

GETs are signed (draft-cavage over ``(request-target) host date``) when a signer is given, so
key fetches work against servers in "authorized fetch" mode.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite import __version__
from commsite.activitypub.media_types import ACCEPT, AS2_TYPES, JRD_ACCEPT, JRD_TYPES, essence
from commsite.activitypub.signatures import sign_cavage
from commsite.errors import CommsiteError
from commsite.federation.fetch_guard import (
    Watchdog,
    blocked_reason,
    pinned_adapter,
    resolve_host,
    resolve_within,
)

__all__ = [
    "BlockedAddress",
    "FetchError",
    "Fetcher",
    "Gone",
    "TooLarge",
    "UnusableKey",
    "fetch_errors",
    "user_agent",
]

REDIRECTS = (301, 302, 303, 307, 308)


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


def fetch_errors(function: Callable[_P, _R]) -> Callable[_P, _R]:
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
    resolver: Callable[[str, int], Iterable[str]] = resolve_host
    clock: Callable[[], datetime] = _now
    # requests' `verify`: True (certifi's CAs), or a CA bundle path for a test network's own CA.
    verify_tls: bool | str = True

    # -- public API

    @fetch_errors
    def get_json(
        self, url: str, *, deadline: float | None = None, jrd: bool = False
    ) -> dict[str, object]:
        """GET an ActivityPub document (with `jrd`, a WebFinger JRD). Raises Gone
        (404/410), FetchError and its subclasses.

        Done within `timeout` seconds, and by `deadline` (a time.monotonic() value) if given."""
        accept, types = (JRD_ACCEPT, JRD_TYPES) if jrd else (ACCEPT, AS2_TYPES)
        with Watchdog(self.timeout, deadline) as watchdog:
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

    @fetch_errors
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> requests.Response:
        """POST `body` with `headers` as given (signed by the caller). Redirects are not followed.

        The returned response's content has been read (at most `max_bytes`; more is dropped).
        """
        with Watchdog(self.timeout) as watchdog:
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
                addresses = resolve_within(self.resolver, host, port, within)
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
        self, url: str, watchdog: Watchdog, *, include_query: bool, accept: str = ACCEPT
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
        watchdog: Watchdog,
    ) -> requests.Response:
        if watchdog.remaining() <= 0:
            raise self._timed_out(url, watchdog)
        _host, address = self.check_url(url, within=watchdog.remaining())
        remaining = watchdog.remaining()
        if remaining <= 0:
            raise self._timed_out(url, watchdog)
        session = requests.Session()
        session.trust_env = False  # no proxies from the environment: they would bypass the checks
        adapter = pinned_adapter(address, watchdog)
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

    def _timed_out(self, url: str, watchdog: Watchdog) -> FetchError:
        return FetchError(f"{url}: timed out after {watchdog.seconds}s", url=url)

    def _chunks(self, response: requests.Response, url: str, watchdog: Watchdog) -> Iterator[bytes]:
        try:
            yield from response.iter_content(chunk_size=16384)
        except requests.RequestException as exc:
            if watchdog.fired or isinstance(exc, requests.Timeout):
                raise self._timed_out(url, watchdog) from exc
            raise FetchError(f"{url}: {exc}", url=url) from exc
        if watchdog.fired:  # a shut-down socket can look like a clean end of the body
            raise self._timed_out(url, watchdog)

    def _read(self, response: requests.Response, url: str, watchdog: Watchdog) -> bytes:
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
