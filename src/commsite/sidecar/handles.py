"""Who a handle is: @user@host -> the actor's profile (its inbox, its page).

The welcome reply (welcome_send.py) mentions members by the `handle` in their
profile file. A handle becomes an actor through, in order: a profile the
sidecar already cached (they wrote to us), a follower with that handle, or a
WebFinger lookup at the handle's host. Every fetch goes through the sidecar's
Fetcher (no private addresses unless `federation.allow_private_addresses`,
size limits, timeouts, signed GETs). WebFinger is asked over https, as
Mastodon does; over http only for a loopback or private host when private
addresses are allowed (test networks).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from commsite.activitypub.media_types import ACTOR_LINK_TYPES, essence
from commsite.config import SiteConfig
from commsite.content.member_match import normal_handle
from commsite.content.network_text import clean_text
from commsite.datadir import DataDir
from commsite.errors import CommsiteError
from commsite.federation.fetch import Fetcher, user_agent
from commsite.federation.keys import key_id, load_private_key
from commsite.sidecar.profiles import Profile, Profiles
from commsite.sidecar.store import Store

__all__ = ["HandleNotFound", "Resolver", "open_fetcher"]


class HandleNotFound(CommsiteError):
    """A handle no actor could be found for."""


def open_fetcher(root: Path, config: SiteConfig, clock: Callable[[], datetime]) -> Fetcher:
    """A Fetcher as the sidecar makes one (its private-address rules, its signed GETs)."""
    data_dir = DataDir.for_site(root, config.sidecar.data_dir)
    private_key = load_private_key(root, data_dir=data_dir)
    return Fetcher(
        allow_private=config.federation.allow_private_addresses,
        timeout=10.0,
        signer=(key_id(config), private_key),
        user_agent=user_agent(config.base_url),
        clock=clock,
    )


def _private_host(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


class Resolver:
    """Handles -> actors (their profile: inbox, profile page)."""

    def __init__(self, store: Store, fetcher: Fetcher, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.fetcher = fetcher
        self.profiles = Profiles(store, fetcher, clock)

    def actor(self, actor_id: str) -> Profile:
        return self.profiles.get(actor_id)

    def handle(self, handle: str) -> Profile:
        """The profile of the actor `handle` names; FetchError/HandleNotFound when not found."""
        wanted = normal_handle(handle)
        if wanted is None:
            raise HandleNotFound(f"{handle!r} is not a handle (@user@host)")
        for row in self.store.conn.execute("SELECT id, handle, webfinger FROM inbox_actors"):
            if wanted in {normal_handle(h) for h in row[1:] if h}:
                return self.profiles.get(str(row[0]))
        for follower in self.store.followers.all():
            if follower.handle and normal_handle(follower.handle) == wanted:
                return self.profiles.get(follower.actor)
        return self.profiles.get(self._webfinger(wanted))

    def _webfinger(self, handle: str) -> str:
        user, _, host = handle.removeprefix("@").partition("@")
        hostname = urlsplit("//" + host).hostname or ""
        scheme = "http" if self.fetcher.allow_private and _private_host(hostname) else "https"
        url = f"{scheme}://{host}/.well-known/webfinger?resource=" + quote(
            f"acct:{user}@{host}", safe="@:"
        )
        jrd = self.fetcher.get_json(url, jrd=True)
        links = jrd.get("links")
        for link in links if isinstance(links, list) else []:
            if (
                isinstance(link, dict)
                and link.get("rel") == "self"
                and essence(str(link.get("type", ""))) in ACTOR_LINK_TYPES
                and isinstance(link.get("href"), str)
                and link["href"].startswith(("https://", "http://"))
            ):
                return clean_text(link["href"])
        raise HandleNotFound(f"WebFinger at {host} names no ActivityPub actor for {handle}")
