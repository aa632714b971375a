"""Template-facing views: what templates see instead of the internal model.

Every view is a frozen dataclass of strings, numbers, booleans, None, tuples
and other views, built by pure functions. A page's context holds only what
that page shows, so `repr(context)` is a faithful fingerprint of the page for
incremental builds. Links are site-absolute paths ("/stories/x/", under the
base URL's path); `canonical` and OpenGraph URLs are absolute.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Event, Member, Site, Story
from commsite.render.dates import DateView, WhenView, date_view, day_view, when_view
from commsite.render.threads import ThreadView

__all__ = [
    "Chrome",
    "EventCard",
    "EventLink",
    "ImageView",
    "Link",
    "Meta",
    "PersonRef",
    "StoryCard",
    "StoryLink",
    "TagRef",
    "chrome_view",
    "event_card",
    "event_link",
    "href",
    "meta_view",
    "person_ref",
    "story_card",
    "story_link",
]

STATUS_LABELS = {"cancelled": "Cancelled", "postponed": "Postponed"}


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class NavLink:
    title: str
    url: str
    section: str  # compared with Meta.section to mark the current entry


@dataclass(frozen=True, slots=True)
class ImageView:
    url: str
    alt: str


@dataclass(frozen=True, slots=True)
class PersonRef:
    name: str
    url: str | None
    avatar: ImageView | None = None


@dataclass(frozen=True, slots=True)
class TagRef:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Chrome:
    """What every page shows around its content. Kept small: it is in every fingerprint."""

    site_title: str
    tagline: str
    language: str
    home_url: str
    nav: tuple[NavLink, ...]
    stylesheets: tuple[str, ...]
    feed_atom: str  # absolute
    feed_json: str  # absolute
    events_ics: str
    handle: str | None  # "@community@host" when federation is on
    logo: ImageView | None


@dataclass(frozen=True, slots=True)
class Meta:
    """The <head> of one page."""

    title: str  # this page's own title
    head_title: str  # "Title · Site" (or the site title alone on the home page)
    description: str
    canonical: str  # absolute
    section: str  # which nav entry is current
    og_type: str = "website"
    og_image: str | None = None  # absolute
    activity_json: str | None = None  # absolute URL of the ActivityPub document
    prev: str | None = None  # rel=prev / rel=next of paginated lists
    next: str | None = None
    noindex: bool = False


@dataclass(frozen=True, slots=True)
class StoryLink:
    title: str
    url: str
    date: DateView


@dataclass(frozen=True, slots=True)
class StoryCard:
    title: str
    url: str
    date: DateView
    summary: str
    authors: tuple[PersonRef, ...]
    tags: tuple[TagRef, ...]
    image: ImageView | None
    draft: bool
    future: bool


@dataclass(frozen=True, slots=True)
class EventLink:
    title: str
    url: str
    when: WhenView
    past: bool
    status_label: str | None


@dataclass(frozen=True, slots=True)
class EventCard:
    title: str
    url: str
    when: WhenView
    summary: str
    status: str
    status_label: str | None  # "Cancelled", "Postponed" or None
    place: str | None  # the location's name, or "Online"
    past: bool
    recaps: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class LocationView:
    name: str
    address: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class StoryView:
    title: str
    url: str
    date: DateView
    updated: DateView | None
    summary: str
    body_html: str  # trusted: the organisers' rendered Markdown
    authors: tuple[PersonRef, ...]
    tags: tuple[TagRef, ...]
    image: ImageView | None
    draft: bool
    future: bool
    event: Link | None  # the event this story recaps
    older: Link | None
    newer: Link | None
    thread: ThreadView


@dataclass(frozen=True, slots=True)
class EventView:
    title: str
    url: str
    when: WhenView
    summary: str
    body_html: str
    status: str
    status_label: str | None
    past: bool
    location: LocationView | None
    online: str | None
    capacity: int | None
    hosts: tuple[PersonRef, ...]
    tags: tuple[TagRef, ...]
    image: ImageView | None
    recaps: tuple[StoryLink, ...]
    calendar_url: str
    thread: ThreadView


@dataclass(frozen=True, slots=True)
class InterestView:
    name: str
    others: tuple[PersonRef, ...]  # other members who share it


@dataclass(frozen=True, slots=True)
class MemberCard:
    name: str
    url: str
    avatar: ImageView | None
    pronouns: str | None
    location: str | None
    roles: tuple[str, ...]
    interests: tuple[str, ...]
    summary: str


@dataclass(frozen=True, slots=True)
class MemberView:
    id: str
    name: str
    url: str
    avatar: ImageView | None
    handle: str | None
    handle_url: str | None
    pronouns: str | None
    location: str | None
    joined: DateView | None
    roles: tuple[str, ...]
    links: tuple[Link, ...]
    bio_html: str
    interests: tuple[InterestView, ...]
    stories: tuple[StoryLink, ...]
    events: tuple[EventLink, ...]


@dataclass(frozen=True, slots=True)
class TagCount:
    name: str
    url: str
    count: int


@dataclass(frozen=True, slots=True)
class PageLink:
    number: int
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class Pagination:
    number: int
    total: int
    prev: str | None  # newer stories
    next: str | None  # older stories
    pages: tuple[PageLink, ...]


@dataclass(frozen=True, slots=True)
class RulesView:
    title: str
    body_html: str
    updated: DateView | None
    count: int


@dataclass(frozen=True, slots=True)
class PageView:
    title: str
    body_html: str


@dataclass(frozen=True, slots=True)
class CommunityView:
    name: str
    summary: str
    avatar: ImageView | None
    handle: str | None  # shown in the "follow us" box when federation is on
    member_count: int
    story_count: int


# --- builders ----------------------------------------------------------------


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
    return ImageView(url=href(config, static_path(path)), alt=alt)


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
        image=image_view(config, story.image, story.title),
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


def event_card(site: Site, event: Event, recaps: Sequence[Story]) -> EventCard:
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
    )


def member_card(config: SiteConfig, member: Member) -> MemberCard:
    return MemberCard(
        name=member.name,
        url=href(config, urls.member_page(member.id)),
        avatar=image_view(config, member.avatar, member.name),
        pronouns=member.pronouns,
        location=member.location,
        roles=member.roles,
        interests=member.interests,
        summary=member.summary,
    )


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


def chrome_view(site: Site) -> Chrome:
    config = site.config
    nav = [
        NavLink("Stories", href(config, urls.STORIES), "stories"),
        NavLink("Events", href(config, urls.EVENTS), "events"),
        NavLink("Members", href(config, urls.MEMBERS), "members"),
        NavLink("Welcome", href(config, urls.WELCOME), "welcome"),
        NavLink("Rules", href(config, urls.RULES), "rules"),
    ]
    nav += [NavLink(p.title, href(config, urls.page(p.slug)), f"page:{p.slug}") for p in site.pages]
    community = config.community
    return Chrome(
        site_title=config.title,
        tagline=config.description,
        language=config.language,
        home_url=href(config, urls.HOME),
        nav=tuple(nav),
        stylesheets=(href(config, "assets/style.css"), href(config, "assets/highlight.css")),
        feed_atom=config.url(urls.FEED_ATOM),
        feed_json=config.url(urls.FEED_JSON),
        events_ics=href(config, urls.EVENTS_ICS),
        handle=config.fediverse_handle if federation_on(site) else None,
        logo=image_view(config, community.avatar, ""),
    )


def meta_view(
    site: Site,
    path: str,
    title: str | None,
    description: str,
    section: str,
    *,
    og_type: str = "website",
    image: str | None = None,
    activity_path: str | None = None,
    prev: str | None = None,
    next: str | None = None,
    noindex: bool = False,
) -> Meta:
    """`title` None is the home page; `image` a path under static/; `activity_path` a urls path."""
    config = site.config
    avatar = config.community.avatar
    og_image = image or avatar
    return Meta(
        title=title or config.title,
        head_title=f"{title} · {config.title}" if title else config.title,
        description=_clip((description or config.description or config.title).strip(), 300),
        canonical=config.url(path),
        section=section,
        og_type=og_type,
        og_image=config.url(static_path(og_image)) if og_image else None,
        activity_json=(
            config.url(activity_path) if activity_path and federation_on(site) else None
        ),
        prev=prev,
        next=next,
        noindex=noindex,
    )


def _clip(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with "…" when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


_RULE_ITEM = re.compile(r'<li id="rule-(\d+)">')


def rules_view(site: Site) -> RulesView:
    rules = site.rules
    return RulesView(
        title=rules.title,
        body_html=_RULE_ITEM.sub(
            r'<li id="rule-\1"><a class="rule-anchor" href="#rule-\1" '
            r'aria-label="Link to rule \1">#</a>',
            rules.body_html,
        ),
        updated=day_view(rules.updated) if rules.updated else None,
        count=len(rules.items),
    )
