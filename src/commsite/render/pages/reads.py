"""The site as a page function reads it: named queries, each call recorded.

A page function that takes a `SiteReads` asks it for what the page is made
from (`reads.event(slug)`, `reads.recaps(slug)`, `reads.is_past(slug)` ...)
instead of looking into the Site. Each call is noted as a `Read`, a query name
and its argument; the page's record is the set of reads its function made
(`SiteReads.record`: each read with the value it gave). A later plan asks the
same queries of the new site (`ReadValues.value`) and makes the page again
only when a value differs, so what decides a page's freshness is what its
function actually read: a page function that starts reading something new
(another story, a field of its event) is kept fresh with no other change.

What every page shares is not recorded: the config, the chrome, whether the
site federates and the members (their names and links are on most pages)
are in the shared key (PageMemo.begin), and `reads.site` is there for helpers
that read only those (meta_view, href, image_view, federation_on).

Values compare with `==` within one process (an unchanged file keeps its model
object, so that is an identity check); across processes the build digests them
(build/pagekeys.py: a model object by its file's parse key, anything else by
its repr) and keeps the reads in the build record (build/page_outputs.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from commsite.content.attendance import Attendance
from commsite.content.model import Event, Member, Page, Rules, Site, Story
from commsite.render.cards import is_past
from commsite.render.interests import interest_shown
from commsite.render.lookups import SiteIndex
from commsite.render.said import SaidView, said_key, said_views
from commsite.render.threads import InteractionIndex
from commsite.render.topics import Topics
from commsite.render.views import Chrome, EventCard, PersonRef

__all__ = ["QUERIES", "SOURCES", "Read", "ReadValues", "SiteReads"]

Read = tuple[str, str]  # (query name, argument)
Recorded = tuple[tuple[Read, object], ...]  # each read with the value it gave


def _event(site: Site, index: SiteIndex, slug: str) -> object:
    return index.events.get(slug)


def _story(site: Site, index: SiteIndex, slug: str) -> object:
    return index.stories.get(slug)


def _rules(site: Site, index: SiteIndex, argument: str) -> object:
    return site.rules


def _free_page(site: Site, index: SiteIndex, slug: str) -> object:
    return next((p for p in site.pages if p.slug == slug), None)


def _neighbours(site: Site, index: SiteIndex, slug: str) -> object:
    """The stories beside one in the site's order, as a story page links them:
    (title, slug) of the older one and of the newer one, or None."""
    position = index.positions.get(slug)
    if position is None:
        return None
    stories = site.stories
    older = stories[position + 1] if position + 1 < len(stories) else None
    newer = stories[position - 1] if position > 0 else None
    return tuple(None if s is None else (s.title, s.slug) for s in (older, newer))


def _story_at(site: Site, index: SiteIndex, position: str) -> object:
    if not (position.isascii() and position.isdigit()) or len(position) > 9:
        return None
    n = int(position)
    return site.stories[n] if n < len(site.stories) else None


def _is_past(site: Site, index: SiteIndex, slug: str) -> object:
    event = index.events.get(slug)
    return event is not None and is_past(site, event)


def _answers_open(site: Site, index: SiteIndex, slug: str) -> object:
    """Whether the event's answers are open: not past, not cancelled, not started."""
    event = index.events.get(slug)
    return (
        event is not None
        and not is_past(site, event)
        and event.status != "cancelled"
        and site.now < event.start
    )


def _recaps(site: Site, index: SiteIndex, slug: str) -> object:
    return index.recaps.get(slug, ())


def _thread(site: Site, index: SiteIndex, target: str) -> object:
    interactions = index.interactions
    return (
        interactions.replies.get(target),
        interactions.reactions.get(target),
        interactions.reactors.get(target),
    )


def _attendance(site: Site, index: SiteIndex, slug: str) -> object:
    return index.attendance.events.get(slug)


def _event_card(site: Site, index: SiteIndex, slug: str) -> object:
    """What an event's card shows: the event, whether it is past, its recaps and
    how many are going (SiteIndex.event_card)."""
    event = index.events.get(slug)
    if event is None:
        return None
    return (
        event,
        _is_past(site, index, slug),
        _recaps(site, index, slug),
        len(index.attendance.of(event).going),
    )


def _member(site: Site, index: SiteIndex, member_id: str) -> object:
    return index.members.get(member_id)


def _authored(site: Site, index: SiteIndex, member_id: str) -> object:
    return index.stories_by_author.get(member_id, ())


def _hosted(site: Site, index: SiteIndex, member_id: str) -> object:
    """The events a member hosts, each with whether it is past (event_link shows it)."""
    hosted = index.events_by_host.get(member_id, ())
    return hosted, tuple(is_past(site, e) for e in hosted)


