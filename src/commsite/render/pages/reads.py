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

from collections.abc import Callable, Mapping
from typing import Any

from commsite.content.attendance import Attendance
from commsite.content.model import Event, Introduction, Member, Page, Reply, Rules, Site, Story
from commsite.render.cards import story_card
from commsite.render.lookups import SiteIndex
from commsite.render.pages.queries import QUERIES, SOURCES, TOPIC_QUERIES
from commsite.render.said import SaidView, said_views
from commsite.render.threads import InteractionIndex
from commsite.render.topics import Topics
from commsite.render.views import Chrome, EventCard, PersonRef, StoryCard

__all__ = ["QUERIES", "SOURCES", "Queries", "Read", "ReadValues", "SiteReads"]

Read = tuple[str, str]  # (query name, argument)
Recorded = tuple[tuple[Read, object], ...]  # each read with the value it gave


Queries = Mapping[str, Callable[[Site, SiteIndex, str], object]]
Cards = dict[str, tuple[Story, StoryCard]]  # story slug -> (the story, its card)


class ReadValues:
    """The answers of one plan's site to any recorded read, each asked once.
    `topics`: the site's tags and interests (topics.py), which the plan has found.
    `cards`: the story cards made so far (`story_card`), last plan's when what every
    page shares is unchanged (PageMemo.begin), so that a list page made again
    makes only the cards of the stories an edit changed; `reprs`: the cards'
    repr()s, by id, which the build's fingerprints take (build/fingerprint.py
    ReprMemo), kept as long as the cards. `queries`: what it answers (the pages'
    QUERIES; the build's plans add the generated documents', build/document_queries.py)."""

    __slots__ = ("_cards", "_known", "_queries", "index", "reprs", "site", "topics")

    def __init__(
        self,
        site: Site,
        index: SiteIndex,
        topics: Topics | None = None,
        cards: Cards | None = None,
        reprs: dict[int, tuple[object, str]] | None = None,
        queries: Queries = QUERIES,
    ) -> None:
        self.site = site
        self.index = index
        self.topics = topics
        self._known: dict[Read, object] = {}
        self._cards: Cards = {} if cards is None else cards
        self.reprs: dict[int, tuple[object, str]] = {} if reprs is None else reprs
        self._queries = queries

    def value(self, read: Read) -> object:
        found = self._known.get(read, self)
        if found is self:
            query, argument = read
            topical = TOPIC_QUERIES.get(query)
            if topical is None:
                found = self._queries[query](self.site, self.index, argument)
            else:
                found = None if self.topics is None else topical(self.topics, argument)
            self._known[read] = found
        return found

    def story_card(self, story: Story) -> StoryCard:
        """The card of `story`: a function of the story and of what every page shares."""
        found = self._cards.get(story.slug)
        if found is not None and found[0] is story:
            return found[1]
        card = story_card(self.site, story, self.index.refs)
        if found is not None:
            self.reprs.pop(id(found[1]), None)
        self._cards[story.slug] = (story, card)
        return card

    def cards(self) -> Cards:
        return self._cards

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

    def _tuple(self, query: str, argument: str) -> tuple[Any, ...]:
        found = self._read(query, argument)
        assert isinstance(found, tuple), (query, argument)
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
        return self._tuple("recaps", slug)

    def thread(self, target: str) -> InteractionIndex:
        """The interactions, of which the caller reads the thread of `target` only
        (its replies, reactions and reactors: render.threads.thread_view)."""
        self._read("thread", target)
        return self._values.index.interactions

    def attendance(self, slug: str) -> Attendance:
        self._read("attendance", slug)
        return self._values.index.attendance.of(self.event(slug))

    def story_card(self, story: Story) -> StoryCard:
        """The card of a story the page has read (by another query: `tag`,
        `story_list`, `newest` ...); the card shows nothing else of the site."""
        return self._values.story_card(story)

    def event_card(self, slug: str) -> EventCard:
        self._read("event_card", slug)
        return self._values.index.event_card(self._values.site, self.event(slug))

    def newest(self, count: int) -> tuple[Story, ...]:
        """The newest `count` stories."""
        return self._tuple("newest", str(count))

    def story_count(self) -> int:
        found = self._read("story_count", "")
        assert isinstance(found, int)
        return found

    def upcoming(self, count: int) -> tuple[Event, ...]:
        """The `count` soonest upcoming events."""
        return self._tuple("upcoming", str(count))

    def introductions(
        self, count: int | None = None
    ) -> tuple[tuple[Introduction, str | None], ...]:
        """The newest `count` introductions (None: all), each with the id of the
        member who wrote it, if a member did."""
        return self._tuple("introductions", "" if count is None else str(count))

    def conversations(self, count: int) -> tuple[tuple[Reply, str, str, str | None], ...]:
        """The newest `count` replies to this build's stories and events: each with
        the path and title of the page it answers and its author's member id."""
        return self._tuple("conversations", str(count))

    def tag_counts(self) -> tuple[tuple[str, str, int], ...]:
        """Every tag by name: (slug, name, how many stories and events have it)."""
        return self._tuple("tag_counts", "")

    def interest_counts(self) -> tuple[tuple[str, str, int, int], ...]:
        """Every interest by name: (slug, name, members into it, stories and
        events tagged with it)."""
        return self._tuple("interest_counts", "")

    def events(self, which: str) -> tuple[Event, ...]:
        """The upcoming events (soonest first) or the past ones (newest first)."""
        return self._tuple("events", which)

    def member(self, member_id: str) -> Member:
        found = self._read("member", member_id)
        assert isinstance(found, Member), member_id
        return found

    def authored(self, member_id: str) -> tuple[Story, ...]:
        """The member's stories, newest first."""
        return self._tuple("authored", member_id)

    def hosted(self, member_id: str) -> tuple[Event, ...]:
        """The events the member hosts (upcoming soonest first, then past newest
        first); the caller may read whether each is past."""
        found = self._read("hosted", member_id)
        assert isinstance(found, tuple)
        events: tuple[Event, ...] = found[0]
        return events

    def into(self, interest: str) -> tuple[Member, ...]:
        """The members into an interest (by slugs.tag_key), by name."""
        return self._tuple("into", interest)

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

    def tag(self, slug: str) -> tuple[str, tuple[Event, ...], tuple[Member, ...]]:
        """A tag's name shown, its events (upcoming, then past), and the members
        into the interest of the same name."""
        found = self._read("tag", slug)
        assert isinstance(found, tuple) and found[0] is not None, slug
        return found[0], found[1], found[2]

    def tag_stories(self, slug: str, number: int) -> tuple[int, tuple[Story, ...]]:
        """How many pages a tag's stories take, and those of page `number` (site order)."""
        found = self._read("tag_stories", f"{number}:{slug}")
        assert isinstance(found, tuple), (slug, number)
        total: int = found[0]
        stories: tuple[Story, ...] = found[1]
        return total, stories

    def interest(
        self, slug: str
    ) -> tuple[str, tuple[Member, ...], tuple[Story, ...], tuple[Event, ...], int, str | None]:
        """What an interest's page shows (interests.interest_shown)."""
        return self._tuple("interest", slug)
