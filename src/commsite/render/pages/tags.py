"""The tag index and one page per tag."""

from __future__ import annotations

from functools import partial

from commsite import urls
from commsite.render.cards import href
from commsite.render.head import meta_view
from commsite.render.pages.reads import SiteReads
from commsite.render.pages.spec import PageMemo, PageSpec, recorded_spec
from commsite.render.pages.stories import pager
from commsite.render.topics import Topics, tag_page_count
from commsite.render.views import TagCount

__all__ = ["tag_pages"]


def tag_pages(memo: PageMemo, found: Topics) -> list[PageSpec]:
    """The tag index and the pages of each tag (its stories, per_page a page)."""
    specs = [memo.recorded(urls.TAGS, "tags.html", _index)]
    for slug in found.tags:
        for number in range(1, tag_page_count(found, slug) + 1):
            path = urls.tag_page(slug, number)
            specs.append(memo.recorded(path, "tag.html", partial(_tag, slug, number)))
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


def _tag(slug: str, number: int, reads: SiteReads) -> PageSpec:
    """Page `number` of a tag: its stories; the first also its events and the
    members into the interest of the same name."""
    site = reads.site
    config = site.config
    name, events, members = reads.tag(slug)
    total, stories = reads.tag_stories(slug, number)
    first = number == 1
    path = urls.tag_page(slug, number)
    title = f"Tagged “{name}”" if first else f"Tagged “{name}”, page {number} of {total}"
    pagination = pager(config, number, total, partial(urls.tag_page, slug))
    return recorded_spec(
        reads,
        path,
        "tag.html",
        meta=meta_view(
            site,
            path,
            title,
            f"Stories and events about {name}",
            "stories",
            prev=config.url(urls.tag_page(slug, number - 1)) if pagination.prev else None,
            next=config.url(urls.tag_page(slug, number + 1)) if pagination.next else None,
        ),
        tag=name,
        tags_url=href(config, urls.TAGS),
        stories=tuple(reads.story_card(s) for s in stories),
        events=tuple(reads.event_card(e.slug) for e in events) if first else (),
        members=tuple(reads.refs[m.id] for m in members) if first else (),
        interest_url=href(config, urls.interest_page(slug)) if members and first else None,
        pagination=pagination,
    )
