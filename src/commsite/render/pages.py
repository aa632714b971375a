"""Which HTML pages a site has, and what each one's template is given.

`plan_pages` is a pure function of the Site: one PageSpec per HTML page of the
content contract's URL table, plus 404.html and, when the site federates,
welcome/ (introductions arrive from the fediverse). Each context holds
views only (see views.py), so `repr(spec.context)` changes exactly when what
the page shows changes.

Each page is made from a few model objects (a story page: the story, its
neighbours, its event, its authors, its thread, the config); the key of a page
lists them. With a PageMemo (a long-lived builder's), a page whose key equals
last plan's gets last plan's PageSpec object back instead of a new one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import partial
from itertools import chain

from commsite import urls
from commsite.content.model import Event, Member, Site, Story
from commsite.render.attendance import attendance_view, who_was_there
from commsite.render.body_images import responsive_body
from commsite.render.cards import (
    event_link,
    federation_on,
    handle_url,
    href,
    image_view,
    is_past,
    member_card,
    people,
    rules_view,
    story_link,
    tag_refs,
)
from commsite.render.dates import date_view, day_view, when_view
from commsite.render.head import meta_view
from commsite.render.home import conversation_views, interest_owners, newcomer_views
from commsite.render.interests import interest_counts, interest_pages
from commsite.render.lookups import CardMemo, SiteIndex, index_site
from commsite.render.said import said_key, said_views
from commsite.render.search_page import search_page
from commsite.render.threads import (
    introduction_views,
    thread_view,
)
from commsite.render.topics import Topics, shown_names, topics
from commsite.render.views import (
    STATUS_LABELS,
    CommunityView,
    EventView,
    InterestView,
    Link,
    LocationView,
    MemberView,
    PageLink,
    PageView,
    Pagination,
    StoryView,
    TagCount,
)
from commsite.slugs import tag_key

__all__ = [
    "HOME_EVENTS",
    "HOME_MEMBERS",
    "HOME_STORIES",
    "LazyContext",
    "PageMemo",
    "PageSpec",
    "all_tags",
    "plan_pages",
]

HOME_STORIES = 6
HOME_EVENTS = 4
HOME_MEMBERS = 8


@dataclass(frozen=True, slots=True)
class PageSpec:
    path: str  # a commsite.urls path: "stories/x/" is written as stories/x/index.html
    template: str
    context: Mapping[str, object]
    source: str | None = None  # the content file of the one item the page is about


class LazyContext(Mapping[str, object]):
    """A page's context, made the first time it is read: a build whose record shows
    that a page's inputs are unchanged never needs it (see build/plan.py)."""

    __slots__ = ("_made", "_make", "_page")

    def __init__(self, make: Callable[[], PageSpec], path: str, template: str) -> None:
        self._make: Callable[[], PageSpec] | None = make
        self._made: Mapping[str, object] | None = None
        self._page = (path, template)

    def _context(self) -> Mapping[str, object]:
        if self._made is None:
            assert self._make is not None
            spec = self._make()
            if (spec.path, spec.template) != self._page:
                raise AssertionError(f"{self._page} planned, {spec.path, spec.template} made")
            self._made, self._make = spec.context, None
        return self._made

    def items(self) -> ItemsView[str, object]:
        return self._context().items()

    def __reduce__(self) -> tuple[type[dict[str, object]], tuple[dict[str, object]]]:
        return dict, (dict(self._context()),)  # a made context pickles as the dict it is

    def __getitem__(self, key: str) -> object:
        return self._context()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._context())

    def __len__(self) -> int:
        return len(self._context())

    def __repr__(self) -> str:
        return repr(self._context())


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


Key = tuple[object, ...]


class PageMemo:
    """The last plan's specs by path, each with the key it was made from."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[Key, PageSpec]] = {}
        self._next: dict[str, tuple[Key, PageSpec]] = {}
        self.cards = CardMemo()  # story cards, kept while their stories are
        self._shared: Key = ()
        # The last plan's story pages: its stories, what else their keys read
        # (see _story_pages), their keys and specs by path, and the specs in order.
        self._stories: (
            tuple[tuple[Story, ...], Key, dict[str, tuple[Key, PageSpec]], list[PageSpec]] | None
        ) = None

    def begin(self, shared: Key) -> Key:
        """Start a plan; `shared` is what every page is made from (the config, the
        chrome). Returns it, or the equal tuple of the last plan (so that keys
        holding it compare by identity)."""
        if shared != self._shared:
            self._shared, self._last, self._stories = shared, {}, None
        self._next = {}
        return self._shared

    def spec(
        self,
        path: str,
        template: str,
        key: Key,
        make: Callable[[], PageSpec],
        source: str | None = None,
    ) -> PageSpec:
        """Last plan's spec for `path` if its key was equal, else a new one whose
        context `make` makes when it is first read (`source`: see PageSpec)."""
        found = self._last.get(path)
        if found is not None and found[0] == key:
            spec = found[1]
        else:
            spec = PageSpec(path, template, LazyContext(make, path, template), source)
        self._next[path] = (key, spec)
        return spec

    def finish(self) -> None:
        self._last, self._next = self._next, {}

    def keys(self) -> Mapping[str, tuple[Key, PageSpec]]:
        """The finished plan's keys and specs by path (pages without a key are not in it)."""
        return self._last


