"""Who an actor is, written one way: the key every block, allow and member match compares.

An actor is named by its URL (`https://social.example/users/ada`) or its handle
(`@ada@social.example`). Both have spellings that mean the same actor: the
host in capitals, a default port, a trailing slash or dot, a fragment (a key
id is `ACTOR#main-key`), `acct:` or no `@` in front of a handle. A block that
compared the spelling rather than the actor would be walked around by
changing case, so every comparison goes through `identity`.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit, urlunsplit

from commsite.content.network_text import clean_text

__all__ = [
    "handle_domain",
    "identity",
    "is_url",
    "normalise_actor_url",
    "normalise_handle",
    "normalise_host",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_host(host: str) -> str:
    """'Social.Example.' -> 'social.example'; an internationalised name in its ASCII (IDNA) form."""
    host = clean_text(host).strip().lower().rstrip(".")
    if not host.isascii():
        # A name the IDNA codec refuses is no name any resolver finds: compared as written.
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host


def is_url(value: str) -> bool:
    return value.strip().lower().startswith(("http://", "https://"))


def normalise_actor_url(url: str) -> str:
    """The URL with its scheme and host in lower case, no default port, no fragment,
    no userinfo and no trailing '/'. The path keeps its case (servers tell
    /users/Ada from /users/ada). Something that does not parse is returned stripped."""
    url = clean_text(url).strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = normalise_host(parts.hostname or "")
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), parts.query, ""))


def normalise_handle(handle: str) -> str:
    """'@Ada@Social.Example', 'ada@social.example.' and 'acct:ada@social.example'
    -> '@ada@social.example' (a default port, :443 or :80, is dropped too)."""
    text = clean_text(handle).strip()
    if text[:5].lower() == "acct:":
        text = text[5:]
    user, _, domain = text.lstrip("@").rpartition("@")
    if not user:
        return "@" + text.lstrip("@").lower()
    host, colon, port = domain.rpartition(":") if domain.count(":") == 1 else (domain, "", "")
    if not colon or port in ("443", "80"):
        domain = normalise_host(host if colon else domain)
    else:
        domain = f"{normalise_host(host)}:{port}"
    return f"@{user.lower()}@{domain}"


def identity(value: str) -> str:
    """An actor URL or a handle, normalised (see above): equal identities are the same actor."""
    return normalise_actor_url(value) if is_url(value) else normalise_handle(value)


def handle_domain(handle: str) -> str:
    """The host of a handle, without its port: '@ada@social.example:8443' -> 'social.example'."""
    domain = normalise_handle(handle).rpartition("@")[2]
    return domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain
