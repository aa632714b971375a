"""The interests pages: /interests/ (every interest of the members) and
/interests/SLUG/ (the members into one, with the stories and events tagged
with it). See topics.py for how interests and tags meet.

An interest page is about the people: it shows the newest INTEREST_STORIES
stories and the first INTEREST_EVENTS events (upcoming, then the latest past)
and links to the tag page for all of them, so that a big site's interest pages
do not repeat its tag pages. `interest_pages` plans them through the page memo
like the tag pages: an interest page records what it reads (its interest's
members, shown stories and events and how many there are, the events' cards:
render/pages/reads.py), and so does the index (every interest's counts).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Event, Member, Story
from commsite.render.cards import href, member_card
from commsite.render.head import meta_view
from commsite.render.topics import Topics
from commsite.render.views import InterestCount, Link

if TYPE_CHECKING:
    from commsite.render.pages import PageMemo, PageSpec
    from commsite.render.pages.reads import SiteReads

__all__ = ["INTEREST_EVENTS", "INTEREST_STORIES", "interest_counts", "interest_pages"]

INTEREST_STORIES = 6
INTEREST_EVENTS = 4


def interest_counts(
    config: SiteConfig, counts: tuple[tuple[str, str, int, int], ...]
) -> tuple[InterestCount, ...]:
    """Every interest with how many members are into it and how many stories and
    events are tagged with it (`counts`: SiteReads.interest_counts)."""
    return tuple(
        InterestCount(
            name=name,
            url=href(config, urls.interest_page(slug)),
            slug=slug,
            members=members,
            items=items,
        )
        for slug, name, members, items in counts
    )


def interest_pages(
    found: Topics, memo: PageMemo, recorded: Callable[..., PageSpec]
) -> list[PageSpec]:
    """The index and one page per interest. `recorded`: pages.spec.recorded_spec
    (passed in: render.pages imports this)."""
    specs = [memo.recorded(urls.INTERESTS, "interests.html", partial(_index, recorded))]
    for slug in found.interests:
        make = partial(_interest, recorded, slug)
        specs.append(memo.recorded(urls.interest_page(slug), "interest.html", make))
    return specs


def _index(recorded: Callable[..., PageSpec], reads: SiteReads) -> PageSpec:
    site = reads.site
    config = site.config
    return recorded(
        reads,
        urls.INTERESTS,
        "interests.html",
        meta=meta_view(
            site,
            urls.INTERESTS,
            "Interests",
            f"What the members of {config.title} are into",
            "members",
        ),
        interests=interest_counts(config, reads.interest_counts()),
        members_url=href(config, urls.MEMBERS),
    )


def interest_shown(
    found: Topics, slug: str
) -> tuple[str, tuple[Member, ...], tuple[Story, ...], tuple[Event, ...], int, str | None] | None:
    """What an interest's page shows: its name, the members into it, the newest
    stories and first events of its topic, how many those are in all, and the
    tag's name (when stories or events have it)."""
    name = found.interests.get(slug)
    if name is None:
        return None
    stories = found.stories.get(slug, ())
    events = found.events.get(slug, ())
    return (
        name,
        found.members.get(slug, ()),
        stories[:INTEREST_STORIES],
        events[:INTEREST_EVENTS],
        len(stories) + len(events),
        found.tags.get(slug),
    )


def _interest(recorded: Callable[..., PageSpec], slug: str, reads: SiteReads) -> PageSpec:
    site = reads.site
    config = site.config
    name, members, stories, events, total, tag = reads.interest(slug)
    path = urls.interest_page(slug)
    people = "member" if len(members) == 1 else "members"
    story_cards = tuple(reads.story_card(s) for s in stories)
    event_cards = tuple(reads.event_card(e.slug) for e in events)
    return recorded(
        reads,
        path,
        "interest.html",
        meta=meta_view(
            site,
            path,
            f"Into {name}",
            f"{len(members)} {people} of {config.title} into {name}, and what we wrote about it",
            "members",
        ),
        interest=name,
        interests_url=href(config, urls.INTERESTS),
        members=tuple(member_card(config, m) for m in members),
        stories=story_cards,
        events=event_cards,
        tag=Link(f"#{tag}", href(config, urls.tag_page(slug))) if tag is not None else None,
        tagged=total,  # stories and events in all; the tag page lists them
    )
