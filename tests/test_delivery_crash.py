"""Crash safety: `commsite publish` killed with SIGKILL mid-run, then run again.

Nothing is lost, and no inbox gets an activity again once its 2xx answer was
committed; only the requests in flight at the kill may arrive twice (the peers
dedupe by activity id, as real servers do).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from commsite.database import connect
from commsite.datadir import DataDir
from commsite.federation.delivery import DeliveryQueue, run_deliveries
from commsite.federation.delivery_queue import LEASE, stamp
from commsite.federation.followers import Follower, FollowerStore
from publish_peers import Instance, Origin, serve_actor, write_site

NOW = datetime.now(UTC).replace(microsecond=0)
CLI = [sys.executable, "-c", "from commsite.cli import main; main()", "publish"]


def day(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).date().isoformat()


@pytest.fixture
def peers() -> Iterator[tuple[Origin, Instance, Instance]]:
    origin = Origin()
    slow = Instance("slow", mode="slow", delay=1.5, users=("alice", "bob")).start()
    fast = Instance("fast", users=("carol", "dave")).start()
    yield origin, slow, fast
    for server in (slow, fast, origin):
        server.stop()


def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_kill_9_mid_run_loses_nothing_and_resends_only_what_was_in_flight(
    tmp_path: Path, peers: tuple[Origin, Instance, Instance]
) -> None:
    origin, slow, fast = peers
    root = tmp_path / "site"
    write_site(
        root, origin.base_url, {f"s{n}": (day(n), f"Story number {n}.") for n in range(1, 6)}
    )
    serve_actor(origin, root, NOW)
    database = DataDir.for_site(root).database
    setup = connect(database)
    store = FollowerStore(setup)
    for instance, user, shared in [
        (slow, "alice", True),
        (slow, "bob", True),
        (fast, "carol", True),
        (fast, "dave", False),  # a personal inbox on the same host
    ]:
        store.add(
            Follower(
                instance.actor(user),
                instance.inbox(user),
                instance.shared_inbox if shared else None,
                None,
                NOW,
            )
        )
    setup.close()
    live_inboxes = [(slow, "/inbox"), (fast, "/inbox"), (fast, "/users/dave/inbox")]

    # Run 1: killed while the slow instance holds its second pair of requests.
    first = subprocess.Popen(
        [*CLI, str(root)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for(lambda: slow.answered >= 2 and len(slow.received) >= 4, timeout=30)
        time.sleep(0.2)  # the two acknowledged rows are committed by now
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first_output, _ = first.communicate(timeout=10)  # reaped: its pid is dead, not a zombie
    assert first.returncode == -signal.SIGKILL, first_output

    conn = sqlite3.connect(database)
    delivered = set(
        conn.execute(
            "SELECT activity_id, inbox FROM delivery_rows WHERE state = 'delivered'"
        ).fetchall()
    )
    leased = set(
        conn.execute(
            "SELECT activity_id, inbox FROM delivery_rows WHERE lease_token IS NOT NULL"
        ).fetchall()
    )
    total = conn.execute("SELECT COUNT(*) FROM delivery_rows").fetchone()[0]
    conn.close()
    assert total == 5 * 3
    assert 0 < len(delivered) < total, "the kill should land mid-run"
    assert leased, "the slow instance's requests were in flight"
    received_before = {
        (aid, i.base + path): n for i, path in live_inboxes for aid, n in i.ids(path).items()
    }

    # Run 2: a fresh process takes over the dead process's leases and finishes.
    second = subprocess.run(
        [*CLI, str(root)], capture_output=True, text=True, timeout=120, check=False
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Nothing new to publish" in second.stdout

    activity_ids = {f"{origin.base_url}ap/stories/s{n}#create" for n in range(1, 6)}
    duplicates = []
    for instance, path in live_inboxes:
        counts = instance.ids(path)
        assert set(counts) == activity_ids, f"lost at {instance.name}{path}"
        for aid, n in counts.items():
            pair = (aid, instance.base + path)
            if pair in delivered:
                # Acknowledged and committed before the kill: never sent again.
                assert n == 1 and received_before[pair] == 1, pair
            elif n > 1:
                duplicates.append(pair)
    # At-least-once: only requests in flight at the kill can arrive twice.
    assert set(duplicates) <= leased
    print(
        f"\ncrash test: {len(delivered)}/{total} rows committed as delivered before SIGKILL,"
        f" {len(leased)} in flight; after restart {len(duplicates)} duplicate receipt(s),"
        f" all of in-flight requests (peers dedupe by id); 0 lost"
    )
    for instance in (slow, fast):
        assert instance.rejected == []


def test_a_lease_held_by_a_live_process_is_respected_and_a_dead_ones_taken_over(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    conn = connect(tmp_path / "db.sqlite3")
    request.addfinalizer(conn.close)
    queue = DeliveryQueue(conn)
    followers = FollowerStore(conn)
    inbox = "https://m.example/inbox"
    activity = {"id": "https://site.example/a/1", "type": "Create", "object": "x"}
    queue.enqueue(activity, [inbox], now=NOW)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        conn.execute(
            "UPDATE delivery_rows SET lease_until = ?, lease_token = ?",
            (stamp(NOW + timedelta(minutes=5)), f"{socket.gethostname()}:{holder.pid}:x"),
        )
        sent: list[str] = []

        def post(url: str, body: bytes, headers: object) -> object:
            sent.append(url)
            import requests

            response = requests.Response()
            response.status_code = 202
            response._content = b""
            return response

        def sign(url: str, body: bytes) -> dict[str, str]:
            return {}

        assert run_deliveries(queue, followers, sign=sign, post=post, clock=lambda: NOW) == []  # type: ignore[arg-type]
        assert sent == []
    finally:
        holder.kill()
        holder.wait()
    [outcome] = run_deliveries(queue, followers, sign=sign, post=post, clock=lambda: NOW)  # type: ignore[arg-type]
    assert outcome.status == "delivered" and sent == [inbox]


def test_another_machines_lease_is_respected_until_it_expires(tmp_path: Path) -> None:
    with closing(connect(tmp_path / "db.sqlite3")) as conn:
        queue, followers = DeliveryQueue(conn), FollowerStore(conn)
        inbox = "https://m.example/inbox"
        queue.enqueue({"id": "https://site.example/a/1", "type": "Create"}, [inbox], now=NOW)
        # pid 1 here is alive, but the token says another machine: only time tells.
        conn.execute(
            "UPDATE delivery_rows SET lease_until = ?, lease_token = 'elsewhere:999999:x'",
            (stamp(NOW + LEASE),),
        )
        sent: list[str] = []

        def post(url: str, body: bytes, headers: Mapping[str, str]) -> requests.Response:
            sent.append(url)
            response = requests.Response()
            response.status_code = 202
            response._content = b""
            return response

        def run(at: datetime) -> list[str]:
            outcomes = run_deliveries(
                queue, followers, sign=lambda u, b: {}, post=post, clock=lambda: at
            )
            return [o.status for o in outcomes]

        assert run(NOW + LEASE - timedelta(seconds=1)) == [] and sent == []
        assert run(NOW + LEASE) == ["delivered"] and sent == [inbox]
