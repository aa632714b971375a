"""The commitment curve and the first-timers who came back: distinct people."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from commsite.content.model import Event, Site
from commsite.report.model import Comeback, CommitmentStep, FirstTimers, StoreSnapshot
from commsite.report.people import COMMUNITY, Author, People

__all__ = ["STEPS", "commitment_curve", "first_timers", "went"]

STEPS = (
    ("followers", "Follow the account"),
    ("reactors", "Liked or boosted"),
    ("repliers", "Replied"),
    ("introduced", "Introduced themselves"),
    ("rsvped", "Said going or maybe"),
    ("went", "Went to an event"),
    ("hosts_authors", "Hosted an event or wrote a story"),
)


def _past(event: Event, now: datetime) -> bool:
    return event.status != "cancelled" and event.finishes <= now


def went(site: Site, people: People, now: datetime) -> dict[str, list[Event]]:
    """person key -> the finished, not cancelled events they were going to (not
    on the waiting list), oldest first."""
    events = {e.slug: e for e in site.events}
    seen: dict[str, list[Event]] = defaultdict(list)
    for rsvp in site.interactions.rsvps:
        event = events.get(rsvp.event)
        if event is None or rsvp.answer != "going" or rsvp.waiting or not _past(event, now):
            continue
        who = people.key(Author(rsvp.author_handle, rsvp.author_webfinger, rsvp.author_actor))
        if who != COMMUNITY and event not in seen[who]:
            seen[who].append(event)
    for attended in seen.values():
        attended.sort(key=lambda e: (e.start, e.slug))
    return dict(seen)


def _keys(people: People, authors: Iterable[Author]) -> set[str]:
    return {k for k in map(people.key, authors) if k != COMMUNITY}


def commitment_curve(
    site: Site, people: People, store: StoreSnapshot, attended: dict[str, list[Event]]
) -> tuple[CommitmentStep, ...]:
    """Each step's distinct people; `highest`: those whose furthest step it is."""
    ix = site.interactions
    events = {e.slug for e in site.events}
    steps: dict[str, set[str] | None] = {
        "followers": (
            None
            if store.followers is None
            else _keys(people, (Author(f.handle, None, f.actor) for f in store.followers))
        ),
        "reactors": _keys(
            people,
            (
                Author(r.author_handle, r.author_webfinger, r.author_actor)
                for reaction in ix.reactions
                for r in reaction.by
            ),
        ),
        "repliers": _keys(
            people,
            (Author(r.author_handle, r.author_webfinger, r.author_actor) for r in ix.replies),
        ),
        "introduced": _keys(
            people,
            (Author(i.author_handle, i.author_webfinger, i.author_actor) for i in ix.introductions),
        ),
        "rsvped": _keys(
            people,
            (
                Author(r.author_handle, r.author_webfinger, r.author_actor)
                for r in ix.rsvps
                if r.event in events and r.answer in ("going", "maybe")
            ),
        ),
        "went": set(attended),
        "hosts_authors": {
            f"member:{m}"
            for m in (
                *(h for e in site.events for h in e.hosts),
                *(a for s in site.stories for a in s.authors),
            )
        },
    }
    furthest: dict[str, int] = {}
    for index, (key, _label) in enumerate(STEPS):
        for person in steps[key] or ():
            furthest[person] = index
    highest: dict[int, int] = defaultdict(int)
    for index in furthest.values():
        highest[index] += 1
    return tuple(
        CommitmentStep(
            key,
            label,
            None if steps[key] is None else len(steps[key] or ()),
            None if steps[key] is None else highest[index],
        )
        for index, (key, label) in enumerate(STEPS)
    )


def first_timers(
    site: Site, attended: dict[str, list[Event]], day: Callable[[datetime], str]
) -> FirstTimers:
    """People who went to an event, those who went to a second, and per event
    its first-timers (it was their first) and how many of them came back."""
    first: dict[str, list[str]] = defaultdict(list)
    for person, events in attended.items():
        first[events[0].slug].append(person)
    back = {p for p, events in attended.items() if len(events) > 1}
    by_event = tuple(
        Comeback(e.slug, e.title, day(e.start), len(first[e.slug]), len(set(first[e.slug]) & back))
        for e in sorted(site.events, key=lambda e: (e.start, e.slug))
        if first.get(e.slug)
    )
    return FirstTimers(len(attended), len(back), by_event)
