"""Which of our URLs a remote post can answer, and who the members are.

A reply's `inReplyTo` may name a story or event by its ActivityPub object id
(`ap/stories/SLUG`) or by its HTML page (`stories/SLUG/`, with or without the
final slash): both map to the thread "stories/SLUG". The map is built from the
site's content and rebuilt (at most every `max_age`) when a post answers an
URL it does not know, so a story published after the sidecar started is found
without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Site
from commsite.sidecar.moderation import normalise_handle

__all__ = ["SiteIndex", "Targets", "index_site"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SiteIndex:
    targets: dict[str, str]  # URL (no trailing slash) -> "stories/SLUG" / "events/SLUG"
    members: frozenset[str]  # normalised "@user@host" handles


def _key(url: str) -> str:
    return url.split("#", 1)[0].rstrip("/")


def index_site(config: SiteConfig, stories: Iterable[str], events: Iterable[str],
               handles: Iterable[str]) -> SiteIndex:  # fmt: skip
    targets: dict[str, str] = {}
    for slug in stories:
        for path in (urls.story_object(slug), urls.story_page(slug)):
            targets[_key(config.url(path))] = f"stories/{slug}"
    for slug in events:
        for path in (urls.event_object(slug), urls.event_page(slug)):
            targets[_key(config.url(path))] = f"events/{slug}"
    return SiteIndex(targets, frozenset(normalise_handle(h) for h in handles if h))


def _from_site(site: Site) -> SiteIndex:
    return index_site(
        site.config,
        (s.slug for s in site.stories),
        (e.slug for e in site.events),
        (m.handle for m in site.members if m.handle),
    )


class Targets:
    """The current SiteIndex, reloaded by `load` when a lookup misses and it is stale."""

    def __init__(
        self,
        load: Callable[[], Site | None],
        *,
        max_age: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._max_age = max_age
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._index = SiteIndex({}, frozenset())
        self._loaded_at: float | None = None
        self.reload()

    def reload(self) -> None:
        site = self._load()
        with self._lock:
            self._loaded_at = self._monotonic()
            if site is None:
                log.warning("the site's content could not be loaded; keeping the last index")
                return
            self._index = _from_site(site)

    def _stale(self) -> bool:
        return self._loaded_at is None or self._monotonic() - self._loaded_at >= self._max_age

    def target_of(self, url: str) -> str | None:
        target = self._index.targets.get(_key(url))
        if target is None and self._stale():
            self.reload()
            target = self._index.targets.get(_key(url))
        return target

    def member_handles(self) -> frozenset[str]:
        if self._stale():
            self.reload()
        return self._index.members