def plan_pages(
    site: Site, *, event_calendars: bool = False, memo: PageMemo | None = None
) -> list[PageSpec]:
    """Every HTML page of `site`. `event_calendars`: the build also writes each
    event's own calendar (feeds.calendar.event_calendars, at urls.event_ics), so
    an event page's "add to calendar" link can offer that one event instead of
    the whole events.ics. `memo`: the last plan's pages, reused where their
    keys are equal."""
    m = memo if memo is not None else PageMemo()
    index = index_site(site, m.cards)
    # The members are in every key: their references (names, links) are shown on
    # most pages, so a member edit plans every page again.
    shared = m.begin((site.config, index.chrome, federation_on(site), site.members))
    keys = _Keys(site, index, shared)
    found = topics(site, index.upcoming, index.past)
    specs = [
        _home(site, index),
        *_story_lists(site, index, m, keys),
        *_story_pages(site, index, m, keys),
        *_tags(site, index, m, keys, found),
        *interest_pages(site, index, found, m, shared, keys.event_cards, _spec),
        m.spec(
            urls.MEMBERS,
            "members.html",
            (shared, _interest_items(found)),
            partial(_members, site, index, found),
        ),
        *(
            m.spec(
                urls.member_page(p.id),
                "member.html",
                keys.member(p),
                partial(_member, site, index, p),
                p.source,
            )
            for p in site.members
        ),
        m.spec(urls.EVENTS, "events.html", keys.events(), partial(_events, site, index)),
        *(
            m.spec(
                urls.event_page(e.slug),
                "event.html",
                (*keys.event(e), event_calendars),
                partial(_event, site, index, e, event_calendars),
                e.source,
            )
            for e in site.events
        ),
        replace(_rules(site, index), source=site.rules.source),
        *(replace(_free_page(site, index, p.slug), source=p.source) for p in site.pages),
        *([_welcome(site, index)] if federation_on(site) else []),
        *([PageSpec(*search_page(site, index))] if site.config.search else []),
        _not_found(site, index),
    ]
    m.finish()
    return sorted(specs, key=lambda s: s.path)


class _Keys:
    """The keys of the pages about one item or listing items: the model objects
    each page function reads, besides the shared ones (config, chrome, members).
    A page function must read nothing its key leaves out; tests/test_build_cache.py
    checks a long-lived builder against clean builds."""

    def __init__(self, site: Site, index: SiteIndex, shared: Key) -> None:
        self.site = site
        self.index = index
        self.shared = shared

    def thread(self, target: str) -> Key:
        interactions = self.index.interactions
        return (interactions.replies.get(target), interactions.reactions.get(target))

    def story(self, position: int) -> Key:
        stories = self.site.stories
        story = stories[position]
        return (
            self.shared,
            story,
            stories[position - 1] if position > 0 else None,
            stories[position + 1] if position + 1 < len(stories) else None,
            self.index.events.get(story.event) if story.event else None,
            self.thread(f"stories/{story.slug}"),
            self.index.attendance.events.get(story.event) if story.event else None,
        )

    def event_cards(self, events: tuple[Event, ...] | list[Event]) -> Key:
        recaps = self.index.recaps
        attendance = self.index.attendance
        return (
            tuple(events),
            tuple(is_past(self.site, e) for e in events),
            tuple(recaps.get(e.slug) for e in events),
            tuple(len(attendance.of(e).going) for e in events),
        )

    def member(self, member: Member) -> Key:
        index = self.index
        hosted = index.events_by_host.get(member.id, ())
        return (
            self.shared,
            member,
            index.stories_by_author.get(member.id, ()),
            hosted,
            tuple(is_past(self.site, e) for e in hosted),
            said_key(self.site, index, member.id),
        )

    def events(self) -> Key:
        index = self.index
        return (self.shared, self.event_cards(index.upcoming), self.event_cards(index.past))

    def event(self, event: Event) -> Key:
        return (
            self.shared,
            event,
            is_past(self.site, event),
            self.index.recaps.get(event.slug, ()),
            self.thread(f"events/{event.slug}"),
            self.index.attendance.events.get(event.slug),
            self.site.now < event.start,  # answers open (with is_past: three states)
        )


