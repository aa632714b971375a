"""Publishing and RSVPs, over loopback with real HTTP, SQLite and RSA keys: a new
event's poll is sent once; an answer alone sends nobody an Update; a
cancellation reaches the followers and everyone who answered, whose inboxes
come from the sidecar's store or their actor documents. The peers check our
signatures with apsig (an independent implementation, tests/publish_peers.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from commsite.database import connect
from commsite.datadir import DataDir
from commsite.federation.fetch import Fetcher
from commsite.federation.followers import Follower, FollowerStore
from commsite.federation.publish import PublishReport, publish
from commsite.federation.rsvp_publish import resolve_inboxes
from publish_peers import Instance, Origin, _answer, serve_actor, write_site

NOW = datetime.now(UTC).replace(microsecond=0)
START = (NOW + timedelta(days=20)).replace(hour=10, minute=0, second=0)


class Liar(Instance):
    """An instance whose actor claims an inbox on another server (the victim's)."""

    victim: str = ""

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        user = request.path.strip("/").split("/")[-1]
        doc = {"id": self.actor(user), "type": "Person", "inbox": self.victim + "/inbox"}
        _answer(request, 200, json.dumps(doc).encode(), "application/activity+json")


@dataclass
class World:
    root: Path
    origin: Origin
    follower: Instance  # alice follows us
    answerer: Instance  # rosa answered by poll, does not follow us
    stored: Instance  # sam answered by reply; the sidecar stored his actor
    liar: Liar  # mallory's actor points her inbox at the victim
    victim: Instance


def write_event(root: Path, status: str = "scheduled") -> None:
    (root / "content" / "events").mkdir(parents=True, exist_ok=True)
    (root / "content" / "events" / "swap.md").write_text(
        f"---\ntitle: Winter swap\nstart: {START.isoformat()}\ncapacity: 2\n"
        f"status: {status}\n---\nBring warm clothes.\n",
        encoding="utf-8",
    )


def write_rsvps(world: World) -> None:
    people = [
        (world.answerer, "rosa", "going", "poll"),
        (world.stored, "sam", "maybe", "reply"),
        (world.liar, "mallory", "going", "join"),
    ]
    lines = []
    for i, (instance, user, answer, via) in enumerate(people):
        lines.append(
            f"- author_name: {user}\n"
            f"  author_handle: '@{user}@{instance.name}.example'\n"
            f"  author_url: {instance.base}/@{user}\n"
            f"  author_actor: {instance.actor(user)}\n"
            f"  answer: {answer}\n  via: {via}\n"
            f"  answered: '{(NOW - timedelta(hours=3 - i)).isoformat()}'\n"
        )
    folder = world.root / "interactions" / "rsvps"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "swap.yaml").write_text("".join(lines), encoding="utf-8")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    origin = Origin()
    follower = Instance("fol", users=("alice",)).start()
    answerer = Instance("ans", users=("rosa",)).start()
    stored = Instance("sto", users=("sam",)).start()
    victim = Instance("victim", users=()).start()
    liar = Liar("liar", users=("mallory",)).start()
    liar.victim = victim.base
    root = tmp_path / "site"
    write_site(root, origin.base_url, {})
    write_event(root)
    serve_actor(origin, root, NOW)
    with closing(connect(DataDir.for_site(root).database)) as conn:
        FollowerStore(conn).add(
            Follower(
                actor=follower.actor("alice"),
                inbox=follower.inbox("alice"),
                shared_inbox=follower.shared_inbox,
                follow_id=follower.actor("alice") + "#follow",
                since=NOW,
                handle="@alice@fol.example",
            )
        )
        # The sidecar's store of actors, as its intake leaves it (sidecar/store.py).
        conn.execute(
            "CREATE TABLE inbox_actors (id TEXT PRIMARY KEY, handle TEXT NOT NULL,"
            " name TEXT NOT NULL, url TEXT, avatar TEXT, inbox TEXT, shared_inbox TEXT,"
            " fetched_at TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO inbox_actors VALUES"
            " (?, '@sam@sto.example', 'sam', NULL, NULL, ?, NULL, ?)",
            (stored.actor("sam"), stored.inbox("sam"), NOW.isoformat()),
        )
        conn.commit()
    yield World(root, origin, follower, answerer, stored, liar, victim)
    for server in (follower, answerer, stored, liar, victim, origin):
        server.stop()


