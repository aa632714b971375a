"""Which member, if any, wrote a reply or an introduction: the author's fields -> a member id.

A member is known by the `handle` in their profile file ("@user@host") and by
the URLs they list under `links` (a Mastodon profile or actor URL). An author
from interactions/ is known by

* `author_handle`, "@preferredUsername@actor-host" as the sidecar writes it;
* `author_webfinger`, the FEP-2c59 `webfinger` handle ("acct:user@host",
  "user@host" or "@user@host"), for servers whose handles name another domain
  than their web host;
* `author_actor`, the actor's URL (its ActivityPub id), and with it
  `preferred_username` when a caller has that separately.

Handles compare with the host case-insensitively and, as Mastodon does, the
user part too; a default port and a trailing dot on the host do not count.
URLs compare by scheme, host (case-insensitively, without a default port),
path (without a trailing slash) and query. The author's `author_url` (the
profile page an actor claims) is not used: any server can claim any URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from commsite.content.identity import normalise_actor_url, normalise_handle
from commsite.content.model import Member

__all__ = ["MemberMatcher", "normal_handle", "normal_url"]


def normal_handle(value: str | None) -> str | None:
    """'@Ada@Social.Example', 'ada@social.example.', 'acct:ada@social.example:443'
    -> '@ada@social.example' (content/identity.py, as the sidecar's blocks
    compare them); None when `value` is not a handle."""
    if not value:
        return None
    text = value.strip()
    if text[:5].lower() == "acct:":
        text = text[5:]
    user, at, host = text.removeprefix("@").partition("@")
    if not at or not user or not host or "@" in host or any(c.isspace() for c in text):
        return None
    _, colon, port = host.rpartition(":") if host.count(":") == 1 else ("", "", "")
    if (colon and not port.isdigit()) or not host.strip(".:"):
        return None
    return normalise_handle(text)


def normal_url(value: str | None) -> str | None:
    """An http(s) URL in one spelling (content/identity.py), to compare; None when
    it is not one."""
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  (raises ValueError for a port that is not one)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return normalise_actor_url(value)


def _url_host(url: str | None) -> str | None:
    normal = normal_url(url)
    return normal.split("/", 3)[2] if normal else None


@dataclass(frozen=True, slots=True)
class MemberMatcher:
    """The members' handles and listed URLs, indexed once; `match` is pure."""

    handles: dict[str, str]  # normal handle -> member id
    urls: dict[str, str]  # normal URL -> member id

    @classmethod
    def of(cls, members: Iterable[Member]) -> MemberMatcher:
        handles: dict[str, str] = {}
        links: dict[str, str] = {}
        for member in members:  # the first member to claim a handle or URL keeps it
            handle = normal_handle(member.handle)
            if handle:
                handles.setdefault(handle, member.id)
            for _label, url in member.links:
                normal = normal_url(url)
                if normal:
                    links.setdefault(normal, member.id)
        return cls(handles, links)

    def match(
        self,
        handle: str | None,
        *,
        webfinger: str | None = None,
        actor: str | None = None,
        preferred_username: str | None = None,
    ) -> str | None:
        """The id of the member these author fields name, or None."""
        candidates = [handle, webfinger]
        host = _url_host(actor)
        if preferred_username and host:
            candidates.append(f"@{preferred_username}@{host}")
        for candidate in candidates:
            found = self.handles.get(normal_handle(candidate) or "")
            if found:
                return found
        # An author without a preferredUsername is exported with its actor URL as its handle.
        for url in (actor, handle):
            found = self.urls.get(normal_url(url) or "")
            if found:
                return found
        return None
