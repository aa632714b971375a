"""Planning a publication: Create, Update, Delete against the recorded state, and the
first-run baseline. Pure: a hand-made Site and a SQLite file, no network."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from commsite.content.model import Site
from commsite.database import connect
from commsite.federation.delivery import DeliveryQueue
from commsite.federation.publication import enqueue_publication, plan_publication
from handmade_site import NOW, site

INBOXES = ["https://a.example/inbox", "https://b.example/inbox"]
OBJ = "https://example.org/ap/"


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(connect(tmp_path / "db.sqlite3")) as conn:
        yield conn


def kinds(activities: list[dict[str, object]]) -> list[tuple[object, object]]:
    out = []
    for a in activities:
        obj = a["object"]
        assert isinstance(obj, dict)
        out.append((a["type"], obj["id"]))
    return out


def test_first_run_announces_only_the_backfill_window(conn: sqlite3.Connection) -> None:
    s = site()
    # 7 days: the stories (12 days and 2 months old) and the past event are baseline;
    # the two upcoming events are announced, the one not cancelled with its RSVP
    # poll. Drafts never are.
    assert kinds(plan_publication(s, conn, NOW)) == [
        ("Create", OBJ + "events/winter-swap"),
        ("Create", OBJ + "events/online-chat"),
        ("Create", OBJ + "polls/online-chat"),
    ]
    assert kinds(plan_publication(s, conn, NOW, backfill_days=14)) == [
        ("Create", OBJ + "stories/tricky-title"),
        ("Create", OBJ + "events/winter-swap"),
        ("Create", OBJ + "events/online-chat"),
        ("Create", OBJ + "polls/online-chat"),
    ]
    assert plan_publication(s, conn, NOW, backfill_days=0) == []


def test_planning_records_nothing_enqueueing_records_everything(conn: sqlite3.Connection) -> None:
    s = site()
    queue = DeliveryQueue(conn)
    assert plan_publication(s, conn, NOW) == plan_publication(s, conn, NOW)
    publication, queued = enqueue_publication(s, conn, queue, INBOXES, NOW)
    assert publication.first_run and len(publication.activities) == 3
    assert len(publication.baseline) == 3
    assert queued == 6 and queue.pending() == 6
    assert plan_publication(s, conn, NOW) == []
    again, queued_again = enqueue_publication(s, conn, queue, INBOXES, NOW)
    assert again.activities == () and not again.first_run and queued_again == 0


def edited(s: Site) -> Site:
    story = next(st for st in s.stories if st.slug == "hello")
    changed = dataclasses.replace(story, body_html="<p>First post, now with a typo fixed.</p>")
    return dataclasses.replace(s, stories=tuple(changed if st is story else st for st in s.stories))


def test_changes_become_update_and_delete(conn: sqlite3.Connection) -> None:
    s = site()
    queue = DeliveryQueue(conn)
    enqueue_publication(s, conn, queue, INBOXES, NOW)
    later = NOW + timedelta(hours=1)
    changed = edited(s)
    changed = dataclasses.replace(
        changed, events=tuple(e for e in changed.events if e.slug != "winter-swap")
    )
    [update, delete] = plan_publication(changed, conn, later)
    assert update["type"] == "Update"
    assert update["object"]["id"] == OBJ + "stories/hello"  # type: ignore[index]
    assert "typo fixed" in update["object"]["content"]  # type: ignore[index]
    assert delete["type"] == "Delete"
    assert delete["object"] == {"id": OBJ + "events/winter-swap", "type": "Tombstone"}
    publication, _ = enqueue_publication(changed, conn, queue, INBOXES, later)
    assert [p.kind for p in publication.activities] == ["Update", "Delete"]
    assert plan_publication(changed, conn, later) == []
    # Going back: the story's old text is an edit again, the event is new again,
    # and its Create (whose id is derived from the object's) gets an id of its own.
    latest = later + timedelta(hours=1)
    restored, queued = enqueue_publication(s, conn, queue, INBOXES, latest)
    assert kinds([p.activity for p in restored.activities]) == [
        ("Update", OBJ + "stories/hello"),
        ("Create", OBJ + "events/winter-swap"),
    ]
    recreate = restored.activities[1].activity["id"]
    assert recreate == f"{OBJ}events/winter-swap#create-{int(latest.timestamp())}"
    assert queued == 4


def test_a_failed_enqueue_records_nothing(conn: sqlite3.Connection) -> None:
    s = site()

    class Broken(DeliveryQueue):
        def enqueue(self, *args: object, **kwargs: object) -> int:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        enqueue_publication(s, conn, Broken(conn), INBOXES, NOW)
    assert len(plan_publication(s, conn, NOW)) == 3  # still the first run


def test_polls_are_sent_once_and_rsvp_counts_alone_are_no_change(
    conn: sqlite3.Connection,
) -> None:
    from commsite.config import RsvpConfig
    from commsite.content.model import Interactions, Rsvp

    s = site()
    no_polls = dataclasses.replace(
        s, config=dataclasses.replace(s.config, rsvp=RsvpConfig(poll=False))
    )
    queue = DeliveryQueue(conn)
    first, _ = enqueue_publication(no_polls, conn, queue, INBOXES, NOW)
    assert [p.label for p in first.activities] == ["events/winter-swap", "events/online-chat"]
    # Polls switched on later: the upcoming event gets its poll, once.
    assert kinds(plan_publication(s, conn, NOW)) == [("Create", OBJ + "polls/online-chat")]
    enqueue_publication(s, conn, queue, INBOXES, NOW)
    assert plan_publication(s, conn, NOW) == []
    # An answer changes the event's counts: not an edit to announce.
    answered = dataclasses.replace(
        s,
        interactions=Interactions(
            rsvps=(
                Rsvp(
                    event="online-chat",
                    answer="going",
                    author_name="A",
                    author_handle="@a@x.example",
                    author_url="https://x.example/@a",
                    answered=NOW,
                    source="interactions/rsvps/online-chat.yaml",
                ),
            )
        ),
    )
    assert plan_publication(answered, conn, NOW) == []
    # The event deleted: its poll goes with it.
    gone = dataclasses.replace(s, events=tuple(e for e in s.events if e.slug != "online-chat"))
    assert kinds(plan_publication(gone, conn, NOW)) == [
        ("Delete", OBJ + "events/online-chat"),
        ("Delete", OBJ + "polls/online-chat"),
    ]