def run(world: World) -> PublishReport:
    return publish(
        world.root, now=NOW, fetcher=Fetcher(allow_private=True, timeout=10), clock=lambda: NOW
    )


def test_poll_once_then_a_cancellation_reaches_followers_and_answerers(world: World) -> None:
    # 1. The new event and its poll: Create, Create, to the follower.
    report = run(world)
    assert [(p.kind, p.label) for p in report.publication.activities] == [
        ("Create", "events/swap"),
        ("Create", "polls/swap"),
    ]
    got = {r.type + " " + r.activity["object"]["type"] for r in world.follower.received}
    assert got == {"Create Event", "Create Question"}
    question = next(
        r.activity["object"]
        for r in world.follower.received
        if r.activity["object"]["type"] == "Question"
    )
    assert [o["name"] for o in question["oneOf"]] == ["Going", "Maybe", "Can't go"]
    assert question["endTime"].startswith(START.astimezone(UTC).date().isoformat())
    assert world.follower.rejected == []

    # 2. Answers arrive (exported by the sidecar): the counts change, nothing is sent.
    write_rsvps(world)
    assert run(world).publication.activities == ()

    # 3. The organiser cancels it: an Update of the event and one of its poll, to the
    # follower and to everyone who answered, but not to the liar's victim.
    write_event(world.root, "cancelled")
    report = run(world)
    assert [(p.kind, p.label) for p in report.publication.activities] == [
        ("Update", "events/swap"),
        ("Update", "polls/swap"),
    ]
    for instance, inbox in (
        (world.follower, "/inbox"),
        (world.answerer, "/inbox"),  # its actor's sharedInbox
        (world.stored, "/users/sam/inbox"),  # from the sidecar's store, no fetch
    ):
        updates = [r for r in instance.received if r.type == "Update"]
        assert {r.inbox for r in updates} == {inbox}, instance.name
        event = next(
            r.activity["object"] for r in updates if r.activity["object"]["type"] == "Event"
        )
        assert event["name"] == "Cancelled: Winter swap"
        assert event["content"].startswith("<p><strong>Cancelled</strong>")
        assert event["participantCount"] == 2 and event["remainingAttendeeCapacity"] == 0
        poll = next(
            r.activity["object"] for r in updates if r.activity["object"]["type"] == "Question"
        )
        assert poll["closed"] is True
        assert [o["replies"]["totalItems"] for o in poll["oneOf"]] == [2, 1, 0]
        assert instance.rejected == []
    assert world.victim.received == [] and world.victim.statuses == []
    assert world.liar.received == []


def test_inboxes_resolve_from_the_store_then_the_actor_on_its_own_server(
    world: World, tmp_path: Path
) -> None:
    warnings: list[str] = []
    with closing(connect(DataDir.for_site(world.root).database)) as conn:
        found = resolve_inboxes(
            [
                world.stored.actor("sam"),
                world.answerer.actor("rosa"),
                world.liar.actor("mallory"),
                world.answerer.actor("nobody"),  # 404
            ],
            conn,
            Fetcher(allow_private=True, timeout=5),
            warnings.append,
        )
    assert found == {
        world.stored.actor("sam"): world.stored.inbox("sam"),
        world.answerer.actor("rosa"): world.answerer.shared_inbox,
    }
    assert any("not on its own server" in w for w in warnings)
    assert any("no inbox found" in w for w in warnings)
    # Without the sidecar's table (a site that never ran one), fetching still works.
    with closing(sqlite3.connect(tmp_path / "empty.sqlite3")) as empty:
        assert resolve_inboxes([world.answerer.actor("rosa")], empty, None) == {}
