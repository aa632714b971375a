"""What plan_pages looks up again and again, computed once per plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from commsite.content.model import Event, Member, Site, Story
from commsite.render.cards import event_card, is_past, person_ref, story_card
from commsite.render.head import chrome_view
from commsite.render.threads import InteractionIndex, index_interactions
from commsite.render.views import Chrome, EventCard, PersonRef, StoryCard
from commsite.slugs import tag_key

__all__ = ["SiteIndex", "index_site"]


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
    by_interest: Mapping[str, tuple[Member, ...]]  # tag_key(interest) -> members, by name
    chrome: Chrome
    refs: Mapping[str, PersonRef]  # member id -> reference
    story_cards: dict[str, StoryCard]  # memo: slug -> card, filled on demand
    event_cards: dict[str, EventCard]

    def story_card(self, site: Site, story: Story) -> StoryCard:
        card = self.story_cards.get(story.slug)
        if card is None:
            card = self.story_cards[story.slug] = story_card(site, story, self.refs)
        return card

    def event_card(self, site: Site, event: Event) -> EventCard:
        card = self.event_cards.get(event.slug)
        if card is None:
            card = event_card(site, event, self.recaps.get(event.slug, ()))
            self.event_cards[event.slug] = card
        return card


def index_site(site: Site) -> SiteIndex:
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
        interactions=index_interactions(site.interactions),
        events={e.slug: e for e in site.events},
        by_interest={k: tuple(v) for k, v in by_interest.items()},
        chrome=chrome_view(site),
        refs={m.id: person_ref(site.config, m) for m in site.members},
        story_cards={},
        event_cards={},
    )
