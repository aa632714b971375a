"""Remote actors' public profiles (name, handle, avatar, inboxes), cached in SQLite.

Fetched with the SSRF-safe Fetcher the first time an actor is needed, refreshed
by Update{Person}, forgotten with Delete{actor}. Only what a reply or follower
list shows is kept, and only after `clean_json` (content/network_text.py): a name with
a lone surrogate or a NUL is stored with U+FFFD or without it, never refused.

The handle is `@preferredUsername@actor-host`. A server whose WebFinger domain
differs from its web host (Mastodon's LOCAL_DOMAIN and WEB_DOMAIN: the actor at
social.example.org, the handle @ada@example.org) may say so in the actor's
`webfinger` property (FEP-2c59); it is kept as `webfinger` when its domain is
the actor's host or a parent domain of it. A claim of any other domain would
need a WebFinger lookup to confirm (anyone could claim anyone's handle), so it
is not kept: see docs/moderation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from commsite.content.fields import web_address
from commsite.content.identity import normalise_actor_url
from commsite.content.network_text import clean_json
from commsite.database import Row
from commsite.federation.fetch import Fetcher, FetchError
from commsite.sidecar.store import Store, iso

__all__ = ["Profile", "Profiles", "profile_from_document", "webfinger_handle"]

ACTOR_TYPES = frozenset({"Person", "Service", "Group", "Organization", "Application"})


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    handle: str  # "@user@host"
    name: str
    url: str | None
    avatar: str | None
    inbox: str | None
    shared_inbox: str | None
    webfinger: str | None = None  # "@user@domain" from FEP-2c59, when trusted (see above)

    @property
    def handles(self) -> tuple[str, ...]:
        """Every handle this actor is known by: the host-based one, then the WebFinger one."""
        return (self.handle,) if self.webfinger is None else (self.handle, self.webfinger)


def _http_url(value: Any) -> str | None:
    """A http(s) URL from a string, a Link/Image object, or the first of a list."""
    if isinstance(value, list):
        for v in value:
            url = _http_url(v)
            if url:
                return url
        return None
    if isinstance(value, Mapping):
        value = value.get("href") if "href" in value else value.get("url")
        return _http_url(value)
    if isinstance(value, str):  # the check the interactions/ loader makes again
        return web_address(value)
    return None


def _is_ip(host: str) -> bool:
    try:
        ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def webfinger_handle(value: Any, actor_id: str) -> str | None:
    """The actor's FEP-2c59 `webfinger` ("user@domain", "acct:user@domain" or
    "@user@domain") as "@user@domain", when its domain is the actor's host or a
    parent domain of it (social.example.org may speak for example.org); else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    text = text[5:] if text.lower().startswith("acct:") else text.removeprefix("@")
    user, at, domain = text.partition("@")
    if not at or not user or not domain or "@" in domain or any(c.isspace() for c in text):
        return None
    host = (urlsplit(actor_id).hostname or "").lower()
    try:
        wanted_host = (urlsplit("//" + domain).hostname or "").lower()
    except ValueError:
        return None
    trusted = wanted_host == host or (
        not _is_ip(host) and "." in wanted_host and host.endswith("." + wanted_host)
    )
    return f"@{user}@{domain}" if trusted else None


def profile_from_document(doc: Mapping[str, Any], actor_id: str) -> Profile:
    """Read a fetched actor document; FetchError when it is not the actor asked for."""
    if doc.get("id") != actor_id:
        raise FetchError(f"{actor_id}: the document's id is {doc.get('id')!r}", url=actor_id)
    if doc.get("type") not in ACTOR_TYPES:
        raise FetchError(f"{actor_id}: type {doc.get('type')!r} is not an actor", url=actor_id)
    # The host as the actor's URL names it, in one spelling (no default port, lower case).
    host = urlsplit(normalise_actor_url(actor_id)).netloc
    username = doc.get("preferredUsername")
    username = username if isinstance(username, str) and username else None
    handle = f"@{username}@{host}" if username else actor_id
    name = doc.get("name")
    name = name.strip()[:200] if isinstance(name, str) and name.strip() else (username or handle)
    endpoints = doc.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, Mapping) else None
    return Profile(
        id=actor_id,
        handle=handle,
        name=name,
        url=_http_url(doc.get("url")) or actor_id,
        avatar=_http_url(doc.get("icon")),
        inbox=_http_url(doc.get("inbox")),
        shared_inbox=_http_url(shared),
        webfinger=webfinger_handle(doc.get("webfinger"), actor_id),
    )


class Profiles:
    def __init__(self, store: Store, fetcher: Fetcher, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.fetcher = fetcher
        self.clock = clock

    def get(self, actor_id: str, *, refresh: bool = False) -> Profile:
        """The cached profile, fetched when missing (or asked to). FetchError propagates."""
        if not refresh:
            row = self.store.conn.execute(
                "SELECT * FROM inbox_actors WHERE id = ?", (actor_id,)
            ).fetchone()
            if row is not None:
                return _profile(row)
        # Cleaned before any field is read: a lone surrogate in `name` must not
        # make the profile (and every activity of its actor) unstorable.
        profile = profile_from_document(clean_json(self.fetcher.get_json(actor_id)), actor_id)
        self.save(profile)
        return profile

    def save(self, profile: Profile) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO inbox_actors"
                " (id, handle, name, url, avatar, inbox, shared_inbox, webfinger, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, name = excluded.name,"
                " url = excluded.url, avatar = excluded.avatar, inbox = excluded.inbox,"
                " shared_inbox = excluded.shared_inbox, webfinger = excluded.webfinger,"
                " fetched_at = excluded.fetched_at",
                (
                    profile.id,
                    profile.handle,
                    profile.name,
                    profile.url,
                    profile.avatar,
                    profile.inbox,
                    profile.shared_inbox,
                    profile.webfinger,
                    iso(self.clock()),
                ),
            )


def _profile(row: Row) -> Profile:
    return Profile(
        id=row["id"],
        handle=row["handle"],
        name=row["name"],
        url=row["url"],
        avatar=row["avatar"],
        inbox=row["inbox"],
        shared_inbox=row["shared_inbox"],
        webfinger=row["webfinger"],
    )
