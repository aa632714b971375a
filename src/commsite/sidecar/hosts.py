"""Which `Host` is ours: a delivery signed for another server is not for us.

A signature covers the Host the sender addressed (draft-cavage `host`, RFC 9421
`@target-uri`), so a delivery signed for another server verifies just as well
here when it is replayed with its own Host. The inbox therefore takes only the
hosts this site answers to:

* base_url's host, on base_url's port (the scheme's default when none is given:
  `example.org` and `example.org:443` are one host for an https site);
* federation.inbox_url's host, likewise, when the sidecar has its own address;
* each of `sidecar.host_aliases`: `host` on any port, or `host:port` on that one.

Host names compare case-insensitively, without a trailing dot.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from commsite.config import SiteConfig

__all__ = ["HostRule", "host_rules", "is_our_host", "parse_host"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class HostRule:
    hostname: str
    port: int | None  # None: any port
    default_port: int  # the port a Host without one means


def parse_host(value: str) -> tuple[str, int | None] | None:
    """(hostname, port or None) of a Host header or alias; None when it is not one."""
    value = value.strip()
    if not value or any(c in value for c in "/?#@\\ \t") or not value.isascii():
        return None
    try:
        parts = urlsplit("//" + value)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not hostname:
        return None
    return hostname.rstrip(".").lower(), port


def _url_rule(url: str) -> HostRule | None:
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not hostname:
        return None
    default = _DEFAULT_PORTS.get(parts.scheme.lower(), 443)
    return HostRule(hostname.rstrip(".").lower(), port or default, default)


def host_rules(config: SiteConfig) -> tuple[HostRule, ...]:
    """The hosts a delivery may be signed for, from the site's configuration."""
    rules = [_url_rule(config.base_url)]
    if config.federation.inbox_url:
        rules.append(_url_rule(config.federation.inbox_url))
    default = _DEFAULT_PORTS.get(urlsplit(config.base_url).scheme.lower(), 443)
    for alias in config.sidecar.host_aliases:
        parsed = parse_host(alias)
        if parsed is not None:
            rules.append(HostRule(parsed[0], parsed[1], default))
    return tuple(dict.fromkeys(r for r in rules if r is not None))


def is_our_host(host: str | None, rules: tuple[HostRule, ...]) -> bool:
    """Whether a request's Host (as signed) names this site."""
    parsed = parse_host(host or "")
    if parsed is None:
        return False
    hostname, port = parsed
    for rule in rules:
        if rule.hostname != hostname:
            continue
        if rule.port is None or (port if port is not None else rule.default_port) == rule.port:
            return True
    return False
