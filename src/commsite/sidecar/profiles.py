"""Remote actors' public profiles (name, handle, avatar, inboxes), cached in SQLite.

Fetched with the SSRF-safe Fetcher the first time an actor is needed, refreshed
by Update{Person}, forgotten with Delete{actor}. Only what a reply or follower
list shows is kept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from commsite.federation.fetch import Fetcher, FetchError
from commsite.sidecar.store import Store, iso

__all__ = ["Profile", "Profiles", "profile_from_document"]

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
    if isinstance(value, str) and urlsplit(value).scheme in ("http", "https"):
        return value
    return None


def profile_from_document(doc: Mapping[str, Any], actor_id: str) -> Profile:
    """Read a fetched actor document; FetchError when it is not the actor asked for."""
    if doc.get("id") != actor_id:
        raise FetchError(f"{actor_id}: the document's id is {doc.get('id')!r}", url=actor_id)
    if doc.get("type") not in ACTOR_TYPES:
        raise FetchError(f"{actor_id}: type {doc.get('type')!r} is not an actor", url=actor_id)
    host = urlsplit(actor_id).netloc
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
        profile = profile_from_document(self.fetcher.get_json(actor_id), actor_id)
        self.save(profile)
        return profile

    def save(self, profile: Profile) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO inbox_actors"
                " (id, handle, name, url, avatar, inbox, shared_inbox, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, name = excluded.name,"
                " url = excluded.url, avatar = excluded.avatar, inbox = excluded.inbox,"
                " shared_inbox = excluded.shared_inbox, fetched_at = excluded.fetched_at",
                (
                    profile.id,
                    profile.handle,
                    profile.name,
                    profile.url,
                    profile.avatar,
                    profile.inbox,
                    profile.shared_inbox,
                    iso(self.clock()),
                ),
            )


def _profile(row: sqlite3.Row) -> Profile:
    return Profile(
        id=row["id"],
        handle=row["handle"],
        name=row["name"],
        url=row["url"],
        avatar=row["avatar"],
        inbox=row["inbox"],
        shared_inbox=row["shared_inbox"],
    )
