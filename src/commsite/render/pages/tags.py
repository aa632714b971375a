"""The tag index and one page per tag."""

from __future__ import annotations

from functools import partial

from commsite import urls
from commsite.render.cards import href
from commsite.render.head import meta_view
from commsite.render.pages.reads import SiteReads
from commsite.render.pages.spec import PageMemo, PageSpec, recorded_spec
from commsite.render.topics import Topics
from commsite.render.views import TagCount

__all__ = ["tag_pages"]


def tag_pages(memo: PageMemo, found: Topics) -> list[PageSpec]:
    """The tag index and one page per tag."""
    specs = [memo.recorded(urls.TAGS, "tags.html", _index)]
    for slug in found.tags:
        specs.append(memo.recorded(urls.tag_page(slug), "tag.html", partial(_tag, slug)))
    return specs


def _index(reads: SiteReads) -> PageSpec:
    site = reads.site
    config = site.config
    return recorded_spec(
        reads,
        urls.TAGS,
        "tags.html",
        meta=meta_view(site, urls.TAGS, "Tags", f"Topics on {config.title}", "stories"),
        tags=tuple(
            TagCount(name, href(config, urls.tag_page(slug)), count)
            for slug, name, count in reads.tag_counts()
        ),
    )


def _tag(slug: str, reads: SiteReads) -> PageSpec:
    site = reads.site
    name, stories, events, members = reads.tag(slug)
    path = urls.tag_page(slug)
    story_cards = tuple(reads.story_card(s) for s in stories)
    event_cards = tuple(reads.event_card(e.slug) for e in events)
    return recorded_spec(
        reads,
        path,
        "tag.html",
        meta=meta_view(
            site, path, f"Tagged “{name}”", f"Stories and events about {name}", "stories"
        ),
        tag=name,
        tags_url=href(site.config, urls.TAGS),
        stories=story_cards,
        events=event_cards,
        members=tuple(reads.refs[m.id] for m in members),
        interest_url=href(site.config, urls.interest_page(slug)) if members else None,
    )
