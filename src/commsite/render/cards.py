"""Builders of the small views many pages share: links, cards, people, tags.

Pure functions from the model to the views of views.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Event, Member, Rules, Site, Story
from commsite.render.body_images import srcset
from commsite.render.dates import date_view, day_view, when_view
from commsite.render.views import (
    STATUS_LABELS,
    EventCard,
    EventLink,
    ImageView,
    InterestRef,
    Link,
    MemberCard,
    PersonRef,
    RulesView,
    StoryCard,
    StoryLink,
    TagRef,
)
from commsite.slugs import slugify

__all__ = [
    "event_card",
    "event_link",
    "federation_on",
    "handle_url",
    "href",
    "image_view",
    "interest_refs",
    "is_past",
    "member_card",
    "people",
    "person_ref",
    "rules_view",
    "static_path",
    "story_card",
    "story_link",
    "tag_refs",
]


def href(config: SiteConfig, path: str) -> str:
    """A site-absolute link ("/sub/stories/x/") for a commsite.urls path."""
    return _base_path(config.base_url) + path.lstrip("/")


@functools.lru_cache(maxsize=8)
def _base_path(base_url: str) -> str:
    return urlsplit(base_url).path or "/"


@functools.lru_cache(maxsize=4096)
def _tag_ref(base_url: str, tag: str) -> TagRef:
    return TagRef(name=tag, url=_base_path(base_url) + urls.tag_page(tag))


def static_path(path: str) -> str:
    """A path under static/ as a site path: "static/img/a.jpg" and "img/a.jpg" -> "img/a.jpg"."""
    path = path.lstrip("/")
    return path.removeprefix("static/")


def image_view(config: SiteConfig, path: str | None, alt: str) -> ImageView | None:
    if not path:
        return None
    url = href(config, static_path(path))
    image = config.images.get(path)
    if image is None:
        return ImageView(url=url, alt=alt)
    return ImageView(url, alt, image.width, image.height, srcset(config, image))


def person_ref(config: SiteConfig, member: Member) -> PersonRef:
    return PersonRef(
        name=member.name,
        url=href(config, urls.member_page(member.id)),
        avatar=image_view(config, member.avatar, member.name),
    )


def people(ids: Sequence[str], refs: Mapping[str, PersonRef]) -> tuple[PersonRef, ...]:
    """Member ids as references (`refs`: id -> reference); an unknown id (the loader
    reports it) shows as plain text."""
    return tuple(refs.get(i) or PersonRef(name=i, url=None) for i in ids)


def tag_refs(config: SiteConfig, tags: Sequence[str]) -> tuple[TagRef, ...]:
    return tuple(_tag_ref(config.base_url, t) for t in tags)


def story_link(site: Site, story: Story) -> StoryLink:
    config = site.config
    return StoryLink(
        title=story.title,
        url=href(config, urls.story_page(story.slug)),
        date=date_view(story.date, config.tz),
    )


def story_card(site: Site, story: Story, refs: Mapping[str, PersonRef]) -> StoryCard:
    config = site.config
    return StoryCard(
        title=story.title,
        url=href(config, urls.story_page(story.slug)),
        date=date_view(story.date, config.tz),
        summary=story.summary,
        authors=people(story.authors, refs),
        tags=tag_refs(config, story.tags),
        image=image_view(config, story.image, story.image_alt or story.title),
        draft=story.draft,
        future=story.future,
    )


def is_past(site: Site, event: Event) -> bool:
    return event.finishes <= site.now


def event_link(site: Site, event: Event) -> EventLink:
    config = site.config
    return EventLink(
        title=event.title,
        url=href(config, urls.event_page(event.slug)),
        when=when_view(event.start, event.end, config.tz),
        past=is_past(site, event),
        status_label=STATUS_LABELS.get(event.status),
    )


def event_card(site: Site, event: Event, recaps: Sequence[Story], going: int = 0) -> EventCard:
    """`going`: how many answered "going" and have a place (content/attendance.py)."""
    config = site.config
    place = event.location.name if event.location else ("Online" if event.online else None)
    return EventCard(
        title=event.title,
        url=href(config, urls.event_page(event.slug)),
        when=when_view(event.start, event.end, config.tz),
        summary=event.summary,
        status=event.status,
        status_label=STATUS_LABELS.get(event.status),
        place=place,
        past=is_past(site, event),
        recaps=tuple(Link(s.title, href(config, urls.story_page(s.slug))) for s in recaps),
        going=going,
    )


def member_card(config: SiteConfig, member: Member) -> MemberCard:
    return MemberCard(
        name=member.name,
        url=href(config, urls.member_page(member.id)),
        avatar=image_view(config, member.avatar, member.name),
        pronouns=member.pronouns,
        location=member.location,
        roles=member.roles,
        interests=interest_refs(config, member.interests),
        summary=member.summary,
    )


def interest_refs(config: SiteConfig, interests: Sequence[str]) -> tuple[InterestRef, ...]:
    """Links to interest pages, each page once (in the order first written)."""
    refs: dict[str, InterestRef] = {}
    for interest in interests:
        slug = slugify(interest)
        if slug not in refs:
            refs[slug] = InterestRef(interest, href(config, urls.interest_page(slug)), slug)
    return tuple(refs.values())


def handle_url(handle: str | None) -> str | None:
    """ "@ada@example.social" -> "https://example.social/@ada" (Mastodon's profile URL)."""
    if not handle:
        return None
    parts = handle.lstrip("@").split("@")
    if len(parts) != 2 or not all(parts):
        return None
    return f"https://{parts[1]}/@{parts[0]}"


def federation_on(site: Site) -> bool:
    """Whether the ActivityPub documents exist (federation enabled and a key to sign with)."""
    return site.config.federation.enabled and site.public_key_pem is not None


_RULE_ITEM = re.compile(r'<li id="rule-(\d+)">')


def _count_from(body_html: str, first: int) -> str:
    """The default theme numbers the rules with a CSS counter ("rule"), which
    counts from 1 whatever the list's start: make it count from `first` too, so
    the number shown is the one in the anchor (<ol start="3"> shows 3, 4, ...)."""
    if first == 1:
        return body_html
    opening = f'<ol start="{first}">\n<li id="rule-{first}">'
    return body_html.replace(
        opening,
        f'<ol start="{first}" style="counter-reset: rule {first - 1}">\n<li id="rule-{first}">',
        1,
    )


def rules_view(rules: Rules) -> RulesView:
    return RulesView(
        title=rules.title,
        body_html=_RULE_ITEM.sub(
            r'<li id="rule-\1"><a class="rule-anchor" href="#rule-\1" '
            r'aria-label="Link to rule \1">#</a>',
            _count_from(rules.body_html, rules.first),
        ),
        updated=day_view(rules.updated) if rules.updated else None,
        count=len(rules.items),
    )
