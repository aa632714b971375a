"""Which HTML pages a site has, and what each one's template is given.

`plan_pages` is a pure function of the Site: one PageSpec per HTML page of the
content contract's URL table, plus 404.html and, when the site federates,
welcome/ (introductions arrive from the fediverse). Each context holds
views only (see views.py), so `repr(spec.context)` changes exactly when what
the page shows changes.

Every page function reads the site through a SiteReads (reads.py), which
records what it reads; that record is what decides whether a page is still
fresh (`PageMemo.recorded`). With a PageMemo (a long-lived builder's), a page
whose record holds gets last plan's PageSpec object back instead of a new
one. See "The engine" in docs/maintainers.md.
"""

from __future__ import annotations

from functools import partial
from itertools import chain

from commsite import urls
from commsite.content.model import Site
from commsite.render.cards import federation_on
from commsite.render.interests import interest_pages
from commsite.render.lookups import index_site
from commsite.render.pages.events import event_page, events_page
from commsite.render.pages.members import member_page, members_page
from commsite.render.pages.reads import SiteReads
from commsite.render.pages.site_pages import (
    free_page,
    home_page,
    not_found_page,
    rules_page,
    search_page,
    welcome_page,
)
from commsite.render.pages.spec import PageMemo, PageSpec, recorded_spec
from commsite.render.pages.stories import story_lists, story_pages
from commsite.render.pages.tags import tag_pages
from commsite.render.topics import shown_names, topics

__all__ = ["all_tags", "plan_pages"]


def all_tags(site: Site) -> dict[str, str]:
    """Tag slug -> the name shown for it, over stories and events, sorted by slug.

    Tags that differ only in case or punctuation share a page; it shows the
    spelling used most often (ties: the first in sort order).
    """
    return shown_names(
        chain(
            chain.from_iterable(s.tags for s in site.stories),
            chain.from_iterable(e.tags for e in site.events),
        )
    )


def plan_pages(
    site: Site, *, event_calendars: bool = False, memo: PageMemo | None = None
) -> list[PageSpec]:
    """Every HTML page of `site`. `event_calendars`: the build also writes each
    event's own calendar (feeds.calendar.event_calendars, at urls.event_ics), so
    an event page's "add to calendar" link can offer that one event instead of
    the whole events.ics. `memo`: the last plan's pages, reused where what they
    read is unchanged."""
    m = memo if memo is not None else PageMemo()
    index = index_site(site)
    # What every page shows: the members' references (names, links) are on most
    # pages, so a member edit plans every page again.
    found = topics(site, index.upcoming, index.past)
    m.begin((site.config, index.chrome, federation_on(site), site.members), site, index, found)
    specs = [
        m.recorded(urls.HOME, "home.html", home_page),
        *story_lists(site, m),
        *story_pages(site, m),
        *tag_pages(m, found),
        *interest_pages(found, m, recorded_spec),
        m.recorded(urls.MEMBERS, "members.html", members_page),
        *(
            m.recorded(urls.member_page(p.id), "member.html", partial(_member_page, p.id), p.source)
            for p in site.members
        ),
        m.recorded(urls.EVENTS, "events.html", events_page),
        *(
            m.recorded(
                urls.event_page(e.slug),
                "event.html",
                partial(_event_page, e.slug, event_calendars),
                e.source,
                (event_calendars,),
            )
            for e in site.events
        ),
        m.recorded(urls.RULES, "rules.html", rules_page, site.rules.source),
        *(
            m.recorded(urls.page(p.slug), "page.html", partial(free_page, p.slug), p.source)
            for p in site.pages
        ),
        *([m.recorded(urls.WELCOME, "welcome.html", welcome_page)] if federation_on(site) else []),
        *([m.recorded(urls.SEARCH, "search.html", search_page)] if site.config.search else []),
        m.recorded(urls.NOT_FOUND, "404.html", not_found_page),
    ]
    m.finish()
    return sorted(specs, key=lambda s: s.path)


def _event_page(slug: str, own_calendar: bool, reads: SiteReads) -> PageSpec:
    return event_page(reads, slug, own_calendar)


def _member_page(member_id: str, reads: SiteReads) -> PageSpec:
    return member_page(reads, member_id)
