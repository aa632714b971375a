"""Template-facing views: what templates see instead of the internal model.

Every view is a frozen dataclass of strings, numbers, booleans, None, tuples
and other views, built by the pure functions of cards.py, head.py and
pages/. A page's context holds only what that page shows, so
`repr(context)` is a faithful fingerprint of the page for incremental builds.
Links are site-absolute paths ("/stories/x/", under the base URL's path);
`canonical` and OpenGraph URLs are absolute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commsite.render.dates import DateView, WhenView
from commsite.render.viewclass import view

if TYPE_CHECKING:  # those modules' views hold PersonRefs from here
    from commsite.render.attendance import AttendanceView, AttendeeView
    from commsite.render.said import SaidView
    from commsite.render.threads import ThreadView

__all__ = [
    "STATUS_LABELS",
    "Chrome",
    "CommunityView",
    "EventCard",
    "EventLink",
    "EventView",
    "ImageView",
    "InterestCount",
    "InterestRef",
    "InterestView",
    "Link",
    "LocationView",
    "MemberCard",
    "MemberView",
    "Meta",
    "NavLink",
    "PageLink",
    "PageView",
    "Pagination",
    "PersonRef",
    "RulesView",
    "SearchView",
    "StoryCard",
    "StoryLink",
    "StoryView",
    "TagCount",
    "TagRef",
]

STATUS_LABELS = {"cancelled": "Cancelled", "postponed": "Postponed"}


@view
class Link:
    title: str
    url: str


@view
class NavLink:
    title: str
    url: str
    section: str  # compared with Meta.section to mark the current entry


@view
class ImageView:
    url: str
    alt: str
    # Known when the build measured the image (render/body_images.py's table):
    # the size as shown, and the WebP variants' srcset ("" when none).
    width: int | None = None
    height: int | None = None
    srcset: str = ""


@view
class PersonRef:
    name: str
    url: str | None
    avatar: ImageView | None = None


@view
class TagRef:
    name: str
    url: str


@view
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


@view
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


@view
class StoryLink:
    title: str
    url: str
    date: DateView


@view
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


@view
class EventLink:
    title: str
    url: str
    when: WhenView
    past: bool
    status_label: str | None


@view
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
    going: int = 0  # answered "going" and have a place


@view
class LocationView:
    name: str
    address: str | None
    url: str | None


@view
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
    # A recap of a past event: the members who had a place, and how many others
    was_there: tuple[AttendeeView, ...] = ()
    was_there_others: int = 0


@view
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
    calendar_url: str  # the site's whole calendar (events.ics)
    # This event's own calendar (urls.event_ics), linked only when the build
    # writes one: has_event_calendar.
    event_calendar_url: str
    has_event_calendar: bool
    thread: ThreadView
    attendance: AttendanceView | None = None


@view
class InterestRef:
    """A link to an interest's page (/interests/SLUG/); `slug` also keys the
    members directory's filter."""

    name: str
    url: str
    slug: str


@view
class InterestCount:
    name: str
    url: str
    slug: str
    members: int  # members into it
    items: int  # stories and events tagged with it


@view
class InterestView:
    name: str
    others: tuple[PersonRef, ...]  # other members who share it
    url: str = ""  # its interest page


@view
class MemberCard:
    name: str
    url: str
    avatar: ImageView | None
    pronouns: str | None
    location: str | None
    roles: tuple[str, ...]
    interests: tuple[InterestRef, ...]
    summary: str


@view
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
    said: tuple[SaidView, ...] = ()  # their newest replies and introductions
    said_count: int = 0  # all of them


@view
class TagCount:
    name: str
    url: str
    count: int


@view
class PageLink:
    number: int
    url: str
    current: bool


@view
class Pagination:
    number: int
    total: int
    prev: str | None  # newer stories
    next: str | None  # older stories
    pages: tuple[PageLink, ...]


@view
class RulesView:
    title: str
    body_html: str
    updated: DateView | None
    count: int


@view
class PageView:
    title: str
    body_html: str


@view
class CommunityView:
    name: str
    summary: str
    avatar: ImageView | None
    handle: str | None  # shown in the "follow us" box when federation is on
    member_count: int
    story_count: int


@view
class SearchView:
    bundle_url: str  # the Pagefind bundle's folder ("/pagefind/")
    base_url: str  # the site's base path, which Pagefind's result URLs are under
    tags_url: str
    interests_url: str
    script_url: str
    stylesheet_url: str
