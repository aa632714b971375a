"""A story's or event's ActivityPub object: a Note or Article, an Event."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from commsite import urls
from commsite.activitypub.attachments import attachments
from commsite.activitypub.content import event_summary, hashtag_name, mastodon_html
from commsite.activitypub.event_rsvp import event_name, rsvp_fields, status_note
from commsite.activitypub.vocabulary import ACTIVITY_CONTEXT, PUBLIC, actor_id, followers_url
from commsite.content.model import Event, Site, Story
from commsite.feeds.atom import rfc3339
from commsite.feeds.calendar import ICAL_STATUS
from commsite.feeds.links import absolute_html

__all__ = ["event_object", "item_object", "story_object"]


def _hashtags(site: Site, tags: tuple[str, ...]) -> list[dict[str, str]]:
    return [
        {
            "type": "Hashtag",
            "href": site.config.url(urls.tag_page(tag)),
            "name": hashtag_name(tag),
        }
        for tag in tags
    ]


def _hashtag_paragraph(hashtags: list[dict[str, str]]) -> str:
    links = [
        f'<a href="{html.escape(t["href"])}" class="mention hashtag" rel="tag">'
        f"#<span>{html.escape(t['name'][1:])}</span></a>"
        for t in hashtags
    ]
    return f"<p>{' '.join(links)}</p>" if links else ""


def _addressing(site: Site) -> dict[str, Any]:
    return {"attributedTo": actor_id(site), "to": [PUBLIC], "cc": [followers_url(site)]}


def story_object(site: Site, story: Story) -> dict[str, Any]:
    """A story as a Note (full text in timelines) or an Article (title, summary, link),
    as `federation.story_type` says."""
    config = site.config
    page = config.url(urls.story_page(story.slug))
    hashtags = _hashtags(site, story.tags)
    body = mastodon_html(absolute_html(story.body_html, page))
    link = f'<p><a href="{html.escape(page)}">{html.escape(page)}</a></p>'
    title = html.escape(story.title, quote=False)

    obj: dict[str, Any] = {
        "@context": ACTIVITY_CONTEXT,
        "id": config.url(urls.story_object(story.slug)),
        "type": config.federation.story_type,
    }
    if config.federation.story_type == "Article":
        obj["name"] = story.title
        obj["summary"] = story.summary
        content = body + _hashtag_paragraph(hashtags)
    else:
        content = f"<p><strong>{title}</strong></p>" + body + link + _hashtag_paragraph(hashtags)
        obj["sensitive"] = False
    obj.update(_addressing(site))
    obj["published"] = rfc3339(story.date)
    if story.updated and story.updated > story.date:
        obj["updated"] = rfc3339(story.updated)
    obj["url"] = page
    obj["content"] = content
    obj["contentMap"] = {config.language: content}
    if hashtags:
        obj["tag"] = hashtags
    path = urls.story_page(story.slug)
    found = attachments(site, story.image, story.image_alt, story.title, path, story.body_html)
    if found:
        obj["attachment"] = found
    return obj


def event_object(site: Site, event: Event, rsvp: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An event as an Event; `summary` spells out when and where, since Mastodon
    shows only name, summary and link; a cancelled one says so in each. The
    answering fields (`rsvp`, or counted here) come from activitypub/event_rsvp.py."""
    config = site.config
    tz = config.tz
    page = config.url(urls.event_page(event.slug))
    obj: dict[str, Any] = {
        "@context": ACTIVITY_CONTEXT,
        "id": config.url(urls.event_object(event.slug)),
        "type": "Event",
        "name": event_name(event),
        "summary": event_summary(event, config.timezone),
    }
    obj.update(_addressing(site))
    obj["url"] = page
    obj["content"] = status_note(event) + absolute_html(event.body_html, page)
    obj["startTime"] = event.start.astimezone(tz).isoformat()
    if event.end is not None:
        obj["endTime"] = event.end.astimezone(tz).isoformat()
    if event.location is not None:
        place: dict[str, Any] = {"type": "Place", "name": event.location.name}
        if event.location.address:
            place["address"] = event.location.address
        if event.location.url:
            place["url"] = event.location.url
        obj["location"] = place
    obj["ical:status"] = ICAL_STATUS.get(event.status, "CONFIRMED")
    obj["isOnline"] = event.online is not None and event.location is None
    obj.update(rsvp_fields(site, event) if rsvp is None else rsvp)
    hashtags = _hashtags(site, event.tags)
    if hashtags:
        obj["tag"] = hashtags
    found = attachments(
        site,
        event.image,
        event.image_alt,
        event.title,
        urls.event_page(event.slug),
        event.body_html,
    )
    if found:
        obj["attachment"] = found
    return obj


def item_object(
    site: Site, item: Story | Event, rsvp: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A story's or an event's object (`rsvp`: an event's answering fields, if known)."""
    return story_object(site, item) if isinstance(item, Story) else event_object(site, item, rsvp)
