"""What `GET /healthz` answers: the database answers, and how the queues stand.

    {"status": "ok", "queued": 3, "dead_letters": 0,
     "queues": {"inbox":    {"waiting": 3, "due": 1, "oldest_due_seconds": 2.0},
                "delivery": {"waiting": 120, "due": 0, "oldest_due_seconds": null}}}

`queued` and `dead_letters` are the inbox's, as before; `queues` has, for each
kind of job (commsite.jobs), the jobs still to be done (`waiting`, claimed ones
included), how many of them are due now, and how long the one waiting longest
has been due (null when none is): the number to alert on. A few indexed
COUNTs, cheap enough for a load balancer's health check every few seconds.
"""

from __future__ import annotations

from datetime import datetime

from commsite.jobs.queue import Depth, depth
from commsite.sidecar.inbox_jobs import INBOX
from commsite.sidecar.store import Store

__all__ = ["health"]


def health(store: Store, now: datetime) -> dict[str, object]:
    conn = store.conn
    return {
        "status": "ok",
        "queued": store.queue_length(),
        "dead_letters": store.dead_letters(),
        "queues": {
            "inbox": _depth(depth(conn, INBOX, now), now),
            "delivery": _depth(store.deliveries.depth(now), now),
        },
    }


def _depth(found: Depth, now: datetime) -> dict[str, object]:
    age = None
    if found.oldest_due is not None:
        age = round(max(0.0, (now - found.oldest_due).total_seconds()), 3)
    return {"waiting": found.waiting, "due": found.due, "oldest_due_seconds": age}
