"""The queries generated documents make of the site (feeds, calendars, the
sitemap, federation objects and outbox pages), besides the pages'
(render/pages/queries.py). The build's plans answer both (`BUILD_QUERIES`, which
it gives its PageMemo), so a document's reads are recorded, digested and
checked exactly as a page's (build/document_reads.py). They live here, not
beside the pages' queries, because they ask the protocol (activitypub), which
the pages do not import."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from commsite.activitypub.event_rsvp import rsvp_fields_of
from commsite.activitypub.outbox import PAGE_SIZE, federated_items, page_count
from commsite.content.model import Event, Site, Story
from commsite.feeds.links import FEED_ITEMS, public_stories
from commsite.feeds.sitemap import sitemap_stories
from commsite.render.lookups import SiteIndex
from commsite.render.pages.queries import QUERIES

__all__ = ["BUILD_QUERIES", "DOCUMENT_QUERIES"]


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


# The last site's federated items (one sort of every public story per site, not
# one per outbox page): (the site, its items).
_federated: list[tuple[Site, tuple[Story | Event, ...]]] = []


def federated(site: Site) -> tuple[Story | Event, ...]:
    """Every public story and event, newest first (activitypub.outbox.federated_items)."""
    if _federated and _federated[0][0] is site:
        return _federated[0][1]
    items = tuple(federated_items(site))
    _federated[:] = [(site, items)]
    return items


def _outbox_page(site: Site, index: SiteIndex, number: str) -> object:
    """Page `number` of the outbox: how many pages there are, and its items."""
    if not (number.isascii() and number.isdigit()) or len(number) > 9:
        return None
    items = federated(site)
    n = int(number)
    return page_count(len(items)), items[(n - 1) * PAGE_SIZE : n * PAGE_SIZE]


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
