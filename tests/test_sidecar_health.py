"""`GET /healthz`: each queue's depth and how long its oldest due job has waited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from commsite.sidecar.server import Options, open_sidecar
from commsite.sidecar.store import iso
from sidecar_peer import SiteOrigin, write_site

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def get_health(app: object) -> tuple[str, dict[str, object]]:
    seen: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz"}
    out = b"".join(app(environ, lambda status, headers: seen.append(status)))  # type: ignore[operator]
    return seen[0], json.loads(out)


def test_healthz_reports_each_queues_depth_and_oldest_due_age(tmp_path: Path) -> None:
    origin = SiteOrigin()
    try:
        write_site(tmp_path, origin.base_url)
        # Not started: no worker takes the jobs while we look.
        sidecar = open_sidecar(tmp_path, Options(), clock=lambda: NOW)
    finally:
        origin.stop()
    try:
        status, body = get_health(sidecar.app)
        assert status == "200 OK"
        idle = {"waiting": 0, "due": 0, "oldest_due_seconds": None}
        assert body == {
            "status": "ok",
            "queued": 0,
            "dead_letters": 0,
            "queues": {"inbox": idle, "delivery": idle},
        }
        store = sidecar.store
        for n, ago in enumerate((90, 30)):
            store.add_activity(
                activity_id=f"https://r.example/a/{n}", type_="Like", actor="https://r.example/u",
                key_id="https://r.example/u#k", body="{}", now=NOW - timedelta(seconds=ago),
            )  # fmt: skip
        with store.transaction() as conn:  # one waits for a retry an hour from now
            conn.execute(
                "UPDATE inbox_activities SET state = 'retry', next_attempt_at = ? WHERE id = ?",
                (iso(NOW + timedelta(hours=1)), "https://r.example/a/0"),
            )
        activity = {"id": "https://site.example/a/1", "type": "Create", "object": "x"}
        inboxes = [f"https://h{n}.example/inbox" for n in range(3)]
        store.deliveries.enqueue(activity, inboxes, now=NOW - timedelta(minutes=10))
        _, body = get_health(sidecar.app)
        assert body["queued"] == 2
        assert body["queues"] == {
            "inbox": {"waiting": 2, "due": 1, "oldest_due_seconds": 30.0},
            "delivery": {"waiting": 3, "due": 3, "oldest_due_seconds": 600.0},
        }
    finally:
        sidecar.close()