def _into(site: Site, index: SiteIndex, interest: str) -> object:
    return index.by_interest.get(interest, ())


def _said(site: Site, index: SiteIndex, member_id: str) -> object:
    return said_key(site, index, member_id)


def _story_list(site: Site, index: SiteIndex, number: str) -> object:
    """Page `number` of the story list: how many pages there are, and its stories."""
    if not (number.isascii() and number.isdigit()) or len(number) > 9:
        return None
    per_page = max(1, site.config.per_page)
    total = max(1, math.ceil(len(site.stories) / per_page))
    n = int(number)
    return total, site.stories[(n - 1) * per_page : n * per_page]


def _events_in_order(site: Site, index: SiteIndex, which: str) -> object:
    return index.upcoming if which == "upcoming" else index.past


def _tag(found: Topics | None, slug: str) -> object:
    """What a tag's page shows: its name, its stories and events, and the members
    into the interest of the same name (with the interest's name)."""
    if found is None:
        return None
    return (
        found.tags.get(slug),
        found.stories.get(slug, ()),
        found.events.get(slug, ()),
        found.members.get(slug, ()),
        found.interests.get(slug),
    )


# Every query a page can make: name -> how to answer it. A read is recorded by
# name and argument (strings), so that a later process can ask it again.
QUERIES: Mapping[str, Callable[[Site, SiteIndex, str], object]] = {
    "event": _event,
    "story": _story,
    "story_at": _story_at,
    "neighbours": _neighbours,
    "rules": _rules,
    "page": _free_page,
    "is_past": _is_past,
    "answers_open": _answers_open,
    "recaps": _recaps,
    "thread": _thread,
    "attendance": _attendance,
    "event_card": _event_card,
    "events": _events_in_order,
    "member": _member,
    "authored": _authored,
    "hosted": _hosted,
    "into": _into,
    "said": _said,
    "story_list": _story_list,
    # answered from the topics (ReadValues.value)
    "tag": lambda site, index, slug: None,
    "interest": lambda site, index, slug: None,
}


def _neighbours_by_slug(site: Site, index: SiteIndex) -> Mapping[str, object]:
    stories = site.stories
    shown = [(s.title, s.slug) for s in stories]
    older = [*shown[1:], None]
    newer = [None, *shown[:-1]]
    return {s.slug: (o, n) for s, o, n in zip(stories, older, newer, strict=True)}


# Where some queries answer from, so that a long-lived builder need not ask every
# read again to find what changed (PageMemo.begin): name -> (keyed, source). A
# keyed source is a mapping, and a read's answer is a function of the entry its
# argument names (equal entries: an equal answer); another source is a whole
# (equal to last plan's: every read of the query gives what it gave). A query
# with no source here is asked again for each of its reads on every plan.
SOURCES: Mapping[str, tuple[bool, Callable[[Site, SiteIndex], object]]] = {
    "story": (True, lambda site, index: index.stories),
    "neighbours": (True, _neighbours_by_slug),
    "event": (True, lambda site, index: index.events),
    "member": (True, lambda site, index: index.members),
    "authored": (True, lambda site, index: index.stories_by_author),
    "recaps": (True, lambda site, index: index.recaps),
    "attendance": (True, lambda site, index: index.attendance.events),
    "thread": (False, lambda site, index: site.interactions),
}


class ReadValues:
    """The answers of one plan's site to any recorded read, each asked once.
    `topics`: the site's tags and interests (topics.py), which the plan has found."""

    __slots__ = ("_known", "index", "site", "topics")

    def __init__(self, site: Site, index: SiteIndex, topics: Topics | None = None) -> None:
        self.site = site
        self.index = index
        self.topics = topics
        self._known: dict[Read, object] = {}

    def value(self, read: Read) -> object:
        found = self._known.get(read, self)
        if found is self:
            query, argument = read
            if query == "tag":
                found = _tag(self.topics, argument)
            elif query == "interest":
                found = interest_shown(self.topics, argument) if self.topics else None
            else:
                found = QUERIES[query](self.site, self.index, argument)
            self._known[read] = found
        return found

    def hold(self, recorded: Recorded) -> bool:
        """Whether every read gives the value it gave when it was recorded."""
        value = self.value
        for read, then in recorded:
            now = value(read)
            if now is not then and now != then:
                return False
        return True


