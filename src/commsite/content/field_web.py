"""Validators for web addresses, fediverse handles and links in front matter and
config, and the one check (`web_address`) of every address that becomes an
href or src, from a file or from the network."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from commsite.content.invalid import Invalid, show

__all__ = ["handle", "http_url", "links", "web_address"]

_HANDLE = re.compile(r"@([A-Za-z0-9_][A-Za-z0-9_.-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d+)?)")
# C0 controls, DEL and C1 controls: a browser drops tabs and newlines inside a URL
# (so "java\tscript:" is "javascript:") and leading controls; none belongs in one.
_URL_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def web_address(value: str) -> str | None:
    """`value` (stripped of spaces around it) when it is an http or https address
    with a host that a browser follows as written; else None. The one check of
    every address that becomes an href or src from a file or from the network:
    no control characters anywhere (they hide a scheme: "java\tscript:"), the
    scheme http or https (not javascript:, data:, vbscript:, nor a relative
    "//host" or "/path"), and a host."""
    url = value.strip(" ")
    if not url or _URL_CONTROLS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed "[" of an IPv6 host
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def http_url(key: str, value: object) -> str:
    if isinstance(value, str):
        url = web_address(value.strip())
        if url is not None:
            return url
    raise Invalid(
        f"'{key}' must be a web address starting with https:// or http:// (got {show(value)})",
        "write the full address, e.g. https://example.org/page",
    )


_PROFILE_URL = re.compile(r"https?://(?P<host>[^/@\s]+)/@(?P<user>[\w.-]+)/?")


def handle(key: str, value: object) -> str:
    if isinstance(value, str):
        candidate = value.strip()
        if _HANDLE.fullmatch(candidate):
            return candidate
        if _HANDLE.fullmatch("@" + candidate):
            raise Invalid(
                f"'{key}' must be a fediverse handle @user@host (got {show(value)})",
                f"start it with '@': \"@{candidate}\" (in quotes)",
            )
        profile = _PROFILE_URL.fullmatch(candidate)
        if profile is not None:  # https://mastodon.social/@ada -> @ada@mastodon.social
            user, host = profile.group("user"), profile.group("host")
            raise Invalid(
                f"'{key}' must be a fediverse handle @user@host, not a profile address"
                f" (got {show(value)})",
                f'write "@{user}@{host}" (in quotes)',
            )
    raise Invalid(
        f"'{key}' must be a fediverse handle @user@host (got {show(value)})",
        'write it in quotes, e.g. "@ada@mastodon.social"',
    )


def links(key: str, value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise Invalid(
            f"'{key}' must be a mapping of label to web address (got {show(value)})",
            "write one 'Label: https://...' a line, indented under 'links:'",
        )
    pairs: list[tuple[str, str]] = []
    for label, url in value.items():
        pairs.append((str(label), http_url(f"{key}.{label}", url)))
    return tuple(pairs)
