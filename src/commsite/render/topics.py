"""Topics: the tags of stories and events and the interests of members, by slug.

A tag and an interest are the same topic when their slugs are equal
("Repair Café" and "repair cafe" -> "repair-cafe"): the tag page then lists the
members into it, and the interest page the stories and events tagged with it.
Computed once per plan (`topics`), pure.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

from commsite.content.model import Event, Member, Site, Story
from commsite.slugs import slugify
from commsite.urls import page_count

__all__ = ["Topics", "shown_names", "tag_page_count", "tag_slugs", "topics"]


@dataclass(frozen=True, slots=True)
class Topics:
    tags: Mapping[str, str]  # tag slug -> the name shown for it, sorted by slug
    interests: Mapping[str, str]  # interest slug -> the name shown for it, sorted by slug
    stories: Mapping[str, tuple[Story, ...]]  # slug -> stories tagged with it, in site order
    events: Mapping[str, tuple[Event, ...]]  # slug -> events tagged with it, upcoming then past
    members: Mapping[str, tuple[Member, ...]]  # slug -> members into it, by name
    per_page: int = 10  # stories on each page of a tag (the site's per_page)


@lru_cache(maxsize=65536)  # stories share their tag lists (4,096 thrashed at 10,000 stories)
def tag_slugs(tags: tuple[str, ...]) -> tuple[str, ...]:
    """The topic pages an item with `tags` (or a member with these interests) is
    listed on, each once."""
    return tuple(dict.fromkeys(slugify(t) for t in tags))


def shown_names(words: Iterable[str]) -> dict[str, str]:
    """Slug -> the spelling used most often (ties: the first in sort order), sorted by slug."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for word, count in Counter(words).items():
        spellings[slugify(word)][word] += count
    return {
        slug: min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        for slug, counter in sorted(spellings.items())
    }


def topics(site: Site, upcoming: Iterable[Event], past: Iterable[Event]) -> Topics:
    """The site's topics; `upcoming` and `past`: its events in the order pages list them."""
    stories: dict[str, list[Story]] = defaultdict(list)
    events: dict[str, list[Event]] = defaultdict(list)
    members: dict[str, list[Member]] = defaultdict(list)
    for story in site.stories:
        for slug in tag_slugs(story.tags):
            stories[slug].append(story)
    for event in chain(upcoming, past):
        for slug in tag_slugs(event.tags):
            events[slug].append(event)
    for member in sorted(site.members, key=lambda m: (m.name.casefold(), m.id)):
        for slug in tag_slugs(member.interests):
            members[slug].append(member)
    tags = chain(
        chain.from_iterable(s.tags for s in site.stories),
        chain.from_iterable(e.tags for e in site.events),
    )
    return Topics(
        tags=shown_names(tags),
        interests=shown_names(chain.from_iterable(m.interests for m in site.members)),
        stories={k: tuple(v) for k, v in stories.items()},
        events={k: tuple(v) for k, v in events.items()},
        members={k: tuple(v) for k, v in members.items()},
        per_page=max(1, site.config.per_page),
    )


def tag_page_count(found: Topics, slug: str) -> int:
    """How many pages a tag's stories take (one at least: its events and members)."""
    return page_count(len(found.stories.get(slug, ())), found.per_page)
