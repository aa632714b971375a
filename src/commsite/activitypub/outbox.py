"""The outbox: every public story and every event, newest first, as Create
activities in pages of PAGE_SIZE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from commsite import urls
from commsite.activitypub.activities import create_activity
from commsite.activitypub.objects import item_object
from commsite.activitypub.vocabulary import ACTIVITY_CONTEXT, AS_CONTEXT, embedded
from commsite.content.model import Event, Site, Story
from commsite.feeds.links import public_stories

__all__ = [
    "PAGE_SIZE",
    "federated_items",
    "outbox",
    "outbox_page",
    "outbox_page_document",
    "page_count",
    "published_at",
]

PAGE_SIZE = 20


def published_at(item: Story | Event) -> datetime:
    """When an item was published: a story's date, an event's start."""
    return item.date if isinstance(item, Story) else item.start


# The last site's items: one plan asks for them several times (the actor, the
# outbox, NodeInfo, the outbox pages' reads), and at 10,000 stories a sort takes
# 13 ms. A Site is frozen, so the same object has the same items.
_last: list[tuple[Site, tuple[Story | Event, ...]]] = []


def federated_items(site: Site) -> tuple[Story | Event, ...]:
    """Every public story and every event, newest first (events by their start)."""
    if _last and _last[0][0] is site:
        return _last[0][1]
    items: list[Story | Event] = [*public_stories(site), *site.events]
    found = tuple(sorted(items, key=lambda i: (published_at(i), i.slug), reverse=True))
    _last[:] = [(site, found)]
    return found


def page_count(total: int) -> int:
    """How many pages an outbox of `total` items has (one at least)."""
    return urls.page_count(total, PAGE_SIZE)


def outbox(site: Site, total: int | None = None) -> dict[str, Any]:
    """The outbox collection: its size and its first and last pages."""
    if total is None:
        total = len(federated_items(site))
    pages = page_count(total)
    return {
        "@context": AS_CONTEXT,
        "id": site.config.url(urls.OUTBOX),
        "type": "OrderedCollection",
        "totalItems": total,
        "first": site.config.url(urls.outbox_page(1)),
        "last": site.config.url(urls.outbox_page(pages)),
    }


def outbox_page_document(
    site: Site, n: int, pages: int, chunk: list[dict[str, Any]]
) -> dict[str, Any]:
    """Page `n` of `pages` of the outbox, showing the objects `chunk`."""
    page: dict[str, Any] = {
        "@context": ACTIVITY_CONTEXT,
        "id": site.config.url(urls.outbox_page(n)),
        "type": "OrderedCollectionPage",
        "partOf": site.config.url(urls.OUTBOX),
    }
    if n > 1:
        page["prev"] = site.config.url(urls.outbox_page(n - 1))
    if n < pages:
        page["next"] = site.config.url(urls.outbox_page(n + 1))
    page["orderedItems"] = [embedded(create_activity(site, obj)) for obj in chunk]
    return page


def outbox_page(site: Site, n: int) -> dict[str, Any]:
    """Page `n` (1-based) of the outbox: Create activities, newest first."""
    items = federated_items(site)
    chunk = urls.page_items(items, n, PAGE_SIZE)
    return outbox_page_document(
        site, n, page_count(len(items)), [item_object(site, i) for i in chunk]
    )
