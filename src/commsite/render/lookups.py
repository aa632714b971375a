"""What plan_pages looks up again and again, computed once per plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from commsite.content.attendance import AttendanceIndex, attendance_index
from commsite.content.model import Event, Member, Site, Story
from commsite.render.cards import event_card, is_past, person_ref, story_card
from commsite.render.head import chrome_view
from commsite.render.threads import InteractionIndex, index_interactions
from commsite.render.views import Chrome, EventCard, PersonRef, StoryCard
from commsite.slugs import tag_key

__all__ = ["CardMemo", "SiteIndex", "index_site"]


class CardMemo:
    """Story cards kept from one plan to the next (by a long-lived builder), with
    their repr (what page fingerprints digest).

    A card is made from its story, the config and the members' references; it is
    given again while its story is the same object and the config and members
    are too. Listing pages (a tag page shows a thousand cards on a big site) then
    reuse the cards of the stories an edit left alone."""

    def __init__(self) -> None:
        self._basis: tuple[object, object] | None = None  # the config and members of `refs`
        self.refs: Mapping[str, PersonRef] = {}
        self._cards: dict[str, tuple[Story, StoryCard]] = {}  # by story slug
        self.reprs: dict[int, tuple[object, str]] = {}  # id(card) -> (the card, its repr)

    def begin(self, site: Site) -> Mapping[str, PersonRef]:
        """The members' references for this plan (last plan's, when equal)."""
        if self._basis is None or (self._basis[0], self._basis[1]) != (site.config, site.members):
            self._basis = (site.config, site.members)
            self.refs = {m.id: person_ref(site.config, m) for m in site.members}
            self._cards, self.reprs = {}, {}
        return self.refs

    def story_card(self, site: Site, story: Story) -> StoryCard:
        found = self._cards.get(story.slug)
        if found is not None and found[0] is story:
            return found[1]
        if found is not None:
            del self.reprs[id(found[1])]
        card = story_card(site, story, self.refs)
        self._cards[story.slug] = (story, card)
        self.reprs[id(card)] = (card, repr(card))
        return card


@dataclass(frozen=True, slots=True)
class SiteIndex:
    """Lookups computed once per plan, and cards memoised as pages ask for them."""

    members: Mapping[str, Member]
    stories_by_author: Mapping[str, tuple[Story, ...]]
    recaps: Mapping[str, tuple[Story, ...]]  # event id -> its recap stories, newest first
    events_by_host: Mapping[str, tuple[Event, ...]]
    upcoming: tuple[Event, ...]  # soonest first
    past: tuple[Event, ...]  # newest first
    interactions: InteractionIndex
    events: Mapping[str, Event]
    stories: Mapping[str, Story]  # by slug
    positions: Mapping[str, int]  # story slug -> its place in site.stories
    by_interest: Mapping[str, tuple[Member, ...]]  # tag_key(interest) -> members, by name
    chrome: Chrome
    refs: Mapping[str, PersonRef]  # member id -> reference
    story_cards: dict[str, StoryCard]  # memo: slug -> card, filled on demand
    event_cards: dict[str, EventCard]
    kept: CardMemo | None = None  # cards kept between plans
    attendance: AttendanceIndex = field(default_factory=lambda: AttendanceIndex({}))

    def story_card(self, site: Site, story: Story) -> StoryCard:
        card = self.story_cards.get(story.slug)
        if card is None:
            kept = self.kept
            card = kept.story_card(site, story) if kept else story_card(site, story, self.refs)
            self.story_cards[story.slug] = card
        return card

    def event_card(self, site: Site, event: Event) -> EventCard:
        card = self.event_cards.get(event.slug)
        if card is None:
            going = len(self.attendance.of(event).going)
            card = event_card(site, event, self.recaps.get(event.slug, ()), going)
            self.event_cards[event.slug] = card
        return card


def index_site(site: Site, cards: CardMemo | None = None) -> SiteIndex:
    """The lookups of `site`; `cards`: story cards kept between plans."""
    by_author: dict[str, list[Story]] = defaultdict(list)
    recaps: dict[str, list[Story]] = defaultdict(list)
    for story in site.stories:
        for author in story.authors:
            by_author[author].append(story)
        if story.event:
            recaps[story.event].append(story)
    upcoming = tuple(
        sorted((e for e in site.events if not is_past(site, e)), key=lambda e: (e.start, e.slug))
    )
    past = tuple(
        sorted(
            (e for e in site.events if is_past(site, e)),
            key=lambda e: (e.start, e.slug),
            reverse=True,
        )
    )
    by_host: dict[str, list[Event]] = defaultdict(list)
    for event in upcoming + past:
        for host in event.hosts:
            by_host[host].append(event)
    by_interest: dict[str, list[Member]] = defaultdict(list)
    for member in site.members:
        for key in dict.fromkeys(tag_key(i) for i in member.interests):
            by_interest[key].append(member)
    return SiteIndex(
        members={m.id: m for m in site.members},
        stories_by_author={k: tuple(v) for k, v in by_author.items()},
        recaps={k: tuple(v) for k, v in recaps.items()},
        events_by_host={k: tuple(v) for k, v in by_host.items()},
        upcoming=upcoming,
        past=past,
        interactions=index_interactions(site.interactions, site.members),
        events={e.slug: e for e in site.events},
        stories={s.slug: s for s in site.stories},
        positions={s.slug: i for i, s in enumerate(site.stories)},
        by_interest={k: tuple(v) for k, v in by_interest.items()},
        chrome=chrome_view(site),
        refs=(
            cards.begin(site)
            if cards is not None
            else {m.id: person_ref(site.config, m) for m in site.members}
        ),
        story_cards={},
        event_cards={},
        kept=cards,
        attendance=attendance_index(site.events, site.members, site.interactions),
    )
