"""Which of our URLs a remote post can answer, and who the members are.

A reply's `inReplyTo` may name a story or event by its ActivityPub object id
(`ap/stories/SLUG`) or by its HTML page (`stories/SLUG/`, with or without the
final slash): both map to the thread "stories/SLUG". The map is built from the
site's content when the sidecar starts, and read again when it may be out of
date:

* a lookup of a URL shaped like one of ours (`ap/stories/X`, `stories/X`,
  events alike, under base_url) that the map does not know re-reads the site
  at once: a story published a second ago is found a second later, not after
  a restart or a timer. `pending` tells such a URL ("ours, not known yet") from
  one that is not ours at all (final at once); processing retries an activity
  about a pending URL for a while (see worker.py) rather than misfile it;
* a handle that is not a member's re-reads the site too (a member added a
  moment ago is one);
* the members are re-read when older than `max_age`.

Re-reads are rate-limited: at least `min_interval` apart, and at least ten
times as long apart as the last one took, so a stream of replies to invented
URLs cannot keep the sidecar busy loading the site.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.identity import normalise_actor_url, normalise_handle
from commsite.content.model import Event, Site

__all__ = ["NotYetKnown", "SiteIndex", "Targets", "index_site", "target_prefixes"]

log = logging.getLogger(__name__)


class NotYetKnown(Exception):
    """An activity names something of ours that is not known yet (a story published
    seconds ago, a post whose Create waits): retry it, do not file it."""


@dataclass(frozen=True, slots=True)
class SiteIndex:
    targets: dict[str, str]  # normalised URL -> "stories/SLUG" / "events/SLUG"
    members: frozenset[str]  # normalised "@user@host" handles
    prefixes: tuple[str, ...] = ()  # normalised URL prefixes of stories and events
    events: Mapping[str, Event] = field(default_factory=dict)  # slug -> the event (RSVPs)
    polls: Mapping[str, str] = field(default_factory=dict)  # normalised poll id -> event slug


def _key(url: str) -> str:
    return normalise_actor_url(url)


def index_site(config: SiteConfig, stories: Iterable[str], events: Iterable[str],
               handles: Iterable[str]) -> SiteIndex:  # fmt: skip
    targets: dict[str, str] = {}
    for slug in stories:
        for path in (urls.story_object(slug), urls.story_page(slug)):
            targets[_key(config.url(path))] = f"stories/{slug}"
    for slug in events:
        for path in (urls.event_object(slug), urls.event_page(slug)):
            targets[_key(config.url(path))] = f"events/{slug}"
    members = frozenset(normalise_handle(h) for h in handles if h)
    return SiteIndex(targets, members, target_prefixes(config))


def target_prefixes(config: SiteConfig) -> tuple[str, ...]:
    """The URL prefixes under which our stories and events live (`…/ap/stories/`, ...)."""
    return tuple(
        _key(config.url(path.format("x"))).removesuffix("/x") + "/"
        for path in ("ap/stories/{}", "stories/{}", "ap/events/{}", "events/{}")
    )


def _from_site(site: Site) -> SiteIndex:
    index = index_site(
        site.config,
        (s.slug for s in site.stories),
        (e.slug for e in site.events),
        (m.handle for m in site.members if m.handle),
    )
    events = {e.slug: e for e in site.events}
    polls = {_key(site.config.url(urls.event_poll(slug))): slug for slug in events}
    return SiteIndex(index.targets, index.members, index.prefixes, events, polls)


class Targets:
    """The current SiteIndex, re-read when a lookup may be out of date (see above)."""

    def __init__(
        self,
        load: Callable[[], Site | None],
        *,
        config: SiteConfig | None = None,
        max_age: float = 30.0,
        min_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._max_age = max_age
        self._min_interval = min_interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        # With the config, URLs of ours are told even when the site does not load.
        self._index = SiteIndex({}, frozenset(), target_prefixes(config) if config else ())
        self._loaded_at: float | None = None
        self._took = 0.0
        self.reload()

    def reload(self) -> None:
        started = time.monotonic()
        try:
            site = self._load()
        except Exception:  # our content, not the activity's fault: never a dead letter
            log.exception("reading the site's content failed")
            site = None
        with self._lock:
            self._took = time.monotonic() - started
            self._loaded_at = self._monotonic()
            if site is None:
                log.warning("the site's content could not be loaded; keeping the last index")
                return
            self._index = _from_site(site)

    def _age(self) -> float:
        return float("inf") if self._loaded_at is None else self._monotonic() - self._loaded_at

    def _reload_if(self, older_than: float) -> bool:
        """Re-read the site when the index is older than `older_than` (and than the
        rate limit allows); True if it was re-read."""
        if self._age() < max(older_than, self._min_interval, 10 * self._took):
            return False
        self.reload()
        return True

    def could_be_ours(self, url: str) -> bool:
        """`url` has the shape of one of our stories' or events' URLs (known or not)."""
        key = _key(url)
        return any(
            key.startswith(p) and key[len(p) :] and "/" not in key[len(p) :]
            for p in self._index.prefixes
        )

    def target_of(self, url: str) -> str | None:
        """The thread `url` names; a miss on a URL that could be ours re-reads the site."""
        key = _key(url)
        target = self._index.targets.get(key)
        if target is None and self.could_be_ours(url) and self._reload_if(0.0):
            target = self._index.targets.get(key)
        return target

    def pending(self, url: str) -> bool:
        """Ours by its shape but not (yet) a story or event we know: not final."""
        return self.target_of(url) is None and self.could_be_ours(url)

    def event(self, slug: str) -> Event | None:
        """The event `slug` (for its start and capacity), if the site has it."""
        return self._index.events.get(slug)

    def poll_event(self, url: str) -> str | None:
        """The event whose RSVP poll (Question) has the id `url`."""
        return self._index.polls.get(_key(url))

    def member_handles(self, wanted: Iterable[str] = ()) -> frozenset[str]:
        """The members' handles; re-read first when stale, or when one of `wanted`
        (the author's handles) is not a member's (a member added a moment ago)."""
        if not self._reload_if(self._max_age):
            handles = {normalise_handle(h) for h in wanted}
            if handles and not handles & self._index.members:
                self._reload_if(0.0)
        return self._index.members
