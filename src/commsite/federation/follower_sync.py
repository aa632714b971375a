"""The follower list, copied from the sidecar to where `commsite publish` runs.

The sidecar keeps the followers (it accepts the Follows). A CI runner that
publishes has the community's private key but not the sidecar's database, so
`commsite publish --sync-followers` asks the sidecar: a GET of the followers
collection signed with the community's own key, which the sidecar answers with
every follower and their inboxes (anyone else gets only the count). The local
list is then made equal to it: followers the sidecar lost are removed, new ones
added.

The answer is hostile until checked like any network input: every item needs an
http(s) `id` and `inbox`; anything else is refused whole, so a broken answer
never empties the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from commsite import urls
from commsite.config import SiteConfig
from commsite.database import transaction
from commsite.errors import CommsiteError
from commsite.federation.fetch import Fetcher, FetchError
from commsite.federation.followers import Follower, FollowerStore

__all__ = ["MAX_BYTES", "SyncReport", "followers_url", "parse_followers", "sync_followers"]

MAX_BYTES = 64 << 20  # about 300,000 followers
MAX_URL = 2048


@dataclass(frozen=True, slots=True)
class SyncReport:
    url: str
    followers: int
    added: int
    removed: int


def followers_url(config: SiteConfig) -> str:
    """Where the sidecar answers: beside federation.inbox_url when the sidecar has its
    own host, else under base_url (the static host proxies it to the sidecar)."""
    if config.federation.inbox_url:
        parts = urlsplit(config.federation.inbox_url)
        return urlunsplit((parts.scheme, parts.netloc, config.base_path + urls.FOLLOWERS, "", ""))
    return config.url(urls.FOLLOWERS)


def _url(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_URL:
        return None
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.hostname else None


def parse_followers(document: Mapping[str, object], now: datetime) -> list[Follower]:
    """The followers in the sidecar's signed answer; CommsiteError when it is not one."""
    items = document.get("orderedItems")
    if not isinstance(items, list):
        raise CommsiteError(
            "the sidecar answered the follower count but not the list: is it older than this"
            " commsite, or did the request lose its signature on the way (a proxy)?"
        )
    found: list[Follower] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise CommsiteError(f"the follower list's item {n} is not an object")
        actor, inbox = _url(item.get("id")), _url(item.get("inbox"))
        if actor is None or inbox is None:
            raise CommsiteError(f"the follower list's item {n} has no http(s) 'id' and 'inbox'")
        endpoints = item.get("endpoints")
        shared = _url(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
        since = now
        published = item.get("published")
        if isinstance(published, str):
            try:
                parsed = datetime.fromisoformat(published)
            except ValueError:
                parsed = now
            since = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        found.append(Follower(actor, inbox, shared, None, since))
    return found


def sync_followers(store: FollowerStore, config: SiteConfig, fetcher: Fetcher) -> SyncReport:
    """Make `store`'s followers the sidecar's. `fetcher` must sign with our key."""
    url = followers_url(config)
    try:
        document = fetcher.get_json(url)
    except FetchError as exc:
        raise CommsiteError(
            f"could not get the follower list from the sidecar at {url} ({exc}); nothing was"
            " sent. Is the sidecar running and reachable there?"
        ) from None
    followers = parse_followers(document, fetcher.clock())
    wanted = {f.actor: f for f in followers}
    conn = store.connection
    with transaction(conn):
        known = {f.actor for f in store.all()}
        removed = [actor for actor in known if actor not in wanted]
        for actor in removed:
            store.remove(actor)
        added = sum(1 for f in wanted.values() if store.add(f))
    return SyncReport(url, len(wanted), added, len(removed))
