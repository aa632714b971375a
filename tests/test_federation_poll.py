"""The event's RSVP poll (a Question), checked against what Mastodon reads:
options in `oneOf` with `replies.totalItems`, `endTime`, `closed`, `votersCount`."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from commsite.activitypub.poll import question_object
from commsite.activitypub.vocabulary import PUBLIC
from commsite.config import RsvpConfig
from commsite.content.model import Site
from handmade_site import site

BASE = "https://example.org/"


def _event(s: Site, slug: str):  # type: ignore[no-untyped-def]
    return next(e for e in s.events if e.slug == slug)


def _upcoming() -> Site:
    s = site()
    swap = dataclasses.replace(_event(s, "winter-swap"), status="scheduled")
    return dataclasses.replace(s, events=(swap,))


def test_question_carries_the_options_counts_and_closing_time() -> None:
    s = _upcoming()
    event = s.events[0]
    q = question_object(s.config, event, {"going": 3, "not_going": 1}, 4, s.now)
    assert q["type"] == "Question"
    assert q["id"] == BASE + "ap/polls/winter-swap"
    assert q["attributedTo"] == BASE + "ap/actor"
    assert q["inReplyTo"] == q["context"] == BASE + "ap/events/winter-swap"
    assert q["to"] == [PUBLIC] and q["cc"] == [BASE + "ap/followers"]
    assert q["oneOf"] == [
        {"type": "Note", "name": "Going", "replies": {"type": "Collection", "totalItems": 3}},
        {"type": "Note", "name": "Maybe", "replies": {"type": "Collection", "totalItems": 0}},
        {"type": "Note", "name": "Can't go", "replies": {"type": "Collection", "totalItems": 1}},
    ]
    assert q["endTime"] == "2026-12-05T14:00:00Z"
    assert q["votersCount"] == 4
    assert "closed" not in q
    assert "Winter swap" in q["content"] and "one click" in q["content"]
    assert q["url"] in q["content"]
    # the context declares Mastodon's votersCount term
    assert {"votersCount": "toot:votersCount"}.items() <= q["@context"][-1].items()
    json.dumps(q)  # plain JSON


def test_option_names_come_from_the_config() -> None:
    s = _upcoming()
    options = (("going", "Ich komme"), ("maybe", "Vielleicht"), ("not_going", "Leider nicht"))
    s = dataclasses.replace(
        s, config=dataclasses.replace(s.config, rsvp=RsvpConfig(poll_options=options))
    )
    q = question_object(s.config, s.events[0], {}, 0, s.now)
    assert [o["name"] for o in q["oneOf"]] == ["Ich komme", "Vielleicht", "Leider nicht"]


def test_poll_closes_at_the_start() -> None:
    s = _upcoming()
    after = dataclasses.replace(s, now=datetime(2026, 12, 5, 14, 0, tzinfo=UTC))
    q = question_object(after.config, after.events[0], {"going": 2}, 2, after.now)
    assert q["closed"] == q["endTime"] == "2026-12-05T14:00:00Z"
    assert "closed" in q["content"]
    before = dataclasses.replace(s, now=after.now - timedelta(seconds=1))
    assert "closed" not in question_object(before.config, before.events[0], {}, 0, before.now)


def test_cancelled_event_closes_its_poll_and_says_so() -> None:
    s = site()  # winter-swap is cancelled, and still ahead
    q = question_object(s.config, _event(s, "winter-swap"), {"going": 1}, 1, s.now)
    assert q["closed"] is True
    assert "Cancelled: Winter swap" in q["content"]
    assert "one click" not in q["content"]


def test_hostile_title_and_counts_are_escaped_and_clamped() -> None:
    s = site()
    event = dataclasses.replace(_event(s, "spring-repair-day"), title="<script>x</script> & co")
    q = question_object(s.config, event, {"going": -5}, -1, s.now)
    assert "<script>" not in q["content"] and "&lt;script&gt;" in q["content"]
    assert q["oneOf"][0]["replies"]["totalItems"] == 0
    assert q["votersCount"] == 0


def test_poll_documents_are_served_as_activity_json_with_every_answer_counted() -> None:
    from commsite.activitypub.documents import federation_documents
    from commsite.activitypub.media_types import ACTIVITY_JSON
    from commsite.content.model import Interactions, Rsvp
    from commsite.site_files import content_type_for

    s = _upcoming()

    def answer(user: str, answer: str, via: str, **kw: object) -> Rsvp:
        return Rsvp(
            event="winter-swap",
            answer=answer,
            author_name=user,
            author_handle=f"@{user}@x.example",
            author_url=f"https://x.example/@{user}",
            answered=s.now,
            source="interactions/rsvps/winter-swap.yaml",
            via=via,
            **kw,  # type: ignore[arg-type]
        )

    s = dataclasses.replace(
        s,
        events=(dataclasses.replace(s.events[0], capacity=1),),
        interactions=Interactions(
            rsvps=(
                answer("a", "going", "poll"),
                answer("b", "going", "reply", waiting=True),  # waiting still voted "going"
                answer("c", "maybe", "join"),
                answer("d", "not_going", "reject"),
            )
        ),
    )
    docs, _ = federation_documents(s)
    poll = json.loads(docs["ap/polls/winter-swap"])
    assert [o["replies"]["totalItems"] for o in poll["oneOf"]] == [2, 1, 1]
    assert poll["votersCount"] == 4
    assert content_type_for("ap/polls/winter-swap") == ACTIVITY_JSON
    off = dataclasses.replace(s, config=dataclasses.replace(s.config, rsvp=RsvpConfig(poll=False)))
    assert not any(p.startswith("ap/polls/") for p in federation_documents(off)[0])