class SiteReads:
    """What one page function reads, recorded as it reads it."""

    __slots__ = ("_log", "_values", "site")

    def __init__(self, values: ReadValues) -> None:
        self._values = values
        self.site = values.site  # for helpers reading only the shared parts (see above)
        self._log: dict[Read, object] = {}

    @property
    def index(self) -> SiteIndex:
        return self._values.index

    @property
    def chrome(self) -> Chrome:
        return self._values.index.chrome

    @property
    def refs(self) -> Mapping[str, PersonRef]:
        return self._values.index.refs

    @property
    def members(self) -> tuple[Member, ...]:
        return self._values.site.members

    def record(self) -> Recorded:
        return tuple(self._log.items())

    def _read(self, query: str, argument: str) -> object:
        read = (query, argument)
        found = self._log.get(read, self)
        if found is self:
            found = self._log[read] = self._values.value(read)
        return found

    def event(self, slug: str) -> Event:
        found = self._read("event", slug)
        assert isinstance(found, Event), slug
        return found

    def story(self, slug: str) -> Story | None:
        found = self._read("story", slug)
        return found if isinstance(found, Story) else None

    def neighbours(self, slug: str) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        """(title, slug) of the story older than `slug` and of the newer one, if any."""
        found = self._read("neighbours", slug)
        assert isinstance(found, tuple), slug
        return found[0], found[1]

    def rules(self) -> Rules:
        found = self._read("rules", "")
        assert isinstance(found, Rules)
        return found

    def page(self, slug: str) -> Page:
        """The free page `slug`."""
        found = self._read("page", slug)
        assert isinstance(found, Page), slug
        return found

    def find_event(self, slug: str) -> Event | None:
        """The event `slug`, if there is one."""
        found = self._read("event", slug)
        return found if isinstance(found, Event) else None

    def story_at(self, position: int) -> Story | None:
        """The story at `position` in the site's order (newest first), if any."""
        found = self._read("story_at", str(position))
        return found if isinstance(found, Story) else None

    def is_past(self, slug: str) -> bool:
        return bool(self._read("is_past", slug))

    def answers_open(self, slug: str) -> bool:
        return bool(self._read("answers_open", slug))

    def recaps(self, slug: str) -> tuple[Story, ...]:
        found = self._read("recaps", slug)
        assert isinstance(found, tuple)
        return found

    def thread(self, target: str) -> InteractionIndex:
        """The interactions, of which the caller reads the thread of `target` only
        (its replies, reactions and reactors: render.threads.thread_view)."""
        self._read("thread", target)
        return self._values.index.interactions

    def attendance(self, slug: str) -> Attendance:
        self._read("attendance", slug)
        return self._values.index.attendance.of(self.event(slug))

    def event_card(self, slug: str) -> EventCard:
        self._read("event_card", slug)
        return self._values.index.event_card(self._values.site, self.event(slug))

    def events(self, which: str) -> tuple[Event, ...]:
        """The upcoming events (soonest first) or the past ones (newest first)."""
        found = self._read("events", which)
        assert isinstance(found, tuple)
        return found

    def member(self, member_id: str) -> Member:
        found = self._read("member", member_id)
        assert isinstance(found, Member), member_id
        return found

    def authored(self, member_id: str) -> tuple[Story, ...]:
        """The member's stories, newest first."""
        found = self._read("authored", member_id)
        assert isinstance(found, tuple)
        return found

    def hosted(self, member_id: str) -> tuple[Event, ...]:
        """The events the member hosts (upcoming soonest first, then past newest
        first); the caller may read whether each is past."""
        found = self._read("hosted", member_id)
        assert isinstance(found, tuple)
        events: tuple[Event, ...] = found[0]
        return events

    def into(self, interest: str) -> tuple[Member, ...]:
        """The members into an interest (by slugs.tag_key), by name."""
        found = self._read("into", interest)
        assert isinstance(found, tuple)
        return found

    def said(self, member_id: str) -> tuple[tuple[SaidView, ...], int]:
        """What the member said on the site (render/said.py): the newest items'
        views, and how many there are."""
        self._read("said", member_id)
        values = self._values
        return said_views(values.site, values.index, member_id)

    def story_list(self, number: int) -> tuple[int, tuple[Story, ...]]:
        """How many pages the story list has, and the stories of page `number`."""
        found = self._read("story_list", str(number))
        assert isinstance(found, tuple)
        total: int = found[0]
        stories: tuple[Story, ...] = found[1]
        return total, stories

    def tag(
        self, slug: str
    ) -> tuple[str, tuple[Story, ...], tuple[Event, ...], tuple[Member, ...]]:
        """A tag's name shown, its stories (site order) and events (upcoming, then
        past), and the members into the interest of the same name."""
        found = self._read("tag", slug)
        assert isinstance(found, tuple) and found[0] is not None, slug
        return found[0], found[1], found[2], found[3]

    def interest(
        self, slug: str
    ) -> tuple[str, tuple[Member, ...], tuple[Story, ...], tuple[Event, ...], int, str | None]:
        """What an interest's page shows (interests.interest_shown)."""
        found = self._read("interest", slug)
        assert isinstance(found, tuple), slug
        return found
