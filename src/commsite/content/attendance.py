"""Who is going to each event: the RSVPs of interactions/rsvps/, counted.

A pure function of the events, the members and the RSVPs, shared by the
event pages, the event cards, the recap stories and the Event objects
(Mobilizon's participantCount and remaining places), so they all agree.

One answer per person per event: the sidecar keeps only the latest, and when
a hand-edited file names a person twice (by handle, webfinger or actor) the
later answer wins here too. Capacity is honoured at build time: the
sidecar's `waiting` flag says who it put on the waiting list (and told so),
but the places are the repo's `capacity`, in order of answer: when the
organiser raises it, the first people waiting get the new places; when they
lower it, the latest answers beyond it wait.

A "first event" is a person's first `going` (with a place) among events that
were not cancelled, by start: that event's page marks them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from commsite.content.member_match import MemberMatcher, normal_handle, normal_url
from commsite.content.model import Event, Interactions, Member, Rsvp

__all__ = ["Attendance", "AttendanceIndex", "attendance_index", "person_key"]


@dataclass(frozen=True, slots=True)
class Attendance:
    """One event's answers. `going`: people with a place, in order of answer;
    `waiting`: going beyond capacity, in order; `members`: rsvp -> member id,
    for the answers of listed members."""

    going: tuple[Rsvp, ...] = ()
    waiting: tuple[Rsvp, ...] = ()
    maybe: tuple[Rsvp, ...] = ()
    not_going: tuple[Rsvp, ...] = ()
    capacity: int | None = None
    members: tuple[tuple[str, str], ...] = ()  # (person key, member id)
    first_timers: frozenset[str] = frozenset()  # person keys

    @property
    def remaining(self) -> int | None:
        """Places left (None: no limit)."""
        return None if self.capacity is None else max(0, self.capacity - len(self.going))

    @property
    def full(self) -> bool:
        return self.capacity is not None and len(self.going) >= self.capacity


@dataclass(frozen=True, slots=True)
class AttendanceIndex:
    events: Mapping[str, Attendance]  # event id -> its answers (events with answers)

    def of(self, event: Event) -> Attendance:
        return self.events.get(event.slug) or Attendance(capacity=event.capacity)


def person_key(rsvp: Rsvp) -> str:
    """Who answered, in one spelling: the handle, else the actor URL."""
    return _person_key(
        rsvp.author_handle, rsvp.author_webfinger, rsvp.author_actor, rsvp.author_url
    )


@functools.lru_cache(maxsize=1 << 16)
def _person_key(handle: str, webfinger: str | None, actor: str | None, url: str) -> str:
    return (
        normal_handle(handle)
        or normal_handle(webfinger)
        or normal_url(actor)
        or normal_url(url)
        or handle
    )


class _Members:
    """The member id of an answer's author (MemberMatcher.match, once per author)."""

    def __init__(self, members: Iterable[Member]) -> None:
        self._matcher = MemberMatcher.of(members)
        self._known: dict[tuple[str, str | None, str | None], str | None] = {}

    def __call__(self, rsvp: Rsvp) -> str | None:
        author = (rsvp.author_handle, rsvp.author_webfinger, rsvp.author_actor)
        if author not in self._known:
            self._known[author] = self._matcher.match(
                author[0], webfinger=author[1], actor=author[2]
            )
        return self._known[author]


def _latest_per_person(rsvps: Iterable[Rsvp], member_of: _Members) -> list[Rsvp]:
    """One answer per person (a member by any of their spellings), the latest."""
    by_person: dict[str, Rsvp] = {}
    for rsvp in sorted(rsvps, key=lambda r: (r.answered, r.author_handle)):
        member = member_of(rsvp)
        who = f"member:{member}" if member else person_key(rsvp)
        by_person.pop(who, None)  # (the later answer goes last)
        by_person[who] = rsvp
    return sorted(by_person.values(), key=lambda r: (r.answered, r.author_handle))


def _places(going: list[Rsvp], capacity: int | None) -> tuple[list[Rsvp], list[Rsvp]]:
    """(with a place, waiting): the sidecar's places first, then the waiting list
    moves up while places remain; beyond capacity the latest answers wait."""
    if capacity is None:
        return going, []
    placed = [r for r in going if not r.waiting]
    queued = [r for r in going if r.waiting]
    while len(placed) < capacity and queued:
        placed.append(queued.pop(0))
    order = {id(r): i for i, r in enumerate(going)}
    placed.sort(key=lambda r: order[id(r)])
    return placed[:capacity], placed[capacity:] + queued


def _attendance(event: Event, rsvps: list[Rsvp], member_of: _Members) -> Attendance:
    answers = _latest_per_person(rsvps, member_of)
    by_answer: dict[str, list[Rsvp]] = defaultdict(list)
    for rsvp in answers:
        by_answer[rsvp.answer].append(rsvp)
    going, waiting = _places(by_answer["going"], event.capacity)
    members = tuple(
        (person_key(r), member) for r in answers if (member := member_of(r)) is not None
    )
    return Attendance(
        going=tuple(going),
        waiting=tuple(waiting),
        maybe=tuple(by_answer["maybe"]),
        not_going=tuple(by_answer["not_going"]),
        capacity=event.capacity,
        members=members,
    )


def _first_timers(
    events: Iterable[Event], counted: Mapping[str, Attendance]
) -> dict[str, frozenset[str]]:
    seen: set[str] = set()
    firsts: dict[str, frozenset[str]] = {}
    for event in sorted(events, key=lambda e: (e.start, e.slug)):
        found = counted.get(event.slug)
        if found is None or event.status == "cancelled":
            continue
        members = dict(found.members)
        new = set()
        for rsvp in found.going:
            key = person_key(rsvp)
            who = f"member:{members[key]}" if key in members else key
            if who not in seen:
                seen.add(who)
                new.add(key)
        firsts[event.slug] = frozenset(new)
    return firsts


_last: tuple[object, object, object, AttendanceIndex] | None = None


def attendance_index(
    events: tuple[Event, ...], members: tuple[Member, ...], interactions: Interactions
) -> AttendanceIndex:
    """Every event's answers (pure; the last result is kept for the same inputs,
    as the pages, cards and objects of one build all ask)."""
    global _last
    if (
        _last is not None
        and _last[0] is events
        and _last[1] is members
        and _last[2] is interactions
    ):
        return _last[3]
    by_event: dict[str, list[Rsvp]] = defaultdict(list)
    for rsvp in interactions.rsvps:
        by_event[rsvp.event].append(rsvp)
    member_of = _Members(members)
    counted = {
        e.slug: _attendance(e, by_event[e.slug], member_of) for e in events if e.slug in by_event
    }
    firsts = _first_timers(events, counted)
    result = AttendanceIndex(
        {
            slug: dataclasses.replace(a, first_timers=firsts.get(slug, frozenset()))
            for slug, a in counted.items()
        }
    )
    _last = (events, members, interactions, result)
    return result
