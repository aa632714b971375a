"""The JSON Feed 1.1 of stories (https://jsonfeed.org/version/1.1), at urls.FEED_JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Member, Site, Story
from commsite.feeds.atom import rfc3339
from commsite.feeds.links import FEED_ITEMS, absolute_html, authors_of, public_stories, static_url

__all__ = ["json_document", "json_feed"]

VERSION = "https://jsonfeed.org/version/1.1"


def json_feed(site: Site, limit: int = FEED_ITEMS) -> bytes:
    """The newest `limit` public stories as JSON Feed (UTF-8 bytes, keys in a fixed order)."""
    by_id = {m.id: m for m in site.members}
    return json_document(site.config, public_stories(site)[:limit], by_id.get)


def json_document(
    config: SiteConfig, stories: tuple[Story, ...], member: Callable[[str], Member | None]
) -> bytes:
    """`stories` as JSON Feed; `member` finds an author by id."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": config.title,
        "home_page_url": config.url(urls.HOME),
        "feed_url": config.url(urls.FEED_JSON),
        "language": config.language,
    }
    if config.description:
        feed["description"] = config.description
    if config.community.avatar:
        feed["icon"] = static_url(config, config.community.avatar)
    feed["authors"] = [{"name": config.community.name or config.title, "url": config.url("")}]

    items = []
    for story in stories:
        page = config.url(urls.story_page(story.slug))
        item: dict[str, Any] = {
            "id": page,
            "url": page,
            "title": story.title,
            "content_html": absolute_html(story.body_html, page),
        }
        if story.summary:
            item["summary"] = story.summary
        if story.image:
            item["image"] = static_url(config, story.image)
        item["date_published"] = rfc3339(story.date)
        if story.updated:
            item["date_modified"] = rfc3339(story.updated)
        people = authors_of(config, member, story.authors)
        if people:
            item["authors"] = [
                {"name": name, "url": profile} if profile else {"name": name}
                for name, profile in people
            ]
        if story.tags:
            item["tags"] = list(story.tags)
        items.append(item)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
