"""Places at an event: who waits beyond its capacity, and the Accepts then due.

Shared by the intake (rsvp_intake.py), moderation (rsvp_moderation.py) and
the purge of an actor: each change of the answers to an event is followed by
`rebalance` (who waits, in the order they answered: rejected answers take no
place, answers waiting for a moderator do) and `send_due_accepts` (an
approved Join with a place and no Accept yet gets it), inside the change's
transaction; `poll_changed` marks the event's poll for an Update of its counts.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from commsite import urls
from commsite.activitypub.vocabulary import AS_CONTEXT
from commsite.config import SiteConfig
from commsite.database import Connection
from commsite.sidecar.rsvps import Going, waiting_list
from commsite.sidecar.store import Store, iso

__all__ = [
    "accept_of",
    "poll_changed",
    "rebalance",
    "rebalance_known",
    "send_due_accepts",
]

log = logging.getLogger(__name__)


def poll_changed(conn: Connection, slug: str, now: datetime) -> None:
    """The answers to `slug` changed: its poll's counts are to be sent."""
    conn.execute(
        "INSERT INTO rsvp_polls (event, changed_at) VALUES (?, ?)"
        " ON CONFLICT (event) DO UPDATE SET changed_at = excluded.changed_at",
        (slug, iso(now)),
    )


def _known_capacity(conn: Connection, slug: str) -> int | None:
    row = conn.execute("SELECT capacity FROM rsvp_capacity WHERE event = ?", (slug,)).fetchone()
    return None if row is None else row[0]


def rebalance(conn: Connection, slug: str, capacity: int | None) -> list[str]:
    """Set who waits among those going to `slug` (inside the caller's
    transaction); the actors waiting, first in line first."""
    conn.execute(
        "INSERT INTO rsvp_capacity (event, capacity) VALUES (?, ?)"
        " ON CONFLICT (event) DO UPDATE SET capacity = excluded.capacity",
        (slug, capacity),
    )
    going = [
        Going(r["actor"], r["answered_at"], r["seq"])
        for r in conn.execute(
            "SELECT actor, answered_at, seq FROM rsvps WHERE event = ? AND answer = 'going'"
            " AND status != 'rejected'",
            (slug,),
        )
    ]
    waiting = waiting_list(going, capacity)
    conn.execute("UPDATE rsvps SET waiting = 0 WHERE event = ?", (slug,))
    conn.executemany(
        "UPDATE rsvps SET waiting = 1 WHERE event = ? AND actor = ?",
        [(slug, actor) for actor in waiting],
    )
    return waiting


def rebalance_known(conn: Connection, slug: str) -> list[str]:
    """`rebalance` with the capacity last seen for `slug` (moderation, blocks)."""
    return rebalance(conn, slug, _known_capacity(conn, slug))


def accept_of(config: SiteConfig, slug: str, actor: str, join_id: str) -> dict[str, Any]:
    """The signed answer to a Join: Accept with the Join embedded, as Mobilizon
    sends it and looks its participation up by (the Join's id)."""
    digest = hashlib.sha256(join_id.encode()).hexdigest()[:24]
    return {
        "@context": AS_CONTEXT,
        "id": config.url(f"ap/accepts/{digest}"),
        "type": "Accept",
        "actor": config.url(urls.ACTOR),
        "to": [actor],
        "object": {
            "id": join_id,
            "type": "Join",
            "actor": actor,
            "object": config.url(urls.event_object(slug)),
        },
    }


def send_due_accepts(store: Store, config: SiteConfig, now: datetime, slug: str) -> int:
    """Queue the Accept of every approved Join to `slug` that has a place and no
    Accept yet (inside the caller's transaction); how many were queued."""
    conn = store.conn
    rows = conn.execute(
        "SELECT r.seq, r.actor, r.join_id, COALESCE(a.inbox, a.shared_inbox) AS inbox"
        " FROM rsvps r LEFT JOIN inbox_actors a ON a.id = r.actor"
        " WHERE r.event = ? AND r.via = 'join' AND r.join_id IS NOT NULL"
        " AND r.accept_id IS NULL AND r.waiting = 0 AND r.status = 'approved'",
        (slug,),
    ).fetchall()
    sent = 0
    for row in rows:
        if row["inbox"] is None:
            log.warning("no inbox known for %s: its Join stays unanswered", row["actor"])
            continue
        accept = accept_of(config, slug, row["actor"], row["join_id"])
        store.deliveries.enqueue(accept, [row["inbox"]], now=now)
        conn.execute("UPDATE rsvps SET accept_id = ? WHERE seq = ?", (accept["id"], row["seq"]))
        sent += 1
    return sent
