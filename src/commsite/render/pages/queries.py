"""The queries a page function can make of the site (reads.py records them):
each answers a name and a string argument from the Site and its SiteIndex,
and some declare where they answer from (SOURCES)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from commsite import urls
from commsite.content.model import Introduction, Reply, Site
from commsite.render.cards import is_past
from commsite.render.interests import interest_shown
from commsite.render.lookups import SiteIndex
from commsite.render.said import said_key
from commsite.render.topics import Topics, tag_page_count

__all__ = ["QUERIES", "SOURCES", "TOPIC_QUERIES"]


def _number(argument: str) -> int | None:
    """A count or position given as an argument (a read's arguments are strings,
    and a cache's record may hold any): plain ASCII digits, bounded."""
    if not (argument.isascii() and argument.isdigit()) or len(argument) > 9:
        return None
    return int(argument)


def _event(site: Site, index: SiteIndex, slug: str) -> object:
    return index.events.get(slug)


def _story(site: Site, index: SiteIndex, slug: str) -> object:
    return index.stories.get(slug)


def _rules(site: Site, index: SiteIndex, argument: str) -> object:
    return site.rules


def _free_page(site: Site, index: SiteIndex, slug: str) -> object:
    return next((p for p in site.pages if p.slug == slug), None)


def _neighbours(site: Site, index: SiteIndex, slug: str) -> object:
    """The stories beside one in the site's order, as a story page links them:
    (title, slug) of the older one and of the newer one, or None."""
    position = index.positions.get(slug)
    if position is None:
        return None
    stories = site.stories
    older = stories[position + 1] if position + 1 < len(stories) else None
    newer = stories[position - 1] if position > 0 else None
    return tuple(None if s is None else (s.title, s.slug) for s in (older, newer))


def _story_at(site: Site, index: SiteIndex, position: str) -> object:
    n = _number(position)
    return None if n is None or n >= len(site.stories) else site.stories[n]


def _newest(site: Site, index: SiteIndex, count: str) -> object:
    """The newest `count` stories (the site's order)."""
    n = _number(count)
    return None if n is None else site.stories[:n]


def _story_count(site: Site, index: SiteIndex, argument: str) -> object:
    return len(site.stories)


def _upcoming(site: Site, index: SiteIndex, count: str) -> object:
    """The `count` soonest upcoming events."""
    n = _number(count)
    return None if n is None else index.upcoming[:n]


def _is_past(site: Site, index: SiteIndex, slug: str) -> object:
    event = index.events.get(slug)
    return event is not None and is_past(site, event)


def _answers_open(site: Site, index: SiteIndex, slug: str) -> object:
    """Whether the event's answers are open: not past, not cancelled, not started."""
    event = index.events.get(slug)
    return (
        event is not None
        and not is_past(site, event)
        and event.status != "cancelled"
        and site.now < event.start
    )


def _recaps(site: Site, index: SiteIndex, slug: str) -> object:
    return index.recaps.get(slug, ())


def _thread(site: Site, index: SiteIndex, target: str) -> object:
    interactions = index.interactions
    return (
        interactions.replies.get(target),
        interactions.reactions.get(target),
        interactions.reactors.get(target),
    )


def _attendance(site: Site, index: SiteIndex, slug: str) -> object:
    return index.attendance.events.get(slug)


def _event_card(site: Site, index: SiteIndex, slug: str) -> object:
    """What an event's card shows: the event, whether it is past, its recaps and
    how many are going (SiteIndex.event_card)."""
    event = index.events.get(slug)
    if event is None:
        return None
    return (
        event,
        _is_past(site, index, slug),
        _recaps(site, index, slug),
        len(index.attendance.of(event).going),
    )


def _member(site: Site, index: SiteIndex, member_id: str) -> object:
    return index.members.get(member_id)


def _authored(site: Site, index: SiteIndex, member_id: str) -> object:
    return index.stories_by_author.get(member_id, ())


def _hosted(site: Site, index: SiteIndex, member_id: str) -> object:
    """The events a member hosts, each with whether it is past (event_link shows it)."""
    hosted = index.events_by_host.get(member_id, ())
    return hosted, tuple(is_past(site, e) for e in hosted)


def _into(site: Site, index: SiteIndex, interest: str) -> object:
    return index.by_interest.get(interest, ())


def _said(site: Site, index: SiteIndex, member_id: str) -> object:
    return said_key(site, index, member_id)


def _story_list(site: Site, index: SiteIndex, number: str) -> object:
    """Page `number` of the story list: how many pages there are, and its stories."""
    n = _number(number)
    if n is None:
        return None
    per_page = max(1, site.config.per_page)
    return urls.page_count(len(site.stories), per_page), urls.page_items(site.stories, n, per_page)


def _introductions(site: Site, index: SiteIndex, count: str) -> object:
    """The newest `count` introductions ("": all), each with the id of the member
    who wrote it (None: not a member)."""
    n = _number(count) if count else None
    if count and n is None:
        return None
    newest = sorted(site.interactions.introductions, key=_published, reverse=True)[:n]
    authors = index.interactions.authors
    return tuple((intro, authors.get(intro.id)) for intro in newest)


def _published(item: Reply | Introduction) -> tuple[object, str]:
    return item.published, item.id


def _conversations(site: Site, index: SiteIndex, count: str) -> object:
    """The newest `count` replies to the stories and events of this build, each
    as (reply, the path and title of the page it answers, the id of the member
    who wrote it or None)."""
    n = _number(count)
    if n is None:
        return None
    found: list[tuple[Reply, str, str, str | None]] = []
    authors = index.interactions.authors
    for reply in sorted(site.interactions.replies, key=_published, reverse=True):
        if len(found) == n:
            break
        kind, _, slug = reply.target.partition("/")
        story = index.stories.get(slug) if kind == "stories" else None
        event = index.events.get(slug) if kind == "events" else None
        if story is not None:
            found.append((reply, urls.story_page(slug), story.title, authors.get(reply.id)))
        elif event is not None:
            found.append((reply, urls.event_page(slug), event.title, authors.get(reply.id)))
    return tuple(found)


def _events_in_order(site: Site, index: SiteIndex, which: str) -> object:
    return index.upcoming if which == "upcoming" else index.past


def _tag_shown(found: Topics, slug: str) -> object:
    """What each page of a tag shows besides its stories: the tag's name, its
    events, and the members into the interest of the same name (with the
    interest's name)."""
    return (
        found.tags.get(slug),
        found.events.get(slug, ()),
        found.members.get(slug, ()),
        found.interests.get(slug),
    )


def _tag_stories(found: Topics, argument: str) -> object:
    """Page N of a tag's stories ("N:slug"): how many pages there are, and its
    stories (site order). Only the pages a story is on read it: retitling the
    newest story remakes the first page of each of its tags, not every page."""
    number, _, slug = argument.partition(":")
    n = _number(number)
    if n is None or n < 1:
        return None
    stories = found.stories.get(slug, ())
    return tag_page_count(found, slug), urls.page_items(stories, n, found.per_page)


def _tag_counts(found: Topics, argument: str) -> object:
    """Every tag as the tag index lists it, by name: (slug, name, how many stories
    and events have it)."""
    return tuple(
        (slug, name, len(found.stories.get(slug, ())) + len(found.events.get(slug, ())))
        for slug, name in sorted(found.tags.items(), key=lambda kv: (kv[1].casefold(), kv[0]))
    )


def _interest_counts(found: Topics, argument: str) -> object:
    """Every interest as the indexes list it, by name: (slug, name, how many members
    are into it, how many stories and events have it as a tag)."""
    return tuple(
        (
            slug,
            name,
            len(found.members.get(slug, ())),
            len(found.stories.get(slug, ())) + len(found.events.get(slug, ())),
        )
        for slug, name in sorted(found.interests.items(), key=lambda kv: (kv[1].casefold(), kv[0]))
    )


# The queries answered from the site's topics (topics.py), which the plan finds
# once: name -> how to answer it from them.
TOPIC_QUERIES: Mapping[str, Callable[[Topics, str], object]] = {
    "tag": _tag_shown,
    "tag_stories": _tag_stories,
    "interest": interest_shown,
    "tag_counts": _tag_counts,
    "interest_counts": _interest_counts,
}


def _from_topics(site: Site, index: SiteIndex, argument: str) -> object:
    raise AssertionError("answered from the topics (ReadValues.value)")


# Every query a page can make: name -> how to answer it. A read is recorded by
# name and argument (strings), so that a later process can ask it again.
QUERIES: Mapping[str, Callable[[Site, SiteIndex, str], object]] = {
    "event": _event,
    "story": _story,
    "story_at": _story_at,
    "neighbours": _neighbours,
    "rules": _rules,
    "page": _free_page,
    "is_past": _is_past,
    "answers_open": _answers_open,
    "recaps": _recaps,
    "thread": _thread,
    "attendance": _attendance,
    "event_card": _event_card,
    "events": _events_in_order,
    "member": _member,
    "authored": _authored,
    "hosted": _hosted,
    "into": _into,
    "said": _said,
    "story_list": _story_list,
    "newest": _newest,
    "story_count": _story_count,
    "upcoming": _upcoming,
    "introductions": _introductions,
    "conversations": _conversations,
    **dict.fromkeys(TOPIC_QUERIES, _from_topics),
}


def _neighbours_by_slug(site: Site, index: SiteIndex) -> Mapping[str, object]:
    stories = site.stories
    if not stories:
        return {}
    shown: list[tuple[str, str] | None] = [(s.title, s.slug) for s in stories]
    older = [*shown[1:], None]  # the oldest story has none
    newer = [None, *shown[:-1]]  # nor the newest
    return {s.slug: (o, n) for s, o, n in zip(stories, older, newer, strict=True)}


# Where some queries answer from, so that a long-lived builder need not ask every
# read again to find what changed (PageMemo.begin): name -> (keyed, source). A
# keyed source is a mapping, and a read's answer is a function of the entry its
# argument names (equal entries: an equal answer); another source is a whole
# (equal to last plan's: every read of the query gives what it gave). A query
# with no source here is asked again for each of its reads on every plan.
SOURCES: Mapping[str, tuple[bool, Callable[[Site, SiteIndex], object]]] = {
    "story": (True, lambda site, index: index.stories),
    "neighbours": (True, _neighbours_by_slug),
    "event": (True, lambda site, index: index.events),
    "member": (True, lambda site, index: index.members),
    "authored": (True, lambda site, index: index.stories_by_author),
    "recaps": (True, lambda site, index: index.recaps),
    "attendance": (True, lambda site, index: index.attendance.events),
    "thread": (False, lambda site, index: site.interactions),
    # (the members who wrote them are shared: a change to them plans every page)
    "introductions": (False, lambda site, index: site.interactions),
}
