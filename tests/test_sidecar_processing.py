"""Processing stored activities: hostile cases, threads of any depth, tombstones, retries.

A real Store (SQLite file), real Processor and Worker; remote profiles are
already in the cache, so nothing here needs the network except the retry
test, which points at a port nobody listens on.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import pg
from commsite.config import ModerationConfig
from commsite.federation.fetch import Fetcher
from commsite.sidecar.processing import Processor
from commsite.sidecar.profiles import Profile, Profiles
from commsite.sidecar.store import Store, iso
from commsite.sidecar.targets import Targets
from commsite.sidecar.worker import INBOX_RETRIES, MAX_ATTEMPTS, RebuildNotifier, Worker
from sample_site import config as sample_config
from sample_site import site as sample_site

pytestmark = pytest.mark.usefixtures("backend")

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
STORY = "https://repair.example/ap/stories/tricky"
US = "https://repair.example/ap/actor"
PUBLIC = ["https://www.w3.org/ns/activitystreams#Public"]
BOB = "https://r.example/users/bob"
EVE = "https://r.example/users/eve"
MALLORY = "https://evil.example/users/mallory"


def clock() -> datetime:
    return NOW


def make(tmp_path: Path, **moderation: Any) -> Processor:
    store = Store(pg.target(tmp_path / "db.sqlite3"))
    fetcher = Fetcher(allow_private=True, timeout=2.0)
    profiles = Profiles(store, fetcher, clock)
    for actor in (BOB, EVE, MALLORY):
        user, host = actor.rsplit("/", 1)[1], actor.split("/")[2]
        profiles.save(
            Profile(actor, f"@{user}@{host}", user.title(), None, None, actor + "/inbox", None)
        )
    cfg = (
        sample_config(moderation=ModerationConfig(**moderation)) if moderation else sample_config()
    )
    site = sample_site(config=cfg)
    return Processor(
        config=cfg, store=store, profiles=profiles, targets=Targets(lambda: site), clock=clock
    )


def note(actor: str, n: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"{actor}/statuses/{n}", "type": "Note", "attributedTo": actor,
            "content": f"<p>note {n}</p>", "to": PUBLIC, **fields}  # fmt: skip


def act(type_: str, actor: str, obj: Any, n: int = 0) -> dict[str, Any]:
    object_id = obj["id"] if isinstance(obj, dict) else obj
    return {"id": f"{object_id}#{type_}/{n}", "type": type_, "actor": actor, "object": obj}


def item(p: Processor, ap_id: str) -> dict[str, Any] | None:
    row = p.store.conn.execute("SELECT * FROM inbox_items WHERE ap_id = ?", (ap_id,)).fetchone()
    return None if row is None else dict(row)


def test_replies_of_any_depth_join_the_thread(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    a = note(BOB, 1, inReplyTo=STORY)
    b = note(EVE, 2, inReplyTo=a["id"])
    c = note(BOB, 3, inReplyTo=b["id"])
    for n in (a, b, c):
        assert p.process(act("Create", n["attributedTo"], n)).state == "done"
    assert [item(p, n["id"])["target"] for n in (a, b, c)] == ["stories/tricky"] * 3  # type: ignore[index]


def test_a_note_from_another_host_or_author_is_refused(tmp_path: Path) -> None:
    p = make(tmp_path)
    foreign = note(MALLORY, 1, inReplyTo=STORY)
    foreign["id"] = "https://r.example/users/bob/statuses/99"
    outcome = p.process(act("Create", MALLORY, foreign))
    assert (outcome.state, outcome.detail) == (
        "refused",
        "the object's id is not on the actor's host",
    )
    impostor = note(BOB, 5, inReplyTo=STORY, attributedTo=EVE)
    assert (
        p.process(act("Create", BOB, impostor)).detail == "the object is attributed to someone else"
    )


def test_only_the_author_edits_or_deletes(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    mine = note(BOB, 1, inReplyTo=STORY)
    p.process(act("Create", BOB, mine))
    forged = {**mine, "content": "<p>spam</p>", "attributedTo": EVE}
    assert p.process(act("Update", EVE, forged)).state == "refused"
    assert p.process(act("Delete", EVE, mine["id"])).state == "refused"
    assert item(p, mine["id"])["content_html"] == "<p>note 1</p>"  # type: ignore[index]


def test_an_edit_that_adds_a_hold_keyword_goes_back_to_waiting(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone", hold_keywords=("casino",))
    reply = note(BOB, 1, inReplyTo=STORY)
    p.process(act("Create", BOB, reply))
    assert item(p, reply["id"])["status"] == "approved"  # type: ignore[index]
    edit = {**reply, "content": "<p>visit my casino</p>", "updated": "2026-11-22T02:00:00Z"}
    outcome = p.process(act("Update", BOB, edit))
    assert outcome.public_change
    row = item(p, reply["id"])
    assert row is not None
    assert (row["status"], row["hold_reason"], row["updated"]) == (
        "pending",
        "edited to contain hold keyword 'casino'",
        "2026-11-22T02:00:00+00:00",
    )


def test_a_delete_that_arrives_first_keeps_the_create_out(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    reply = note(BOB, 1, inReplyTo=STORY)
    tombstone = {"id": reply["id"], "type": "Tombstone"}
    assert p.process(act("Delete", BOB, tombstone)).detail == "tombstone kept (not stored)"
    assert p.process(act("Create", BOB, reply)).state == "refused"
    assert item(p, reply["id"]) is None


def test_a_delete_of_an_object_on_another_host_is_refused(tmp_path: Path) -> None:
    """Otherwise anyone could tombstone anyone's posts in advance."""
    p = make(tmp_path)
    assert p.process(act("Delete", MALLORY, f"{BOB}/statuses/1")).state == "refused"
    assert p.process(act("Create", BOB, note(BOB, 1, inReplyTo=STORY))).state == "done"


