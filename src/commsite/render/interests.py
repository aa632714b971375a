"""The interests pages: /interests/ (every interest of the members) and
/interests/SLUG/ (the members into one, with the stories and events tagged
with it). See topics.py for how interests and tags meet.

An interest page is about the people: it shows the newest INTEREST_STORIES
stories and the first INTEREST_EVENTS events (upcoming, then the latest past)
and links to the tag page for all of them, so that a big site's interest pages
do not repeat its tag pages. `interest_pages` plans them through the page memo
like the tag pages: an interest page's key holds the shared parts (config,
chrome, members), its name, the stories and events' cards it shows and how
many there are; the index has no key (it is made on every plan: one small page).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from commsite import urls
from commsite.content.model import Event, Member, Site, Story
from commsite.render.cards import href, member_card
from commsite.render.head import meta_view
from commsite.render.lookups import SiteIndex
from commsite.render.topics import Topics
from commsite.render.views import InterestCount, Link

if TYPE_CHECKING:
    from commsite.render.pages import Key, PageMemo, PageSpec

__all__ = ["INTEREST_EVENTS", "INTEREST_STORIES", "interest_counts", "interest_pages"]

INTEREST_STORIES = 6
INTEREST_EVENTS = 4


def interest_counts(site: Site, found: Topics) -> tuple[InterestCount, ...]:
    """Every interest with how many members are into it and how many stories and
    events are tagged with it, by name."""
    config = site.config
    return tuple(
        InterestCount(
            name=name,
            url=href(config, urls.interest_page(slug)),
            slug=slug,
            members=len(found.members.get(slug, ())),
            items=len(found.stories.get(slug, ())) + len(found.events.get(slug, ())),
        )
        for slug, name in sorted(found.interests.items(), key=lambda kv: (kv[1].casefold(), kv[0]))
    )


def interest_pages(
    site: Site,
    index: SiteIndex,
    found: Topics,
    memo: PageMemo,
    shared: Key,
    event_cards: Callable[[tuple[Event, ...]], Key],
    spec: Callable[..., PageSpec],
) -> list[PageSpec]:
    """The index and one page per interest. `event_cards`: the key part of a list of
    event cards (pages.keys.PageKeys.event_cards); `spec`: pages.spec.page_spec."""
    config = site.config
    specs = [
        spec(
            index,
            urls.INTERESTS,
            "interests.html",
            meta=meta_view(
                site,
                urls.INTERESTS,
                "Interests",
                f"What the members of {config.title} are into",
                "members",
            ),
            interests=interest_counts(site, found),
            members_url=href(config, urls.MEMBERS),
        )
    ]
    for slug, name in found.interests.items():
        stories = found.stories.get(slug, ())
        events = found.events.get(slug, ())
        shown = (stories[:INTEREST_STORIES], events[:INTEREST_EVENTS])
        tag = found.tags.get(slug)
        total = len(stories) + len(events)
        key = (shared, name, shown[0], event_cards(shown[1]), total, tag)
        make = partial(
            _interest,
            site,
            index,
            spec,
            slug,
            name,
            found.members.get(slug, ()),
            shown[0],
            shown[1],
            total,
            tag,
        )
        specs.append(memo.spec(urls.interest_page(slug), "interest.html", key, make))
    return specs


def _interest(
    site: Site,
    index: SiteIndex,
    spec: Callable[..., PageSpec],
    slug: str,
    name: str,
    members: tuple[Member, ...],
    stories: tuple[Story, ...],
    events: tuple[Event, ...],
    total: int,
    tag: str | None,
) -> PageSpec:
    config = site.config
    path = urls.interest_page(slug)
    people = "member" if len(members) == 1 else "members"
    return spec(
        index,
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
        stories=tuple(index.story_card(site, s) for s in stories),
        events=tuple(index.event_card(site, e) for e in events),
        tag=Link(f"#{tag}", href(config, urls.tag_page(slug))) if tag is not None else None,
        tagged=total,  # stories and events in all; the tag page lists them
    )
