"""The Atom 1.0 feed of stories (RFC 4287), at urls.FEED_ATOM."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Member, Site, Story
from commsite.feeds.links import (
    FEED_ITEMS,
    absolute_html,
    authors_of,
    media_type,
    public_stories,
    static_url,
    without_control_chars,
)

__all__ = ["atom_document", "atom_feed", "rfc3339"]

ATOM_NS = "http://www.w3.org/2005/Atom"

# The <updated> of a feed with no stories (RFC 4287 requires one). Not the build
# time: a feed nothing has changed in keeps the same bytes build after build.
NOTHING_YET = datetime(1970, 1, 1, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    """A timestamp in UTC with a Z, to the second: 2026-10-01T18:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _updated(story: Story) -> datetime:
    return story.updated or story.date


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    clean = {name: without_control_chars(value) for name, value in attrs.items()}
    element = ET.SubElement(parent, tag, clean)
    if text is not None:
        element.text = without_control_chars(text)
    return element


def atom_feed(site: Site, limit: int = FEED_ITEMS) -> bytes:
    """The newest `limit` public stories as an Atom document (UTF-8 bytes)."""
    by_id = {m.id: m for m in site.members}
    return atom_document(site.config, public_stories(site)[:limit], by_id.get)


def atom_document(
    config: SiteConfig, stories: tuple[Story, ...], member: Callable[[str], Member | None]
) -> bytes:
    """`stories` as an Atom document; `member` finds an author by id."""
    home = config.url(urls.HOME)

    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": config.language})
    _sub(feed, "id", home)
    _sub(feed, "title", config.title)
    if config.description:
        _sub(feed, "subtitle", config.description)
    updated = max((_updated(s) for s in stories), default=NOTHING_YET)
    _sub(feed, "updated", rfc3339(updated))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=config.url(urls.FEED_ATOM))
    _sub(feed, "link", rel="alternate", type="text/html", href=home)
    author = _sub(feed, "author")
    _sub(author, "name", config.community.name or config.title)
    _sub(author, "uri", home)
    _sub(feed, "generator", "commsite", uri="https://pypi.org/project/commsite/")
    if config.community.avatar:
        _sub(feed, "icon", static_url(config, config.community.avatar))

    for story in stories:
        page = config.url(urls.story_page(story.slug))
        entry = _sub(feed, "entry")
        _sub(entry, "id", page)
        _sub(entry, "title", story.title)
        _sub(entry, "published", rfc3339(story.date))
        _sub(entry, "updated", rfc3339(_updated(story)))
        for name, profile in authors_of(config, member, story.authors):
            author = _sub(entry, "author")
            _sub(author, "name", name)
            if profile:
                _sub(author, "uri", profile)
        _sub(entry, "link", rel="alternate", type="text/html", href=page)
        if story.image:
            image = static_url(config, story.image)
            kind = media_type(story.image)
            if kind:
                _sub(entry, "link", rel="enclosure", type=kind, href=image)
            else:
                _sub(entry, "link", rel="enclosure", href=image)
        for tag in story.tags:
            _sub(entry, "category", term=tag)
        if story.summary:
            _sub(entry, "summary", story.summary)
        _sub(entry, "content", absolute_html(story.body_html, page), type="html")

    ET.indent(feed, space="  ")
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")