def test_reactions_count_once_and_only_the_reactor_can_undo(tmp_path: Path) -> None:
    p = make(tmp_path)
    like = act("Like", BOB, STORY, 1)
    assert p.process(like).state == "done"
    assert p.process({**like, "id": like["id"] + "-again"}).state == "ignored"  # one like each
    assert p.process(act("Like", BOB, "https://elsewhere.example/post")).state == "ignored"
    assert p.process(act("Undo", EVE, like)).state == "refused"
    assert p.process(act("Undo", BOB, like)).detail == "reaction withdrawn"
    assert p.store.conn.execute("SELECT COUNT(*) FROM inbox_reactions").fetchone()[0] == 0


def test_flags_become_reports_for_organisers(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    flag: dict[str, Any] = {"id": f"{BOB}/flags/1", "type": "Flag", "actor": BOB,
                            "content": "<b>spam</b> here",
                            "object": [US, f"{EVE}/statuses/3"]}  # fmt: skip
    assert p.process(flag).state == "done"
    row = item(p, flag["id"])
    assert row is not None
    assert (row["kind"], row["status"]) == ("report", "pending")
    assert row["content_html"] == "<p>&lt;b&gt;spam&lt;/b&gt; here</p>"
    assert json.loads(row["tags"]) == sorted([US, f"{EVE}/statuses/3"])


def test_profile_updates_only_from_the_actor_itself(tmp_path: Path) -> None:
    p = make(tmp_path)
    person = {"id": BOB, "type": "Person", "preferredUsername": "bob", "name": "Robert"}
    assert p.process(act("Update", EVE, person)).state == "refused"
    assert p.process(act("Update", BOB, person)).state == "done"
    assert p.profiles.get(BOB).name == "Robert"


def test_a_follow_of_someone_else_is_ignored(tmp_path: Path) -> None:
    p = make(tmp_path)
    follow = act("Follow", BOB, "https://repair.example/someone-else")
    assert p.process(follow).state == "ignored"
    assert p.store.followers.count() == 0


def test_delete_actor_purges_and_keeps_tombstones(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    reply = note(BOB, 1, inReplyTo=STORY)
    p.process(act("Create", BOB, reply))
    p.process(act("Like", BOB, STORY, 1))
    outcome = p.process(act("Delete", BOB, BOB))
    assert (outcome.state, outcome.public_change) == ("done", True)
    assert item(p, reply["id"]) is None
    assert p.process(act("Create", BOB, reply, 2)).state == "refused"


# --- the worker: states and retries ------------------------------------------------


def queue_unreachable(p: Processor, count: int) -> None:
    """`count` replies whose authors' server refuses connections (the discard port),
    arrived at NOW: fetching each author's profile fails, which a retry can heal."""
    with p.store.transaction() as conn:
        for n in range(count):
            stranger = f"http://127.0.0.1:9/users/zed{n}"
            activity = act("Create", stranger, note(stranger, 1, inReplyTo=STORY))
            conn.execute(
                "INSERT INTO inbox_activities (id, type, actor, key_id, body, received_at,"
                " next_attempt_at) VALUES (?, 'Create', ?, ?, ?, ?, ?)",
                (activity["id"], stranger, stranger + "#k", json.dumps(activity), iso(NOW),
                 iso(NOW)),
            )  # fmt: skip


def worker_of(
    p: Processor, now: Callable[[], datetime] = clock, seed: int = 0, **more: Any
) -> Worker:
    """A worker for `p`'s store, its clock `now`, its retries' jitter from `seed`."""
    return Worker(
        store=p.store,
        processor=more.pop("processor", p),
        fetcher=p.profiles.fetcher,
        signing_key=("k", None),  # type: ignore[arg-type]
        clock=now,
        notifier=RebuildNotifier(None),
        rng=random.Random(seed),
        **more,
    )


def test_a_fetch_that_fails_is_retried_with_backoff_then_fails(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    queue_unreachable(p, 1)
    now = {"t": NOW}
    worker = worker_of(p, lambda: now["t"], seed=7)

    def state() -> tuple[str, int, str]:
        row = p.store.conn.execute(
            "SELECT state, attempts, next_attempt_at FROM inbox_activities"
        ).fetchone()
        return row["state"], row["attempts"], row["next_attempt_at"]

    (row,) = worker.claim(10)
    worker.process_row(row["id"], row["body"], row["attempts"])
    # 30 s give or take a quarter, as the seed draws it.
    first = INBOX_RETRIES.delay(1, random.Random(7))
    assert timedelta(seconds=22.5) <= first <= timedelta(seconds=37.5)
    assert state() == ("retry", 1, iso(NOW + first))
    assert worker.claim(10) == []  # not due yet
    for _ in range(MAX_ATTEMPTS - 1):
        now["t"] += timedelta(hours=7)
        (row,) = worker.claim(10)
        worker.process_row(row["id"], row["body"], row["attempts"])
    assert state()[:2] == ("failed", MAX_ATTEMPTS)


def test_activities_that_fail_together_are_retried_apart(tmp_path: Path) -> None:
    """Twenty replies whose authors' server is down all fail in one pass; their
    retries are spread over 22.5 to 37.5 s (stored to the second), not all at
    NOW + 30 s; the same times again for the same seed."""

    def retried(folder: Path, seed: int) -> list[str]:
        p = make(folder, approve="everyone")
        queue_unreachable(p, 20)
        worker = worker_of(p, seed=seed)
        for row in worker.claim(50):
            worker.process_row(row["id"], row["body"], row["attempts"])
        rows = p.store.conn.execute(
            "SELECT state, next_attempt_at FROM inbox_activities ORDER BY id"
        ).fetchall()
        assert {row["state"] for row in rows} == {"retry"}
        return [row["next_attempt_at"] for row in rows]

    times = retried(tmp_path / "a", seed=1)
    seconds = [(datetime.fromisoformat(at) - NOW).total_seconds() for at in times]
    assert all(22 <= s <= 37 for s in seconds), seconds
    assert len(set(seconds)) >= 8 and max(seconds) - min(seconds) >= 8, seconds
    assert retried(tmp_path / "b", seed=1) == times


def test_an_idle_worker_takes_at_once_what_another_process_queued(tmp_path: Path) -> None:
    """`commsite sidecar --worker-only` beside the processes that answer HTTP (or
    `commsite publish`): an activity another connection stores, and a delivery it
    queues, are taken within a few of the worker's looks (`tick`), not at its next
    pass (`poll`, a minute here)."""
    p = make(tmp_path)
    other = Store(p.store.target)  # another process's connection to the database
    looked, processed, delivered = threading.Event(), threading.Event(), threading.Event()
    worker = worker_of(p, poll=60.0, tick=0.05)
    look, process = worker.queued_elsewhere, p.process

    def looking() -> bool:
        looked.set()  # (the worker is idle: its pass is over)
        return look()

    def processing(activity: dict[str, Any], **options: Any) -> Any:
        outcome = process(activity, **options)
        processed.set()
        return outcome

    worker.queued_elsewhere = looking  # type: ignore[method-assign]
    p.process = processing  # type: ignore[method-assign]
    worker.deliver = delivered.set  # type: ignore[method-assign]
    worker.start()
    try:
        assert looked.wait(10)
        like = act("Like", BOB, STORY, 1)
        body = json.dumps(like)
        other.add_activity(
            activity_id=like["id"], type_="Like", actor=BOB, key_id="k", body=body, now=NOW
        )
        assert processed.wait(10), "the stored activity waited for the worker's poll"
        looked.clear()
        assert looked.wait(10)
        assert not delivered.is_set()
        create = {"id": "https://repair.example/ap/stories/tricky#create", "type": "Create"}
        other.deliveries.enqueue(create, ["https://r.example/inbox"], now=NOW)
        assert delivered.wait(10), "the queued delivery waited for the worker's poll"
    finally:
        worker.stop()
        other.close()
    assert p.store.conn.execute("SELECT state FROM inbox_activities").fetchone()[0] == "done"


def test_an_expired_lease_is_taken_over(tmp_path: Path) -> None:
    p = make(tmp_path)
    like = act("Like", BOB, STORY, 1)
    with p.store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_activities (id, type, actor, key_id, body, received_at, state,"
            " lease_until) VALUES (?, 'Like', ?, 'k', ?, ?, 'processing', ?)",
            (like["id"], BOB, json.dumps(like), iso(NOW), iso(NOW - timedelta(seconds=1))),
        )
    worker = worker_of(p)
    assert worker.run_once()
    assert p.store.conn.execute("SELECT state FROM inbox_activities").fetchone()[0] == "done"


def test_a_batch_claimed_too_long_ago_hands_the_rest_back(tmp_path: Path) -> None:
    """Slow processing must not outlive the claim's lease (another process would take
    the rest and both would process them): past half the lease, the rest goes back."""
    import time

    p = make(tmp_path)
    likes = [act("Like", BOB, STORY, n) for n in range(5)]
    with p.store.transaction() as conn:
        for like in likes:
            conn.execute(
                "INSERT INTO inbox_activities (id, type, actor, key_id, body, received_at,"
                " next_attempt_at) VALUES (?, 'Like', ?, 'k', ?, ?, ?)",
                (like["id"], BOB, json.dumps(like), iso(NOW), iso(NOW)),
            )

    class Slow:
        def process(self, activity: dict[str, Any], *, final: bool = False) -> Any:
            time.sleep(0.3)
            return p.process(activity, final=final)

    worker = worker_of(p, processor=Slow(), lease=timedelta(seconds=0.5))
    assert worker.run_once()
    rows = p.store.conn.execute(
        "SELECT state, lease_token FROM inbox_activities ORDER BY received_at, id"
    ).fetchall()
    # The first was processed (0.3 s), then a quarter second had passed: the rest go back.
    assert [tuple(r) for r in rows].count(("done", None)) == 1
    assert [tuple(r) for r in rows].count(("processing", None)) == 4
    assert len(worker.claim(10)) == 4  # claimable again at once


@pytest.mark.parametrize("status", [200, 204])
def test_the_rebuild_webhook_is_debounced_and_retried(status: int) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls: list[Any] = []

    class Hook(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            calls.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(500 if len(calls) == 1 else status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    notifier = RebuildNotifier(
        f"http://127.0.0.1:{server.server_address[1]}/", delays=(0.1,), debounce=0.2
    )
    notifier.start()
    try:
        notifier.notify("a")
        notifier.notify("b")
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while len(calls) < 2 and datetime.now(UTC) < deadline:
            threading.Event().wait(0.05)
    finally:
        notifier.stop()
        server.shutdown()
        server.server_close()
    assert calls == [{"event": "interactions-changed", "reasons": ["a", "b"]}] * 2
