"""The tag index and one page per tag."""

from __future__ import annotations

from functools import partial

from commsite import urls
from commsite.content.model import Event, Member, Site, Story
from commsite.render.cards import href
from commsite.render.head import meta_view
from commsite.render.lookups import SiteIndex
from commsite.render.pages.keys import PageKeys
from commsite.render.pages.spec import PageMemo, PageSpec, page_spec
from commsite.render.topics import Topics
from commsite.render.views import TagCount

__all__ = ["tag_pages"]


def tag_pages(
    site: Site, index: SiteIndex, memo: PageMemo, keys: PageKeys, found: Topics
) -> list[PageSpec]:
    config = site.config
    names = found.tags

    def stories(slug: str) -> tuple[Story, ...]:
        return found.stories.get(slug, ())

    def events(slug: str) -> tuple[Event, ...]:
        return found.events.get(slug, ())

    counts = tuple(
        TagCount(name, href(config, urls.tag_page(slug)), len(stories(slug)) + len(events(slug)))
        for slug, name in sorted(names.items(), key=lambda kv: (kv[1].casefold(), kv[0]))
    )
    specs = [
        page_spec(
            index,
            urls.TAGS,
            "tags.html",
            meta=meta_view(site, urls.TAGS, "Tags", f"Topics on {config.title}", "stories"),
            tags=counts,
        )
    ]
    for slug, name in names.items():
        # The members into it are read from the members, in the shared key.
        interest = found.interests.get(slug)
        key = (keys.shared, name, stories(slug), keys.event_cards(events(slug)), interest)
        make = partial(
            _tag,
            site,
            index,
            slug,
            name,
            stories(slug),
            events(slug),
            found.members.get(slug, ()),
        )
        specs.append(memo.spec(urls.tag_page(slug), "tag.html", key, make))
    return specs


def _tag(
    site: Site,
    index: SiteIndex,
    slug: str,
    name: str,
    stories: tuple[Story, ...],
    events: tuple[Event, ...],
    members: tuple[Member, ...],
) -> PageSpec:
    path = urls.tag_page(slug)
    return page_spec(
        index,
        path,
        "tag.html",
        meta=meta_view(
            site, path, f"Tagged “{name}”", f"Stories and events about {name}", "stories"
        ),
        tag=name,
        tags_url=href(site.config, urls.TAGS),
        stories=tuple(index.story_card(site, s) for s in stories),
        events=tuple(index.event_card(site, e) for e in events),
        members=tuple(index.refs[m.id] for m in members),
        interest_url=href(site.config, urls.interest_page(slug)) if members else None,
    )
