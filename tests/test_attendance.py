"""Who is going: RSVPs counted (content/attendance.py) and shown (render/attendance.py):
one answer per person, capacity honoured at build time, first-timers, privacy."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from commsite.content.attendance import attendance_index
from commsite.content.model import Event, Interactions, Member, Reaction, Reactor, Rsvp, Site
from commsite.render.attendance import attendance_view, reactors_view, who_was_there
from commsite.render.cards import person_ref
from commsite.render.threads import index_interactions
from handmade_site import site as handmade

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ADA = Member(id="ada", name="Ada", bio_html="", source="m/ada.md", handle="@ada@one.example")
BO = Member(
    id="bo",
    name="Bo",
    bio_html="",
    source="m/bo.md",
    links=(("Fediverse", "https://two.example/users/bo"),),
)


def rsvp(user: str, answer: str = "going", minutes: int = 0, **kw: object) -> Rsvp:
    host = kw.pop("host", "one.example")
    fields: dict[str, object] = {
        "event": "e1",
        "answer": answer,
        "author_name": user.title(),
        "author_handle": f"@{user}@{host}",
        "author_url": f"https://{host}/@{user}",
        "answered": T0 + timedelta(minutes=minutes),
        "source": "interactions/rsvps/e1.yaml",
    }
    fields.update(kw)
    return Rsvp(**fields)  # type: ignore[arg-type]


def event(slug: str = "e1", days: int = 30, **kw: object) -> Event:
    return Event(
        slug=slug,
        title=slug,
        start=datetime(2026, 11, 1, 12, tzinfo=UTC) + timedelta(days=days),
        body_html="",
        summary="",
        source=f"content/events/{slug}.md",
        **kw,  # type: ignore[arg-type]
    )


def count(events: tuple[Event, ...], *rsvps: Rsvp):  # type: ignore[no-untyped-def]
    return attendance_index(events, (ADA, BO), Interactions(rsvps=rsvps))


def test_a_later_answer_replaces_the_earlier_one_whatever_the_spelling() -> None:
    e = event()
    a = count(
        (e,),
        rsvp("ada", "going", 0),
        # the same member, known by her webfinger handle on another host
        rsvp("ada2", "not_going", 5, host="alt.example", author_webfinger="ada@ONE.example"),
        rsvp("cy", "maybe", 1),
        rsvp("CY", "going", 2),  # handles compare case-insensitively
    ).of(e)
    assert [r.author_handle for r in a.going] == ["@CY@one.example"]
    assert [r.author_handle for r in a.not_going] == ["@ada2@alt.example"]
    assert a.maybe == ()


def test_capacity_is_honoured_at_build_time() -> None:
    small = event(capacity=2)
    answers = (
        rsvp("a", minutes=1),
        rsvp("b", minutes=2),
        rsvp("c", minutes=3),
        rsvp("d", minutes=4, waiting=True),
    )
    a = count((small,), *answers).of(small)
    # the sidecar gave c a place and d none; the repo says 2 places: the latest wait
    assert [r.author_name for r in a.going] == ["A", "B"]
    assert [r.author_name for r in a.waiting] == ["C", "D"]
    assert a.full and a.remaining == 0
    bigger = dataclasses.replace(small, capacity=4)
    a = count((bigger,), *answers).of(bigger)
    assert [r.author_name for r in a.going] == ["A", "B", "C", "D"]  # d moved up
    assert a.waiting == () and a.full
    unlimited = dataclasses.replace(small, capacity=None)
    a = count((unlimited,), *answers).of(unlimited)
    assert len(a.going) == 4 and a.remaining is None and not a.full


def test_first_event_is_the_first_place_taken_in_an_event_that_took_place() -> None:
    early = event("early", days=-60)
    dropped = event("dropped", days=-30, status="cancelled")
    now = event("e1")
    index = count(
        (early, dropped, now),
        rsvp("ada", event="early"),  # ada went to an earlier event
        rsvp("cy", event="dropped"),  # cy only to a cancelled one
        rsvp("dee", event="early", answer="maybe"),  # a maybe is no visit
        rsvp("ada", event="e1", minutes=1, author_webfinger=None),
        rsvp("cy", event="e1", minutes=2),
        rsvp("dee", event="e1", minutes=3),
    )
    assert index.of(now).first_timers == {"@cy@one.example", "@dee@one.example"}
    assert index.of(early).first_timers == {"@ada@one.example"}


def _site(*events: Event) -> Site:
    return dataclasses.replace(handmade(), events=events, members=(ADA, BO))


def test_members_are_named_others_counted_unless_they_answered_publicly() -> None:
    e = event()
    s = _site(e)
    refs = {m.id: person_ref(s.config, m) for m in (ADA, BO)}
    a = count(
        (e,),
        rsvp("zed", minutes=0),  # private: counted only
        rsvp("pub", minutes=1, public=True, author_name="Pub <b>"),
        rsvp("bo", minutes=2, host="two.example", author_actor="https://two.example/users/bo"),
        rsvp("ada", minutes=3),
        rsvp("may", "maybe", minutes=4, public=True),
    ).of(e)
    view = attendance_view(s, e, a, refs)
    assert [(p.name, p.member, p.url) for p in view.people] == [
        ("Ada", True, "/members/ada/"),
        ("Bo", True, "/members/bo/"),
        ("Pub <b>", False, "https://one.example/@pub"),
    ]
    assert "Zed" not in repr(view)
    assert (view.going, view.others, view.maybe, view.open) == (4, 1, 1, True)
    assert view.how is not None
    assert view.how.poll_url == "https://example.org/ap/polls/e1"
    assert view.how.handle == "@riverside@example.org"


def test_no_answers_once_it_started_or_is_cancelled() -> None:
    started = event(days=-1)
    cancelled = event(status="cancelled")
    s = _site(started, cancelled)
    for e in (started, cancelled):
        view = attendance_view(s, e, count((e,)).of(e), {})
        assert not view.open and view.how is None


def test_who_was_there_is_the_members_with_a_place() -> None:
    e = event(days=-10, capacity=1)
    s = _site(e)
    refs = {m.id: person_ref(s.config, m) for m in (ADA, BO)}
    a = count(
        (e,),
        rsvp("ada", minutes=1),
        rsvp("bo", minutes=2, host="two.example", author_actor="https://two.example/users/bo"),
    ).of(e)
    people, others = who_was_there(a, refs)
    assert [p.name for p in people] == ["Ada"] and others == 0  # Bo was waiting


def test_reactions_show_members_and_count_the_rest() -> None:
    def by(user: str, kind: str, host: str = "one.example") -> Reactor:
        return Reactor(kind, user.title(), f"@{user}@{host}", f"https://{host}/@{user}")

    reactions = (
        Reaction("stories/x", likes=3, boosts=0, by=(by("ada", "like"), by("zed", "like"))),
        # a second record for the same post: added up, people kept
        Reaction("stories/x", likes=2, boosts=1, by=(by("bo", "boost", "two.example"),)),
    )
    bo = dataclasses.replace(BO, handle="@bo@two.example")
    index = index_interactions(Interactions(reactions=reactions), (ADA, bo))
    s = handmade()
    refs = {m.id: person_ref(s.config, m) for m in (ADA, bo)}
    view = reactors_view(index.reactions["stories/x"], index.reactors["stories/x"], refs)
    assert [p.name for p in view.liked_by] == ["Ada"] and view.liked_others == 4
    assert [p.name for p in view.boosted_by] == ["Bo"] and view.boosted_others == 0
    # an export listing more likers than it counted never shows a negative count
    assert reactors_view(None, (("like", "ada"),), refs).liked_others == 0
