"""The site model: what the loader produces and everything downstream reads.

All frozen dataclasses. Datetimes are timezone-aware. Markdown bodies are
already rendered to HTML (`*_html`); plain-text summaries are derived from the
body when the front matter has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from commsite.config import SiteConfig
from commsite.content.left_out import LeftOut

__all__ = [
    "RSVP_ANSWERS",
    "RSVP_WAYS",
    "Event",
    "Interactions",
    "Introduction",
    "LeftOut",
    "Location",
    "Member",
    "Page",
    "Reaction",
    "Reactor",
    "Reply",
    "Rsvp",
    "Rules",
    "Site",
    "Story",
]

EVENT_STATUSES = ("scheduled", "cancelled", "postponed")


@dataclass(frozen=True, slots=True)
class Member:
    id: str  # file stem
    name: str
    bio_html: str
    source: str  # path relative to the site root
    handle: str | None = None  # "@user@host"
    pronouns: str | None = None
    interests: tuple[str, ...] = ()
    location: str | None = None
    joined: date | None = None
    roles: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (label, url), in file order
    avatar: str | None = None  # path under static/
    summary: str = ""  # plain text, derived from the bio


@dataclass(frozen=True, slots=True)
class Story:
    slug: str
    title: str
    date: datetime  # aware; a bare date is midnight in the site's time zone
    body_html: str
    summary: str  # plain text; derived from the body when absent
    source: str
    authors: tuple[str, ...] = ()  # member ids
    tags: tuple[str, ...] = ()
    event: str | None = None  # event id this story recaps
    image: str | None = None  # path under static/
    draft: bool = False
    future: bool = False  # dated after the build time (only present with --future)
    updated: datetime | None = None
    image_alt: str | None = None  # what the image shows, for who cannot see it
    # When it last changed (updated, else its date) as a POSIX timestamp: the
    # sitemap's lastmod, asked of every story on each rebuild (feeds/sitemap.py).
    lastmod: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lastmod", (self.updated or self.date).timestamp())


@dataclass(frozen=True, slots=True)
class Location:
    name: str
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    slug: str  # the event id
    title: str
    start: datetime  # aware
    body_html: str
    summary: str
    source: str
    end: datetime | None = None
    location: Location | None = None
    online: str | None = None
    hosts: tuple[str, ...] = ()  # member ids
    capacity: int | None = None
    status: str = "scheduled"
    tags: tuple[str, ...] = ()
    image: str | None = None
    image_alt: str | None = None  # what the image shows, for who cannot see it

    @property
    def finishes(self) -> datetime:
        return self.end or self.start


@dataclass(frozen=True, slots=True)
class Rules:
    title: str
    body_html: str  # list items of the first top-level ordered list carry id="rule-N"
    items: tuple[str, ...]  # plain text of each rule, in order: items[0] is rule `first`
    source: str
    updated: date | None = None
    # The number the list gives its first rule, as written ("3. Be kind" -> 3; may
    # be 0): rule N is the one the reader sees numbered N, anchored "rule-N".
    first: int = 1

    @property
    def numbers(self) -> range:
        """The rule numbers that exist: first, first + 1, ... (empty with no rules)."""
        return range(self.first, self.first + len(self.items))


@dataclass(frozen=True, slots=True)
class Page:
    slug: str  # file stem; served at /SLUG/
    title: str
    body_html: str
    summary: str
    source: str


# --- interactions (written by the sidecar's export into interactions/) -------


@dataclass(frozen=True, slots=True)
class Reply:
    id: str  # ActivityPub id of the Note
    target: str  # "stories/SLUG" or "events/SLUG": the thread it belongs to
    in_reply_to: str  # AP id of the parent (our object or another reply)
    author_name: str
    author_handle: str  # "@user@host"
    author_url: str
    content_html: str  # sanitised
    published: datetime
    source: str
    url: str | None = None
    author_avatar: str | None = None
    summary: str | None = None  # content warning
    sensitive: bool = False
    updated: datetime | None = None
    author_actor: str | None = None  # the actor's URL (its ActivityPub id)
    author_webfinger: str | None = None  # FEP-2c59 handle, when its server declares one


@dataclass(frozen=True, slots=True)
class Introduction:
    id: str
    author_name: str
    author_handle: str
    author_url: str
    content_html: str
    published: datetime
    source: str
    url: str | None = None
    author_avatar: str | None = None
    tags: tuple[str, ...] = ()  # hashtags, lowercased, without '#'
    summary: str | None = None
    sensitive: bool = False
    updated: datetime | None = None
    author_actor: str | None = None
    author_webfinger: str | None = None


@dataclass(frozen=True, slots=True)
class Reactor:
    """Who liked or boosted a post (interactions/reactions.yaml, `by:`)."""

    kind: str  # "like" or "boost"
    author_name: str
    author_handle: str  # "@user@host"
    author_url: str
    author_actor: str | None = None
    author_webfinger: str | None = None
    author_avatar: str | None = None


@dataclass(frozen=True, slots=True)
class Reaction:
    target: str  # "stories/SLUG" or "events/SLUG"
    likes: int = 0
    boosts: int = 0
    by: tuple[Reactor, ...] = ()  # older exports and hand-written files have counts only


RSVP_ANSWERS = ("going", "maybe", "not_going")
# How the answer came: a reply with an RSVP word, a vote in the event's poll
# (a Note named after an option), Mobilizon's Join, or Accept/TentativeAccept/
# Reject of the Event (Friendica, Hubzilla).
RSVP_WAYS = ("reply", "poll", "join", "accept", "tentative", "reject")


@dataclass(frozen=True, slots=True)
class Rsvp:
    """One person's answer to one event (interactions/rsvps/SLUG.yaml)."""

    event: str  # the event id (slug)
    answer: str  # one of RSVP_ANSWERS
    author_name: str
    author_handle: str  # "@user@host"
    author_url: str
    answered: datetime  # aware; when the latest answer arrived
    source: str  # path relative to the site root
    via: str = "reply"  # one of RSVP_WAYS
    waiting: bool = False  # "going" beyond the event's capacity: on the waiting list
    public: bool = False  # answered in a public reply: the page may name them
    author_actor: str | None = None
    author_webfinger: str | None = None
    author_avatar: str | None = None
    reply_url: str | None = None  # the public reply that carried the answer


@dataclass(frozen=True, slots=True)
class Interactions:
    replies: tuple[Reply, ...] = ()
    introductions: tuple[Introduction, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    rsvps: tuple[Rsvp, ...] = ()  # sorted by event, then answered, then author_handle


@dataclass(frozen=True, slots=True)
class Site:
    """Everything a build renders. Lists are sorted:

    stories newest first (then slug), members by name (then id), events by start,
    pages by slug.
    """

    root: str  # absolute path of the site directory
    config: SiteConfig
    now: datetime  # the build's "now" (aware, UTC)
    stories: tuple[Story, ...]
    members: tuple[Member, ...]
    events: tuple[Event, ...]
    rules: Rules
    pages: tuple[Page, ...] = ()
    interactions: Interactions = field(default_factory=Interactions)
    public_key_pem: str | None = None  # the community actor's public key, if any
    # The stories the build left out, to tell the organiser; no page shows it
    # (and no page key holds it: it changes when a draft is added, the pages do not).
    left_out: LeftOut = field(default_factory=LeftOut)
