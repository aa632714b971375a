"""Several sidecar processes on one PostgreSQL database (issue 19, point 2).

Two real sidecars (open_sidecar under waitress, each with its own connections
and worker) share one database, as processes on two hosts behind a load
balancer would: the same activity delivered to both at once is stored once,
the per-domain rate limit holds across them, and `commsite sidecar
--worker-only` processes what an inbox process stored.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pg
from commsite.database import OPERATIONAL_ERRORS, connect
from commsite.sidecar.ratelimit_store import StoredRateLimiter
from commsite.sidecar.store import Store
from sidecar_peer import (
    PUBLIC,
    Remote,
    Reply,
    SiteOrigin,
    post,
    running,
    serve_our_actor,
    write_site,
)


@pytest.fixture(scope="module")
def remote() -> Iterator[Remote]:
    peer = Remote(users=("alice", "bob")).start()
    yield peer
    peer.stop()


def note_create(remote: Remote, n: int, user: str = "alice") -> dict[str, object]:
    actor = remote.actor(user)
    note = {"id": f"{actor}/statuses/s{n}", "type": "Note", "attributedTo": actor,
            "content": f"<p>hi {n}</p>", "to": [PUBLIC]}  # fmt: skip
    return {"id": f"{note['id']}/activity", "type": "Create", "actor": actor, "object": note}


@pytest.mark.usefixtures("backend")
def test_the_stored_rate_limit_is_one_bucket_for_every_connection(tmp_path: Path) -> None:
    target = pg.target(tmp_path / "db.sqlite3")
    one, two = Store(target), Store(target)  # two processes' connections
    a, b = StoredRateLimiter(one, rate=2.0, burst=3), StoredRateLimiter(two, rate=2.0, burst=3)
    assert [a.take("x", 100.0), b.take("x", 100.0), a.take("x", 100.0)] == [0.0, 0.0, 0.0]
    assert b.take("x", 100.0) == pytest.approx(0.5)  # the burst is spent, whoever spent it
    assert a.take("x", 100.5) == 0.0  # refilled at `rate`
    assert b.take("x", 100.6) == pytest.approx(0.4)
    assert a.take("x", 90.0) == pytest.approx(0.4)  # a clock behind never refills backwards
    assert a.take("y", 100.6) == 0.0  # another domain, another bucket
    one.close()
    two.close()


def at_once(remote: Remote, activity: dict[str, object], inboxes: list[str]) -> list[Reply]:
    """POST the same activity to every inbox at the same moment; the replies in order."""
    body = json.dumps(activity).encode()
    signed = [(inbox, remote.signed_headers("alice", inbox, body)) for inbox in inboxes]
    replies: list[Reply | None] = [None] * len(inboxes)
    start = threading.Barrier(len(inboxes))

    def send(i: int) -> None:
        start.wait()
        replies[i] = post(signed[i][0], body, signed[i][1])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(inboxes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in replies if r is not None]


def test_two_sidecars_on_one_database_store_a_delivery_once_and_share_the_rate(
    tmp_path: Path, origin: SiteOrigin, remote: Remote
) -> None:
    pg.activate("postgresql")
    try:
        write_site(tmp_path, origin.base_url)
    finally:
        pg.activate()
    serve_our_actor(origin, tmp_path)
    with running(tmp_path) as first, running(tmp_path) as second:
        for n in range(12):
            activity = note_create(remote, n)
            replies = at_once(remote, activity, [first.inbox, second.inbox])
            assert [r.status for r in replies] == [202, 202]
            assert sorted(r.json["status"] for r in replies) == ["accepted", "duplicate"]
            with first.db() as conn:
                count = conn.execute(
                    "SELECT COUNT(*) FROM inbox_activities WHERE id = ?", (activity["id"],)
                ).fetchone()[0]
            assert count == 1
    limited = {"rate": 0.5, "burst": 3}
    with running(tmp_path, **limited) as first, running(tmp_path, **limited) as second:
        statuses = [
            remote.deliver(server.inbox, note_create(remote, 100 + i, "bob"), user="bob").status
            for i, server in enumerate([first, second, first, second])
        ]
        assert statuses == [202, 202, 202, 429]  # one bucket for the domain, not one each


def test_worker_only_processes_what_another_process_stored(tmp_path: Path) -> None:
    pg.activate("postgresql")
    try:
        write_site(tmp_path, "https://x.example/")
    finally:
        pg.activate()
    store = Store(pg.site_target(tmp_path))
    bob = "https://r.example/users/bob"
    activity = {"id": bob + "#blocks/1", "type": "Block", "actor": bob, "object": "x"}
    assert store.add_activity(
        activity_id=activity["id"],
        type_="Block",
        actor=activity["actor"],
        key_id=activity["actor"] + "#main-key",
        body=json.dumps(activity),
        now=datetime.now(UTC),
    )
    process = subprocess.Popen(
        [sys.executable, "-c", "from commsite.cli import main; main()", "sidecar", str(tmp_path),
         "--worker-only"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        state = "queued"
        conn = connect(store.target)
        while time.monotonic() < deadline and state in ("queued", "processing"):
            row = conn.execute(
                "SELECT state FROM inbox_activities WHERE id = ?", (activity["id"],)
            ).fetchone()
            state = str(row[0])
            time.sleep(0.1)
        conn.close()
        assert state not in ("queued", "processing")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        store.close()
    assert process.returncode == 0, output
    assert "commsite sidecar worker for https://x.example/" in output
    assert output.rstrip().endswith("Stopped.")


def test_a_store_reconnects_after_the_server_drops_its_connection(tmp_path: Path) -> None:
    """A PostgreSQL restart or failover: the statement that meets it fails (the worker
    retries it, the inbox answers 500 and the sender retries); the next one reconnects."""
    pg.activate("postgresql")
    try:
        store = Store(pg.target(tmp_path))
    finally:
        pg.activate()
    backend = store.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    admin = connect(store.target)
    admin.execute("SELECT pg_terminate_backend(?)", (backend,))
    admin.close()
    with pytest.raises(OPERATIONAL_ERRORS):
        store.queue_length()
    assert store.queue_length() == 0
    assert store.conn.execute("SELECT pg_backend_pid()").fetchone()[0] != backend
    store.close()
