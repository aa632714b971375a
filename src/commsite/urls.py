"""Every output path of a site, in one place.

Paths are relative to base_url, without a leading slash, and name directories
with a trailing slash ("stories/x/") where the file written is index.html.
`SiteConfig.url(path)` makes them absolute. The HTML paths follow the content
contract; the federation paths are ours to choose and are reached only by
following links from WebFinger and the actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from commsite.slugs import slugify

T = TypeVar("T")

__all__ = [
    "ACTOR",
    "FOLLOWERS",
    "INBOX",
    "OUTBOX",
    "SHARED_INBOX",
    "event_ics",
    "event_object",
    "event_page",
    "event_poll",
    "interest_page",
    "member_page",
    "output_file",
    "page",
    "page_count",
    "page_items",
    "stories_index",
    "story_object",
    "story_page",
    "tag_page",
]

HOME = ""
STORIES = "stories/"
MEMBERS = "members/"
EVENTS = "events/"
RULES = "rules/"
TAGS = "tags/"
INTERESTS = "interests/"  # the members' interests, one page each
WELCOME = "welcome/"  # the welcome wall of introductions
SEARCH = "search/"  # the search page
SEARCH_INDEX = "pagefind/"  # Pagefind's search bundle (build.search)
FEED_ATOM = "feed.xml"
FEED_JSON = "feed.json"
EVENTS_ICS = "events.ics"
SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
NOT_FOUND = "404.html"

# Federation documents (static, written by the build).
WEBFINGER = ".well-known/webfinger"
HOST_META = ".well-known/host-meta"
NODEINFO_WELL_KNOWN = ".well-known/nodeinfo"
NODEINFO = "nodeinfo/2.1"
ACTOR = "ap/actor"
OUTBOX = "ap/outbox"
# Served by the sidecar (routed to it by the deploy configuration).
INBOX = "ap/inbox"
SHARED_INBOX = "inbox"
FOLLOWERS = "ap/followers"
# Deploy configs (written by the build for the web server, never served).
DEPLOY_DIR = "_deploy/"
HEADERS_FILE = "_headers"
REDIRECTS_FILE = "_redirects"


def outbox_page(n: int) -> str:
    return f"ap/outbox-pages/{n}"


def story_page(slug: str) -> str:
    return f"stories/{slug}/"


def page_count(total: int, per_page: int) -> int:
    """How many pages a list of `total` items takes, `per_page` a page: the number
    of its last page (one at least: an empty list still has its first page)."""
    return max(1, -(-total // per_page))


def page_items(items: Sequence[T], number: int, per_page: int) -> Sequence[T]:
    """The items on page `number` (from 1) of a list, `per_page` a page."""
    return items[(number - 1) * per_page : number * per_page]


def stories_index(page_number: int) -> str:
    return STORIES if page_number == 1 else f"stories/page/{page_number}/"


def tag_page(tag: str, page_number: int = 1) -> str:
    """A page of a tag's stories (the first: the tag's page); takes the tag or its
    slug (slugify is idempotent)."""
    first = f"tags/{slugify(tag)}/"
    return first if page_number == 1 else f"{first}page/{page_number}/"


def interest_page(interest: str) -> str:
    """The page of a members' interest; takes the interest or its slug. An interest
    and a tag with the same slug are the same topic (tag_page links the other way)."""
    return f"interests/{slugify(interest)}/"


def member_page(member_id: str) -> str:
    return f"members/{member_id}/"


def event_page(slug: str) -> str:
    return f"events/{slug}/"


def event_ics(slug: str) -> str:
    """One event's own calendar file, for the "add to calendar" link on its page."""
    return f"events/{slug}/event.ics"


def page(slug: str) -> str:
    return f"{slug}/"


def story_object(slug: str) -> str:
    """The ActivityPub object id path of a story (served as activity+json)."""
    return f"ap/stories/{slug}"


def event_object(slug: str) -> str:
    return f"ap/events/{slug}"


def event_poll(slug: str) -> str:
    """The id path of an event's RSVP poll (a Question; votes are Notes replying to it)."""
    return f"ap/polls/{slug}"


def output_file(path: str) -> str:
    """The file written for a site path: directories get index.html."""
    if path == "" or path.endswith("/"):
        return path + "index.html"
    return path
