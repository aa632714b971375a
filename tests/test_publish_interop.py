"""`publish` end to end over loopback: real HTTP, real SQLite, real RSA keys.

Three follower instances check our signatures with apsig (an independent
implementation): one slow, one that fails once with 500, one whose inbox is gone.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commsite.database import connect
from commsite.datadir import DataDir
from commsite.federation.delivery import DeliveryOutcome
from commsite.federation.fetch import Fetcher
from commsite.federation.followers import Follower, FollowerStore
from commsite.federation.publish import PublishReport, publish
from publish_peers import Instance, Origin, serve_actor, write_site, write_story

NOW = datetime.now(UTC).replace(microsecond=0)


def day(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).date().isoformat()


@dataclass
class World:
    root: Path
    origin: Origin
    slow: Instance  # alice and bob, sharing one shared inbox
    flaky: Instance  # carol: 500 the first time, then 202
    gone: Instance  # dave: personal inbox only, answers 410

    def followers(self) -> list[Follower]:
        with closing(connect(DataDir.for_site(self.root).database)) as conn:
            return FollowerStore(conn).all()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    origin = Origin()
    slow = Instance("slow", mode="slow", users=("alice", "bob")).start()
    flaky = Instance("flaky", mode="flaky", users=("carol",)).start()
    gone = Instance("gone", mode="gone", users=("dave",)).start()
    root = tmp_path / "site"
    write_site(
        root,
        origin.base_url,
        {
            "ancient": (day(40), "From long ago."),
            "tuesday": (day(3), "Tuesday's repairs."),
            "wednesday": (day(2), "Wednesday's repairs."),
            "thursday": (day(1), "Thursday's repairs."),
        },
    )
    serve_actor(origin, root, NOW)
    conn = connect(DataDir.for_site(root).database)
    store = FollowerStore(conn)
    for instance, user, shared in [
        (slow, "alice", True),
        (slow, "bob", True),
        (flaky, "carol", True),
        (gone, "dave", False),
    ]:
        store.add(
            Follower(
                actor=instance.actor(user),
                inbox=instance.inbox(user),
                shared_inbox=instance.shared_inbox if shared else None,
                follow_id=instance.actor(user) + "#follow",
                since=NOW,
                handle=f"@{user}@{instance.name}.example",
            )
        )
    conn.close()
    yield World(root, origin, slow, flaky, gone)
    for server in (slow, flaky, gone, origin):
        server.stop()


class Clock:
    """The queue's clock: frozen unless a test moves it (so backoff is due at once)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def run(world: World, clock: Clock, now: datetime = NOW) -> tuple[PublishReport, list[str]]:
    lines: list[str] = []

    def progress(outcome: DeliveryOutcome) -> None:
        lines.append(f"{outcome.status} {outcome.activity_id} {outcome.inbox}")

    report = publish(
        world.root,
        now=now,
        fetcher=Fetcher(allow_private=True, timeout=10),
        progress=progress,
        clock=clock,
    )
    return report, lines


def story_id(world: World, slug: str) -> str:
    return f"{world.origin.base_url}ap/stories/{slug}"


