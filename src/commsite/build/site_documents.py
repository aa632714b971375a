"""The feeds, the calendars, robots.txt and the sitemap, as documents that record
what they read (build/document_reads.py).

Each function takes a `DocumentReads` and asks it for what the document shows:
the feeds the newest public stories and their authors, events.ics every event,
an event's own calendar that event, the sitemap each story's slug, visibility
and lastmod (and the pages' paths, its option). So editing a story never
remakes the calendars, editing an event never remakes the feeds, and a body
edit never remakes the sitemap: each is made again exactly when something it
read answers differently. Nothing here says what a document depends on.

Making the calendars of 500 events takes about a second (icalendar): they are
made in a forked worker when there are many to make.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from commsite import urls
from commsite.build.document_queries import DocumentReads
from commsite.build.document_reads import Document
from commsite.content.model import Site
from commsite.feeds.atom import atom_document
from commsite.feeds.calendar import calendar_document
from commsite.feeds.jsonfeed import json_document
from commsite.feeds.sitemap import robots_document, sitemap_document

__all__ = [
    "atom",
    "event_calendar",
    "events_calendar",
    "json_feed",
    "robots",
    "site_documents",
    "sitemap",
    "sitemap_of",
]


def atom(reads: DocumentReads) -> bytes:
    return atom_document(reads.site.config, reads.feed_stories(), reads.find_member)


def json_feed(reads: DocumentReads) -> bytes:
    return json_document(reads.site.config, reads.feed_stories(), reads.find_member)


def robots(reads: DocumentReads) -> bytes:
    return robots_document(reads.site.config)


def events_calendar(reads: DocumentReads) -> bytes:
    return calendar_document(reads.site.config, reads.calendar_events())


def event_calendar(slug: str, reads: DocumentReads) -> bytes:
    return calendar_document(reads.site.config, (reads.event(slug),))


def sitemap(paths: Sequence[str], reads: DocumentReads) -> bytes:
    return sitemap_document(reads.site.config, reads.sitemap_stories(), paths)


def site_documents(site: Site) -> list[Document]:
    """The feeds, robots.txt and the calendars of `site`."""
    return [
        Document(urls.FEED_ATOM, partial(_run, "atom")),
        Document(urls.FEED_JSON, partial(_run, "json_feed")),
        Document(urls.ROBOTS, partial(_run, "robots")),
        Document(urls.EVENTS_ICS, partial(_run, "events_calendar"), weight=len(site.events)),
        *(
            Document(urls.event_ics(e.slug), partial(_run, "event_calendar", e.slug), weight=1)
            for e in site.events
        ),
    ]


def sitemap_of(paths: Sequence[str]) -> Document:
    """The sitemap of the pages at `paths` (HTML page paths)."""
    return Document(urls.SITEMAP, partial(_run, "sitemap", tuple(paths)), options=tuple(paths))


def _run(name: str, *arguments: object) -> bytes:
    """Call the function `name` of this module, looked up when called (so that a
    test, or a maintainer's edit, that replaces it is what runs)."""
    made: bytes = globals()[name](*arguments)
    return made
