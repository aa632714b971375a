"""What a member said on the site: their replies and introductions, for their profile page.

The interactions index (threads.py) knows which items members wrote; here each
becomes a line on the member's page, linking to the reply's or introduction's
anchor on the page that shows it, newest first and at most `SAID_LIMIT`.
"""

from __future__ import annotations

import html
import re

from commsite import urls
from commsite.content.model import Event, Introduction, Reply, Site, Story
from commsite.render.cards import federation_on, href
from commsite.render.dates import DateView, date_view
from commsite.render.lookups import SiteIndex
from commsite.render.threads import anchor_id, warning_text
from commsite.render.viewclass import view

__all__ = ["SAID_LIMIT", "SaidView", "excerpt", "said_key", "said_views"]

SAID_LIMIT = 20
EXCERPT_CHARS = 160
_TAG = re.compile(r"<[^>]*>")


@view
class SaidView:
    kind: str  # "reply" or "introduction"
    where: str  # the story's or event's title, or "the welcome wall"
    url: str  # the page, with the item's anchor
    published: DateView
    excerpt: str  # plain text, shortened; empty behind a content warning
    warning: str | None


def _where(site: Site, index: SiteIndex, item: Reply | Introduction) -> Story | Event | None:
    if isinstance(item, Introduction):
        return None
    kind, _, slug = item.target.partition("/")
    if kind == "stories":
        return index.stories.get(slug)
    return index.events.get(slug)


def _shown(
    site: Site, index: SiteIndex, member_id: str
) -> list[tuple[Reply | Introduction, Story | Event | None]]:
    """The member's items that a page of this site shows, with the page's item."""
    welcome = federation_on(site)
    shown: list[tuple[Reply | Introduction, Story | Event | None]] = []
    for item in index.interactions.said.get(member_id, ()):
        where = _where(site, index, item)
        if (where is None and not welcome) or (isinstance(item, Reply) and where is None):
            continue  # a thread or wall this build does not show
        shown.append((item, where))
    return shown


def said_key(site: Site, index: SiteIndex, member_id: str) -> tuple[object, ...]:
    """What said_views reads besides the shared key (config, members): the items and their pages."""
    return tuple(_shown(site, index, member_id))


def excerpt(content_html: str) -> str:
    text = " ".join(html.unescape(_TAG.sub(" ", content_html)).split())
    if len(text) <= EXCERPT_CHARS:
        return text
    return text[: EXCERPT_CHARS - 1].rsplit(" ", 1)[0] + "…"


def said_views(site: Site, index: SiteIndex, member_id: str) -> tuple[tuple[SaidView, ...], int]:
    """The member's newest SAID_LIMIT items as views, and how many there are in all."""
    config = site.config
    shown = _shown(site, index, member_id)
    views = []
    for item, where in shown[:SAID_LIMIT]:
        if isinstance(item, Reply):
            assert where is not None
            page = (
                urls.story_page(where.slug)
                if isinstance(where, Story)
                else urls.event_page(where.slug)
            )
            anchor, title, kind = anchor_id("reply", item.id), where.title, "reply"
        else:
            page, anchor, title, kind = (
                urls.WELCOME,
                anchor_id("intro", item.id),
                "the welcome wall",
                "introduction",
            )
        warning = warning_text(item.summary, item.sensitive)
        views.append(
            SaidView(
                kind=kind,
                where=title,
                url=f"{href(config, page)}#{anchor}",
                published=date_view(item.published, config.tz),
                excerpt="" if warning else excerpt(item.content_html),
                warning=warning,
            )
        )
    return tuple(views), len(shown)