def test_publish_reaches_every_live_inbox_once_and_follows_changes(world: World) -> None:
    clock = Clock(NOW)
    shared = "/inbox"

    # 1. First publish: the 40-day-old story is the baseline; three are announced.
    report, _ = run(world, clock)
    creates = {story_id(world, s) + "#create" for s in ("tuesday", "wednesday", "thursday")}
    assert report.publication.first_run
    assert [b[0] for b in report.publication.baseline] == [story_id(world, "ancient")]
    assert {p.activity["id"] for p in report.publication.activities} == creates
    assert report.inboxes == 3  # alice and bob share one inbox
    assert report.pending == 1  # the flaky instance's first answer was a 500
    # At most per_host (2) requests to the gone inbox: its other row is dropped unsent.
    assert world.gone.statuses in ([410], [410, 410])
    assert sorted(f.handle or "" for f in world.followers()) == [
        "@alice@slow.example",
        "@bob@slow.example",
        "@carol@flaky.example",
    ]
    assert "1 follower gone" in report.summary(NOW)
    assert "1 retrying (next in " in report.summary(NOW)

    # 2. Later (the queue's clock moved past the backoff): only the retry goes out.
    clock.now = NOW + timedelta(hours=1)
    report, lines = run(world, clock)
    assert report.publication.activities == ()
    assert len(lines) == 1 and lines[0].startswith("delivered")
    assert report.pending == 0
    for instance in (world.slow, world.flaky):
        assert instance.ids(shared) == dict.fromkeys(creates, 1)
        assert instance.ids() == instance.ids(shared)  # nothing to personal inboxes
    assert world.flaky.statuses == [500, 202, 202, 202]

    # 3. Nothing changed: nothing is sent.
    report, lines = run(world, clock)
    assert lines == [] and report.summary(NOW) == "Nothing new to publish"
    assert sum(world.slow.ids().values()) == 3

    # 4. An edited story goes out as an Update, once per inbox.
    write_story(world.root, "wednesday", day(2), "Wednesday's repairs, with photos.")
    report, _ = run(world, clock, now=NOW + timedelta(minutes=5))
    [update] = report.publication.activities
    assert update.kind == "Update"
    for instance in (world.slow, world.flaky):
        [got] = [r for r in instance.received if r.type == "Update"]
        assert got.activity["object"]["id"] == story_id(world, "wednesday")
        assert "with photos" in got.activity["object"]["content"]
        assert got.activity["object"]["updated"]
        assert instance.ids()[got.activity_id] == 1

    # 5. A removed story goes out as a Delete with a Tombstone.
    (world.root / "content" / "stories" / "thursday.md").unlink()
    report, _ = run(world, clock, now=NOW + timedelta(minutes=10))
    assert [p.kind for p in report.publication.activities] == ["Delete"]
    for instance in (world.slow, world.flaky):
        [got] = [r for r in instance.received if r.type == "Delete"]
        assert got.activity["object"] == {"id": story_id(world, "thursday"), "type": "Tombstone"}

    # 6. And again: nothing.
    report, lines = run(world, clock, now=NOW + timedelta(minutes=15))
    assert lines == [] and report.publication.activities == ()

    # Every request verified with apsig; the peers saw each activity exactly once.
    for instance in (world.slow, world.flaky, world.gone):
        assert instance.rejected == []
    for instance in (world.slow, world.flaky):
        assert set(instance.ids().values()) == {1}
        assert len(instance.ids()) == 5  # 3 Creates, 1 Update, 1 Delete


def test_a_new_story_dated_long_ago_is_still_announced_after_the_first_run(world: World) -> None:
    clock = Clock(NOW)
    run(world, clock)
    write_story(world.root, "backdated", day(100), "Found in a drawer.")
    report, _ = run(world, clock)
    assert [(p.kind, p.label) for p in report.publication.activities] == [
        ("Create", "stories/backdated")
    ]


def test_backfill_zero_announces_nothing_on_the_first_run(world: World) -> None:
    report = publish(
        world.root,
        now=NOW,
        fetcher=Fetcher(allow_private=True, timeout=10),
        clock=Clock(NOW),
        backfill_days=0,
    )
    assert report.publication.activities == ()
    assert len(report.publication.baseline) == 4
    assert world.slow.received == [] and world.flaky.statuses == []


def test_dry_run_plans_without_recording_or_sending(world: World) -> None:
    report = publish(world.root, now=NOW, dry_run=True, clock=Clock(NOW))
    assert report.dry_run and len(report.publication.activities) == 3
    assert report.summary(NOW) == "3 activities → 3 inboxes (dry run: nothing queued or sent)"
    assert world.slow.statuses == []
    # Nothing was recorded: the real run still sees a first publish.
    real, _ = run(world, Clock(NOW))
    assert real.publication.first_run and len(real.publication.activities) == 3


def test_publish_without_a_private_key_says_how_to_make_one(world: World) -> None:
    shutil.rmtree(DataDir.for_site(world.root).path)
    with pytest.raises(Exception, match="run `commsite keys generate"):
        publish(world.root, now=NOW, fetcher=Fetcher(allow_private=True))
