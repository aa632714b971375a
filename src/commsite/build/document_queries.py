"""The queries generated documents make of the site (feeds, calendars, the
sitemap, federation objects and outbox pages), besides the pages'
(render/pages/queries.py). The build's plans answer both (`BUILD_QUERIES`, which
it gives its PageMemo), so a document's reads are recorded, digested and
checked exactly as a page's (build/document_reads.py); `DocumentReads` is how a
document function asks them. They live here, not beside the pages' queries,
because they ask the protocol (activitypub), which the pages do not import."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from commsite import urls
from commsite.activitypub.event_rsvp import rsvp_fields_of
from commsite.activitypub.outbox import PAGE_SIZE, federated_items, page_count
from commsite.content.model import Event, Member, Site, Story
from commsite.feeds.links import FEED_ITEMS, public_stories
from commsite.feeds.sitemap import sitemap_stories
from commsite.render.lookups import SiteIndex
from commsite.render.pages.queries import QUERIES
from commsite.render.pages.reads import ReadValues, Recorded, SiteReads

__all__ = ["BUILD_QUERIES", "DOCUMENT_QUERIES", "DocumentReads", "Embeds"]


def _feed_stories(site: Site, index: SiteIndex, argument: str) -> object:
    """The stories the feeds show: the newest public ones."""
    return public_stories(site)[:FEED_ITEMS]


def _calendar_events(site: Site, index: SiteIndex, argument: str) -> object:
    """Every event, in the site's order (events.ics lists them all)."""
    return site.events


def _sitemap_stories(site: Site, index: SiteIndex, argument: str) -> object:
    """Each story's slug, whether it is hidden and its lastmod (not its body)."""
    return sitemap_stories(site)


def _rsvp(site: Site, index: SiteIndex, slug: str) -> object:
    """The answering fields of an event's object (its RSVPs, counted), as pairs."""
    event = index.events.get(slug)
    if event is None:
        return None
    return tuple(rsvp_fields_of(site.config, event, index.attendance.of(event)).items())


def _outbox_page(site: Site, index: SiteIndex, number: str) -> object:
    """Page `number` of the outbox: how many pages there are, and its items."""
    if not (number.isascii() and number.isdigit()) or len(number) > 9:
        return None
    items = federated_items(site)
    n = int(number)
    return page_count(len(items)), urls.page_items(items, n, PAGE_SIZE)


DOCUMENT_QUERIES: Mapping[str, Callable[[Site, SiteIndex, str], object]] = {
    "feed_stories": _feed_stories,
    "calendar_events": _calendar_events,
    "sitemap_stories": _sitemap_stories,
    "rsvp": _rsvp,
    "outbox_page": _outbox_page,
}

# What the build's plans answer: the pages' queries and the documents'.
BUILD_QUERIES: Mapping[str, Callable[[Site, SiteIndex, str], object]] = {
    **QUERIES,
    **DOCUMENT_QUERIES,
}


class Embeds(Protocol):
    """What a document embedding another asks (`DocumentReads.document`)."""

    def embedded(self, path: str) -> tuple[bytes, Recorded]: ...


class DocumentReads(SiteReads):
    """What one document function reads, recorded as it reads it: the pages'
    queries (`story`, `event`, `member` ...) and the documents' own
    (build/document_queries.py)."""

    __slots__ = ("_documents",)

    def __init__(self, values: ReadValues, documents: Embeds | None = None) -> None:
        super().__init__(values)
        self._documents = documents

    def feed_stories(self) -> tuple[Story, ...]:
        """The stories the feeds show (the newest public ones)."""
        found = self._read("feed_stories", "")
        assert isinstance(found, tuple)
        return found

    def calendar_events(self) -> tuple[Event, ...]:
        found = self._read("calendar_events", "")
        assert isinstance(found, tuple)
        return found

    def sitemap_stories(self) -> tuple[tuple[str, bool, float], ...]:
        """What the sitemap says of each story (feeds.sitemap.sitemap_stories)."""
        found = self._read("sitemap_stories", "")
        assert isinstance(found, tuple)
        return found

    def find_member(self, member_id: str) -> Member | None:
        found = self._read("member", member_id)
        return found if isinstance(found, Member) else None

    def rsvp(self, slug: str) -> dict[str, Any]:
        """The answering fields of the event's object (activitypub.event_rsvp)."""
        found = self._read("rsvp", slug)
        assert isinstance(found, tuple), slug
        return dict(found)

    def outbox_page(self, number: int) -> tuple[int, tuple[Story | Event, ...]]:
        """How many outbox pages there are, and the items of page `number`."""
        found = self._read("outbox_page", str(number))
        assert isinstance(found, tuple)
        return found[0], found[1]

    def document(self, path: str) -> bytes:
        """What the document at `path` made (planned before this one), counting its
        reads as this document's (an outbox page shows its items' objects)."""
        documents = self._documents
        assert documents is not None, "a document is embedded only within a plan"
        value, recorded = documents.embedded(path)
        self.embed(recorded)
        return value

    def embed(self, recorded: Recorded) -> None:
        """Count as read what another document read (a document shown inside this
        one, as an outbox page shows its items' objects)."""
        log = self._log
        for read, value in recorded:
            log.setdefault(read, value)
