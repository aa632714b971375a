"""Who is going, as views: the event page's RSVP section, the cards' "N going",
a recap's "who was there", and the members among those who liked or boosted.

Privacy: a listed member who answers is shown by name and face (their profile
is on the site already); anyone else is counted, and named only when they
answered in a public reply (`public: true`), linking to their own profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from commsite import urls
from commsite.content.attendance import Attendance, person_key
from commsite.content.model import Event, Reaction, Rsvp, Site
from commsite.render.cards import federation_on, is_past
from commsite.render.viewclass import view
from commsite.render.views import ImageView, PersonRef

__all__ = [
    "AttendanceView",
    "AttendeeView",
    "ReactorsView",
    "RsvpHowView",
    "attendance_view",
    "reactors_view",
    "who_was_there",
]


@view
class AttendeeView:
    name: str
    url: str | None  # the member's profile, or a public answerer's own profile
    avatar: ImageView | None  # a member's site avatar (nobody else's is loaded)
    member: bool
    first_event: bool  # their first event with a place among this site's events


@view
class RsvpHowView:
    """How to answer, shown while answers are open."""

    handle: str  # the community's "@handle@host"
    object_url: str  # the event's ActivityPub id: what to search for in an app
    poll_url: str | None  # the poll's id, when publishing sends one
    going: str  # the first reply word of each answer
    maybe: str
    not_going: str


@view
class AttendanceView:
    going: int  # with a place
    maybe: int
    waiting: int
    capacity: int | None
    remaining: int | None
    full: bool
    people: tuple[AttendeeView, ...]  # going with a place, members and public answerers
    others: int  # going with a place, not named
    open: bool  # answers still change something: upcoming and not cancelled
    how: RsvpHowView | None


@view
class ReactorsView:
    """The members among those who liked or boosted, and how many others did."""

    liked_by: tuple[PersonRef, ...] = ()
    liked_others: int = 0
    boosted_by: tuple[PersonRef, ...] = ()
    boosted_others: int = 0


def _attendee(
    rsvp: Rsvp, member: str | None, refs: Mapping[str, PersonRef], first: bool
) -> AttendeeView | None:
    ref = refs.get(member) if member else None
    if ref is not None:
        return AttendeeView(ref.name, ref.url, ref.avatar, True, first)
    if rsvp.public:
        return AttendeeView(
            rsvp.author_name or rsvp.author_handle, rsvp.author_url, None, False, first
        )
    return None


def _shown(attendance: Attendance, refs: Mapping[str, PersonRef]) -> list[AttendeeView]:
    members = dict(attendance.members)
    shown = []
    for rsvp in attendance.going:
        key = person_key(rsvp)
        person = _attendee(rsvp, members.get(key), refs, key in attendance.first_timers)
        if person is not None:
            shown.append(person)
    # Members first (by name), then the public answerers, in order of answer.
    return sorted(shown, key=lambda p: (not p.member, p.name.casefold() if p.member else ""))


def _how(site: Site, event: Event) -> RsvpHowView | None:
    config = site.config
    if not federation_on(site):
        return None
    rsvp = config.rsvp

    def word(answer: str, fallback: str) -> str:
        words = rsvp.words_for(answer)
        return words[0] if words else fallback

    return RsvpHowView(
        handle=config.fediverse_handle,
        object_url=config.url(urls.event_object(event.slug)),
        poll_url=config.url(urls.event_poll(event.slug)) if rsvp.poll else None,
        going=word("going", "going"),
        maybe=word("maybe", "maybe"),
        not_going=word("not_going", "can't make it"),
    )


def attendance_view(
    site: Site,
    event: Event,
    attendance: Attendance,
    refs: Mapping[str, PersonRef],
    answers_open: bool | None = None,
) -> AttendanceView:
    """`answers_open`: whether answers are still taken (not past, not cancelled,
    not started), when the caller has read it already (render.pages.reads)."""
    people = _shown(attendance, refs)
    open_ = (
        answers_open
        if answers_open is not None
        else not is_past(site, event) and event.status != "cancelled" and site.now < event.start
    )
    return AttendanceView(
        going=len(attendance.going),
        maybe=len(attendance.maybe),
        waiting=len(attendance.waiting),
        capacity=attendance.capacity,
        remaining=attendance.remaining,
        full=attendance.full,
        people=tuple(people),
        others=len(attendance.going) - len(people),
        open=open_,
        how=_how(site, event) if open_ else None,
    )


def who_was_there(
    attendance: Attendance, refs: Mapping[str, PersonRef]
) -> tuple[tuple[AttendeeView, ...], int]:
    """The members who had a place (faces and names), and how many others did."""
    members = [p for p in _shown(attendance, refs) if p.member]
    return tuple(members), len(attendance.going) - len(members)


def reactors_view(
    reaction: Reaction | None,
    members: Sequence[tuple[str, str]],
    refs: Mapping[str, PersonRef],
) -> ReactorsView:
    """The members among who reacted (`members`: (kind, member id), as
    threads.index_interactions found them), each once per kind, by name; the
    counts are the reaction's (an export may list fewer people than it counted)."""
    likes = reaction.likes if reaction else 0
    boosts = reaction.boosts if reaction else 0
    found: dict[str, dict[str, PersonRef]] = {"like": {}, "boost": {}}
    for kind, member in members:
        ref = refs.get(member)
        if ref is not None and kind in found:
            found[kind].setdefault(member, ref)
    likers = sorted(found["like"].values(), key=lambda r: r.name.casefold())
    boosters = sorted(found["boost"].values(), key=lambda r: r.name.casefold())
    return ReactorsView(
        liked_by=tuple(likers),
        liked_others=max(0, likes - len(likers)),
        boosted_by=tuple(boosters),
        boosted_others=max(0, boosts - len(boosters)),
    )
