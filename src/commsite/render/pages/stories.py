"""The story pages and the paginated story lists."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Site
from commsite.render.attendance import who_was_there
from commsite.render.body_images import responsive_body
from commsite.render.cards import federation_on, href, image_view, people, tag_refs
from commsite.render.dates import date_view
from commsite.render.head import meta_view
from commsite.render.pages.reads import SiteReads
from commsite.render.pages.spec import PageMemo, PageSpec, recorded_spec
from commsite.render.threads import thread_view
from commsite.render.views import Link, PageLink, Pagination, StoryView

__all__ = ["page_window", "pager", "story_lists", "story_pages"]


def story_pages(site: Site, m: PageMemo) -> list[PageSpec]:
    """Each story's page spec, through the memo. When the same stories are in
    the same order as in the last plan, only the pages the memo names as
    `changed` (they read something that gives another answer now) are asked
    for; the others keep their specs without a look at each (10,000 of them on
    a rebuild in serve)."""
    stories = site.stories
    slugs = tuple(s.slug for s in stories)
    last = m.stories
    if last is None or last[0] != slugs or m.changed is None:
        specs = [
            m.recorded(urls.story_page(s.slug), "story.html", partial(_story, s.slug), s.source)
            for s in stories
        ]
    else:
        specs = list(last[1])
        changed = m.changed
        m.keep(spec.path for spec in specs if spec.path not in changed)
        for i, spec in enumerate(specs if changed else ()):
            if spec.path in changed:
                story = stories[i]
                specs[i] = m.recorded(
                    spec.path, "story.html", partial(_story, story.slug), story.source
                )
    m.stories = (slugs, specs)
    return specs


def story_lists(site: Site, memo: PageMemo) -> list[PageSpec]:
    total = urls.page_count(len(site.stories), max(1, site.config.per_page))
    return [
        memo.recorded(urls.stories_index(number), "stories.html", partial(_story_list, number))
        for number in range(1, total + 1)
    ]


def _story_list(number: int, reads: SiteReads) -> PageSpec:
    site = reads.site
    config = site.config
    total, chunk = reads.story_list(number)
    path = urls.stories_index(number)
    title = "Stories" if number == 1 else f"Stories, page {number} of {total}"
    pagination = pager(config, number, total, urls.stories_index)
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
            prev=config.url(urls.stories_index(number - 1)) if pagination.prev else None,
            next=config.url(urls.stories_index(number + 1)) if pagination.next else None,
        ),
        heading=title,
        tags_url=href(config, urls.TAGS),
        stories=tuple(reads.story_card(s) for s in chunk),
        pagination=pagination,
    )


def pager(config: SiteConfig, number: int, total: int, path_of: Callable[[int], str]) -> Pagination:
    """The pager of page `number` of `total` of a list whose page N is at `path_of(N)`."""
    return Pagination(
        number=number,
        total=total,
        prev=href(config, path_of(number - 1)) if number > 1 else None,
        next=href(config, path_of(number + 1)) if number < total else None,
        pages=tuple(
            PageLink(n, href(config, path_of(n)), n == number) for n in page_window(number, total)
        ),
    )


def page_window(number: int, total: int, around: int = 2) -> list[int]:
    """The page numbers a pager shows: the first, the last, and a few around `number`.

    Bounded, so a list page's context does not grow with the number of pages."""
    shown = {1, total, *range(number - around, number + around + 1)}
    return sorted(n for n in shown if 1 <= n <= total)


def _story(slug: str, reads: SiteReads) -> PageSpec:
    site = reads.site
    config = site.config
    story = reads.story(slug)
    assert story is not None, slug
    path = urls.story_page(slug)

    def neighbour(found: tuple[str, str] | None) -> Link | None:
        return None if found is None else Link(found[0], href(config, urls.story_page(found[1])))

    older, newer = reads.neighbours(slug)
    event = reads.find_event(story.event) if story.event else None
    unpublished = story.draft or story.future  # not federated: nothing to reply to
    was_there, others = (
        who_was_there(reads.attendance(event.slug), reads.refs)
        if event is not None and reads.is_past(event.slug) and event.status != "cancelled"
        else ((), 0)
    )
    target = f"stories/{slug}"
    view = StoryView(
        title=story.title,
        url=href(config, path),
        date=date_view(story.date, config.tz),
        updated=date_view(story.updated, config.tz) if story.updated else None,
        summary=story.summary,
        body_html=responsive_body(config, path, story.body_html, eager_first=not story.image),
        authors=people(story.authors, reads.refs),
        tags=tag_refs(config, story.tags),
        image=image_view(config, story.image, story.image_alt or story.title),
        draft=story.draft,
        future=story.future,
        event=Link(event.title, href(config, urls.event_page(event.slug))) if event else None,
        older=neighbour(older),
        newer=neighbour(newer),
        thread=thread_view(
            reads.thread(target),
            target,
            config.url(path),
            config.tz,
            federation_on(site) and not unpublished,
            reads.refs,
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
        activity_path=None if unpublished else urls.story_object(slug),
        noindex=unpublished,
    )
    return recorded_spec(reads, path, "story.html", meta=meta, story=view)
