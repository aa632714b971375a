"""What plan_pages looks up again and again, computed once per plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from commsite.content.attendance import AttendanceIndex, attendance_index
from commsite.content.model import Event, Member, Site, Story
from commsite.render.cards import event_card, is_past, person_ref
from commsite.render.head import chrome_view
from commsite.render.threads import InteractionIndex, index_interactions
from commsite.render.views import Chrome, EventCard, PersonRef
from commsite.slugs import tag_key

__all__ = ["SiteIndex", "index_site"]


@dataclass(frozen=True, slots=True)
class SiteIndex:
    """Lookups computed once per plan, and event cards memoised as pages ask for them."""

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
    event_cards: dict[str, EventCard]  # memo: slug -> card, filled on demand
    attendance: AttendanceIndex = field(default_factory=lambda: AttendanceIndex({}))

    def event_card(self, site: Site, event: Event) -> EventCard:
        card = self.event_cards.get(event.slug)
        if card is None:
            going = len(self.attendance.of(event).going)
            card = event_card(site, event, self.recaps.get(event.slug, ()), going)
            self.event_cards[event.slug] = card
        return card


def index_site(site: Site) -> SiteIndex:
    """The lookups of `site`."""
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
        refs={m.id: person_ref(site.config, m) for m in site.members},
        event_cards={},
        attendance=attendance_index(site.events, site.members, site.interactions),
    )
