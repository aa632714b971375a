"""Several processes: the documented gunicorn command serves the inbox and shares the queue.

`gunicorn -w 2 'commsite.sidecar.server:wsgi_app("SITE")'`: both workers take
deliveries, store them in the one SQLite file, and process each exactly once.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

import pg
from commsite.database import connect
from sidecar_peer import PUBLIC, Remote, SiteOrigin, write_site

pytest.importorskip("gunicorn", reason="gunicorn is not installed (pip install gunicorn)")


@pytest.fixture
def remote() -> Iterator[Remote]:
    peer = Remote(users=("alice", "bob")).start()
    yield peer
    peer.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(site: Path, options: str) -> Iterator[str]:
    """`gunicorn -w 2` serving `wsgi_app(SITE, OPTIONS)`, up; yields its inbox URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            f"commsite.sidecar.server:wsgi_app({str(site)!r}, {options})",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/inbox"
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert out.count(b"Booting worker") == 2


def test_two_gunicorn_workers_share_one_inbox(tmp_path: Path, remote: Remote) -> None:
    origin = SiteOrigin()
    write_site(tmp_path, origin.base_url)
    try:
        with gunicorn(tmp_path, "worker_poll=0.2") as inbox:
            ids = []
            for n in range(20):
                user = ("alice", "bob")[n % 2]
                actor = remote.actor(user)
                note = {
                    "id": f"{actor}/s/{n}",
                    "type": "Note",
                    "attributedTo": actor,
                    "to": [PUBLIC],
                }
                activity = {
                    "id": f"{actor}/s/{n}/a",
                    "type": "Create",
                    "actor": actor,
                    "object": note,
                }
                reply = remote.deliver(inbox, activity, user=user)
                assert reply.status == 202, reply.body
                ids.append(activity["id"])
            conn = connect(pg.site_target(tmp_path))  # the SQLite file, or PostgreSQL
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                rows = conn.execute("SELECT id, state FROM inbox_activities").fetchall()
                states = {r[0]: r[1] for r in rows}
                if set(states) == set(ids) and all(s == "ignored" for s in states.values()):
                    break
                time.sleep(0.1)
            assert set(states) == set(ids)
            assert set(states.values()) == {"ignored"}  # processed (not for us), each once
            attempts = {r[0] for r in conn.execute("SELECT attempts FROM inbox_activities")}
            assert attempts == {1}
            conn.close()
    finally:
        origin.stop()


def test_two_gunicorn_workers_share_one_rate_limit(tmp_path: Path, remote: Remote) -> None:
    """One bucket per sending domain, whichever worker answers: a burst of 4 lets
    4 deliveries in, not 4 per worker (the bucket is a row of the database)."""
    origin = SiteOrigin()
    write_site(tmp_path, origin.base_url)
    actor = remote.actor("alice")

    def deliver(inbox: str, n: int) -> int:
        note = {"id": f"{actor}/r/{n}", "type": "Note", "attributedTo": actor, "to": [PUBLIC]}
        activity = {"id": f"{actor}/r/{n}/a", "type": "Create", "actor": actor, "object": note}
        return remote.deliver(inbox, activity, user="alice").status

    try:
        # At once from several clients, so that both workers answer some.
        with (
            gunicorn(tmp_path, "worker_poll=0.2, rate=0.001, burst=4") as inbox,
            ThreadPoolExecutor(6) as pool,
        ):
            statuses = sorted(pool.map(lambda n: deliver(inbox, n), range(12)))
    finally:
        origin.stop()
    assert statuses == [202] * 4 + [429] * 8