def _story_pages(site: Site, index: SiteIndex, m: PageMemo, keys: _Keys) -> list[PageSpec]:
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


def _spec(index: SiteIndex, path: str, template: str, **context: object) -> PageSpec:
    return PageSpec(path=path, template=template, context={"chrome": index.chrome, **context})


def _community(site: Site) -> CommunityView:
    config = site.config
    community = config.community
    return CommunityView(
        name=community.name or config.title,
        summary=community.summary or config.description,
        avatar=image_view(config, community.avatar, community.name or config.title),
        handle=config.fediverse_handle if federation_on(site) else None,
        member_count=len(site.members),
        story_count=len(site.stories),
    )


def _home(site: Site, index: SiteIndex) -> PageSpec:
    def joined_key(m: Member) -> tuple[bool, int, str, str]:
        return (m.joined is None, -(m.joined.toordinal() if m.joined else 0), m.name, m.id)

    newest = sorted(site.members, key=joined_key)[:HOME_MEMBERS]
    return _spec(
        index,
        urls.HOME,
        "home.html",
        meta=meta_view(
            site,
            urls.HOME,
            None,
            site.config.community.summary or site.config.description,
            "home",
            activity_path=urls.ACTOR,
        ),
        community=_community(site),
        upcoming=tuple(index.event_card(site, e) for e in index.upcoming[:HOME_EVENTS]),
        stories=tuple(index.story_card(site, s) for s in site.stories[:HOME_STORIES]),
        members=tuple(member_card(site.config, m) for m in newest),
        newcomers=newcomer_views(site, index),
        conversations=conversation_views(site, index),
        welcome_url=href(site.config, urls.WELCOME) if federation_on(site) else None,
        events_url=href(site.config, urls.EVENTS),
        stories_url=href(site.config, urls.STORIES),
        members_url=href(site.config, urls.MEMBERS),
    )


def _story_lists(site: Site, index: SiteIndex, memo: PageMemo, keys: _Keys) -> list[PageSpec]:
    per_page = max(1, site.config.per_page)
    total = max(1, math.ceil(len(site.stories) / per_page))
    specs = []
    for number in range(1, total + 1):
        chunk = site.stories[(number - 1) * per_page : number * per_page]
        key = (keys.shared, number, total, chunk)
        make = partial(_story_list, site, index, number, total, chunk)
        specs.append(memo.spec(urls.stories_index(number), "stories.html", key, make))
    return specs


