"""The story pages and the paginated story lists."""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial

from commsite import urls
from commsite.content.model import Site
from commsite.render.attendance import who_was_there
from commsite.render.body_images import responsive_body
from commsite.render.cards import federation_on, href, image_view, is_past, people, tag_refs
from commsite.render.dates import date_view
from commsite.render.head import meta_view
from commsite.render.lookups import SiteIndex
from commsite.render.pages.keys import PageKeys
from commsite.render.pages.reads import SiteReads
from commsite.render.pages.spec import Key, PageMemo, PageSpec, page_spec, recorded_spec
from commsite.render.threads import thread_view
from commsite.render.views import Link, PageLink, Pagination, StoryView

__all__ = ["page_window", "story_lists", "story_pages"]


def story_pages(site: Site, index: SiteIndex, m: PageMemo, keys: PageKeys) -> list[PageSpec]:
    """Each story's page spec, through the memo. A story page's key holds the
    shared parts, the story, its neighbours, its event and its thread. When the
    shared parts, the events and the interactions are what the last plan had,
    and the same stories are in the same places, only the pages at and beside a
    story that is not the same object as last time (an edited one) can have a
    new key; the others keep their specs without making their keys again
    (10,000 of them on a rebuild in serve)."""
    stories = site.stories
    reads = (keys.shared, site.interactions, index.events)
    last = m._stories
    edited: list[int] | None = None
    if last is not None and len(last[0]) == len(stories) and _same_reads(last[1], reads):
        pairs = zip(last[0], stories, strict=True)
        edited = [i for i, (a, b) in enumerate(pairs) if a is not b]
        if any(last[0][i].slug != stories[i].slug for i in edited):
            edited = None  # stories added, removed or moved: plan them all
    by_path: dict[str, tuple[Key, PageSpec]] = {}
    specs: list[PageSpec] = []
    near: Iterable[int] = range(len(stories))
    if last is not None and edited is not None:
        by_path, specs = dict(last[2]), list(last[3])
        near = sorted({j for i in edited for j in (i - 1, i, i + 1) if 0 <= j < len(stories)})
    for i in near:
        path = urls.story_page(stories[i].slug)
        story = partial(_story, site, index, i)
        spec = m.spec(path, "story.html", keys.story(i), story, stories[i].source)
        by_path[path] = m._next[path]
        if len(specs) > i:
            specs[i] = spec
        else:
            specs.append(spec)
    m._next.update(by_path)
    m._stories = (stories, reads, by_path, specs)
    return specs


def _same_reads(last: Key, now: Key) -> bool:
    """The shared parts (the same object when equal, see PageMemo.begin), the
    interactions and the events, as the last plan's story pages read them."""
    return last[0] is now[0] and last[1] == now[1] and last[2] == now[2]


def story_lists(site: Site, memo: PageMemo) -> list[PageSpec]:
    per_page = max(1, site.config.per_page)
    total = max(1, math.ceil(len(site.stories) / per_page))
    return [
        memo.recorded(urls.stories_index(number), "stories.html", partial(_story_list, number))
        for number in range(1, total + 1)
    ]


def _story_list(number: int, reads: SiteReads) -> PageSpec:
    site = reads.site
    config = site.config
    total, chunk = reads.story_list(number)
    path = urls.stories_index(number)
    prev = href(config, urls.stories_index(number - 1)) if number > 1 else None
    next_ = href(config, urls.stories_index(number + 1)) if number < total else None
    title = "Stories" if number == 1 else f"Stories, page {number} of {total}"
    return recorded_spec(
        reads,
        path,
        "stories.html",
        meta=meta_view(
            site,
            path,
            title,
            f"Stories from {config.title}",
            "stories",
            prev=config.url(urls.stories_index(number - 1)) if prev else None,
            next=config.url(urls.stories_index(number + 1)) if next_ else None,
        ),
        heading=title,
        tags_url=href(config, urls.TAGS),
        stories=tuple(reads.index.story_card(site, s) for s in chunk),
        pagination=Pagination(
            number=number,
            total=total,
            prev=prev,
            next=next_,
            pages=tuple(
                PageLink(n, href(config, urls.stories_index(n)), n == number)
                for n in page_window(number, total)
            ),
        ),
    )


def page_window(number: int, total: int, around: int = 2) -> list[int]:
    """The page numbers a pager shows: the first, the last, and a few around `number`.

    Bounded, so a list page's context does not grow with the number of pages."""
    shown = {1, total, *range(number - around, number + around + 1)}
    return sorted(n for n in shown if 1 <= n <= total)


def _story(site: Site, index: SiteIndex, position: int) -> PageSpec:
    config = site.config
    story = site.stories[position]
    path = urls.story_page(story.slug)

    def neighbour(i: int) -> Link | None:
        if 0 <= i < len(site.stories):
            other = site.stories[i]
            return Link(other.title, href(config, urls.story_page(other.slug)))
        return None

    event = index.events.get(story.event) if story.event else None
    unpublished = story.draft or story.future  # not federated: nothing to reply to
    was_there, others = (
        who_was_there(index.attendance.of(event), index.refs)
        if event is not None and is_past(site, event) and event.status != "cancelled"
        else ((), 0)
    )
    view = StoryView(
        title=story.title,
        url=href(config, path),
        date=date_view(story.date, config.tz),
        updated=date_view(story.updated, config.tz) if story.updated else None,
        summary=story.summary,
        body_html=responsive_body(config, path, story.body_html, eager_first=not story.image),
        authors=people(story.authors, index.refs),
        tags=tag_refs(config, story.tags),
        image=image_view(config, story.image, story.image_alt or story.title),
        draft=story.draft,
        future=story.future,
        event=Link(event.title, href(config, urls.event_page(event.slug))) if event else None,
        older=neighbour(position + 1),
        newer=neighbour(position - 1),
        thread=thread_view(
            index.interactions,
            f"stories/{story.slug}",
            config.url(path),
            config.tz,
            federation_on(site) and not unpublished,
            index.refs,
        ),
        was_there=was_there,
        was_there_others=others,
    )
    meta = meta_view(
        site,
        path,
        story.title,
        story.summary,
        "stories",
        og_type="article",
        image=story.image,
        activity_path=None if unpublished else urls.story_object(story.slug),
        noindex=unpublished,
    )
    return page_spec(index, path, "story.html", meta=meta, story=view)