def _story_list(
    site: Site, index: SiteIndex, number: int, total: int, chunk: tuple[Story, ...]
) -> PageSpec:
    config = site.config
    path = urls.stories_index(number)
    prev = href(config, urls.stories_index(number - 1)) if number > 1 else None
    next_ = href(config, urls.stories_index(number + 1)) if number < total else None
    title = "Stories" if number == 1 else f"Stories, page {number} of {total}"
    return _spec(
        index,
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
        stories=tuple(index.story_card(site, s) for s in chunk),
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
    return _spec(index, path, "story.html", meta=meta, story=view)


def _tags(
    site: Site, index: SiteIndex, memo: PageMemo, keys: _Keys, found: Topics
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
        _spec(
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
    return _spec(
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


def _interest_items(found: Topics) -> tuple[int, ...]:
    """What the directory's interest list reads besides the members: how many
    stories and events each interest's topic has."""
    return tuple(
        len(found.stories.get(slug, ())) + len(found.events.get(slug, ()))
        for slug in found.interests
    )


def _members(site: Site, index: SiteIndex, found: Topics) -> PageSpec:
    return _spec(
        index,
        urls.MEMBERS,
        "members.html",
        meta=meta_view(
            site, urls.MEMBERS, "Members", f"The people of {site.config.title}", "members"
        ),
        members=tuple(member_card(site.config, m) for m in site.members),
        interests=interest_counts(site, found),
        interests_url=href(site.config, urls.INTERESTS),
    )


def _member(site: Site, index: SiteIndex, member: Member) -> PageSpec:
    config = site.config
    path = urls.member_page(member.id)
    interests = tuple(
        InterestView(
            name=interest,
            others=tuple(
                index.refs[other.id]
                for other in index.by_interest.get(tag_key(interest), ())
                if other.id != member.id
            ),
            url=href(config, urls.interest_page(interest)),
        )
        for interest in member.interests
    )
    said, said_count = said_views(site, index, member.id)
    view = MemberView(
        id=member.id,
        name=member.name,
        url=href(config, path),
        avatar=image_view(config, member.avatar, member.name),
        handle=member.handle,
        handle_url=handle_url(member.handle),
        pronouns=member.pronouns,
        location=member.location,
        joined=day_view(member.joined) if member.joined else None,
        roles=member.roles,
        links=tuple(Link(label, url) for label, url in member.links),
        bio_html=member.bio_html,
        interests=interests,
        stories=tuple(story_link(site, s) for s in index.stories_by_author.get(member.id, ())),
        events=tuple(event_link(site, e) for e in index.events_by_host.get(member.id, ())),
        said=said,
        said_count=said_count,
    )
    meta = meta_view(
        site,
        path,
        member.name,
        member.summary or f"{member.name}, a member of {config.title}",
        "members",
        og_type="profile",
        image=member.avatar,
    )
    return _spec(index, path, "member.html", meta=meta, member=view)


def _events(site: Site, index: SiteIndex) -> PageSpec:
    def cards(events: tuple[Event, ...]) -> tuple[object, ...]:
        return tuple(index.event_card(site, e) for e in events)

    return _spec(
        index,
        urls.EVENTS,
        "events.html",
        meta=meta_view(
            site,
            urls.EVENTS,
            "Events",
            f"Upcoming and past events of {site.config.title}",
            "events",
        ),
        upcoming=cards(index.upcoming),
        past=cards(index.past),
    )


def _event(site: Site, index: SiteIndex, event: Event, own_calendar: bool) -> PageSpec:
    config = site.config
    path = urls.event_page(event.slug)
    when = when_view(event.start, event.end, config.tz)
    location = (
        LocationView(event.location.name, event.location.address, event.location.url)
        if event.location
        else None
    )
    view = EventView(
        title=event.title,
        url=href(config, path),
        when=when,
        summary=event.summary,
        body_html=responsive_body(config, path, event.body_html),
        status=event.status,
        status_label=STATUS_LABELS.get(event.status),
        past=is_past(site, event),
        location=location,
        online=event.online,
        capacity=event.capacity,
        hosts=people(event.hosts, index.refs),
        tags=tag_refs(config, event.tags),
        image=image_view(config, event.image, event.image_alt or event.title),
        recaps=tuple(story_link(site, s) for s in index.recaps.get(event.slug, ())),
        calendar_url=href(config, urls.EVENTS_ICS),
        event_calendar_url=href(config, urls.event_ics(event.slug)),
        has_event_calendar=own_calendar,
        thread=thread_view(
            index.interactions,
            f"events/{event.slug}",
            config.url(path),
            config.tz,
            federation_on(site),
            index.refs,
        ),
        attendance=attendance_view(site, event, index.attendance.of(event), index.refs),
    )
    status = f"{STATUS_LABELS[event.status]}: " if event.status in STATUS_LABELS else ""
    place = f" · {location.name}" if location else (" · Online" if event.online else "")
    meta = meta_view(
        site,
        path,
        event.title,
        f"{status}{when.text}{place}. {event.summary}",
        "events",
        og_type="article",
        image=event.image,
        activity_path=urls.event_object(event.slug),
    )
    return _spec(
        index, path, "event.html", meta=meta, event=view, events_url=href(config, urls.EVENTS)
    )


def _rules(site: Site, index: SiteIndex) -> PageSpec:
    rules = site.rules
    return _spec(
        index,
        urls.RULES,
        "rules.html",
        meta=meta_view(
            site,
            urls.RULES,
            rules.title,
            f"{rules.title} of {site.config.title}"
            + (f": {rules.items[0]}" if rules.items else ""),
            "rules",
        ),
        rules=rules_view(site),
    )


def _free_page(site: Site, index: SiteIndex, slug: str) -> PageSpec:
    page = next(p for p in site.pages if p.slug == slug)
    path = urls.page(slug)
    return _spec(
        index,
        path,
        "page.html",
        meta=meta_view(site, path, page.title, page.summary, f"page:{slug}"),
        page=PageView(title=page.title, body_html=page.body_html),
    )


def _welcome(site: Site, index: SiteIndex) -> PageSpec:
    config = site.config
    interests = interest_owners(site)
    return _spec(
        index,
        urls.WELCOME,
        "welcome.html",
        meta=meta_view(
            site,
            urls.WELCOME,
            "Welcome wall",
            f"Newcomers introduce themselves to {config.title}",
            "welcome",
        ),
        community=_community(site),
        introductions=introduction_views(
            site.interactions.introductions, interests, config.tz, index.interactions, index.refs
        ),
        members_url=href(config, urls.MEMBERS),
    )


def _not_found(site: Site, index: SiteIndex) -> PageSpec:
    return _spec(
        index,
        urls.NOT_FOUND,
        "404.html",
        meta=meta_view(
            site,
            urls.NOT_FOUND,
            "Page not found",
            "This page does not exist.",
            "",
            noindex=True,
        ),
    )
