"""Dead letters: activities processing could not handle, waiting for a person.

The worker dead-letters an activity the first time processing raises an error
that a retry cannot heal (see worker.py): its state becomes `dead` and its
`outcome` the reason. `commsite moderate dead-letters` lists them, `retry`
queues them again (after an upgrade that fixes the cause, say) and `discard`
gives them up for good. Both decisions go to the moderation log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commsite.sidecar.moderation import log_decision
from commsite.sidecar.store import Store, iso

__all__ = ["DeadLetter", "discard", "listing", "retry"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    type: str
    actor: str
    received_at: str
    attempts: int
    reason: str


def listing(store: Store) -> list[DeadLetter]:
    rows = store.conn.execute(
        "SELECT id, type, actor, received_at, attempts, outcome FROM inbox_activities"
        " WHERE state = 'dead' ORDER BY received_at, id"
    ).fetchall()
    return [
        DeadLetter(
            r["id"], r["type"], r["actor"], r["received_at"], r["attempts"], r["outcome"] or ""
        )
        for r in rows
    ]


def _settle(store: Store, which: str, now: datetime, action: str, sql: str) -> list[str]:
    """Apply `sql` (an UPDATE with `?` for now and id) to the dead letter `which`
    (an activity id, or "all"); the ids done."""
    with store.transaction() as conn:
        if which == "all":
            rows = conn.execute("SELECT id FROM inbox_activities WHERE state = 'dead'")
            ids = [r[0] for r in rows]
        else:
            row = conn.execute(
                "SELECT id FROM inbox_activities WHERE id = ? AND state = 'dead'", (which,)
            ).fetchone()
            ids = [] if row is None else [row[0]]
        for activity_id in ids:
            conn.execute(sql, (iso(now), activity_id))
            log_decision(conn, now, action, activity_id)
    return ids


def retry(store: Store, which: str, now: datetime) -> list[str]:
    """Queue a dead letter (or "all") to be processed again, with fresh attempts."""
    return _settle(
        store, which, now, "retry",
        "UPDATE inbox_activities SET state = 'queued', attempts = 0, next_attempt_at = ?,"
        " lease_until = NULL, outcome = 'retried: ' || COALESCE(outcome, '') WHERE id = ?",
    )  # fmt: skip


def discard(store: Store, which: str, now: datetime) -> list[str]:
    """Give a dead letter (or "all") up; its id is kept (a redelivery stays a duplicate)."""
    return _settle(
        store, which, now, "discard",
        "UPDATE inbox_activities SET state = 'discarded', lease_until = NULL,"
        " outcome = 'discarded ' || ? || ': ' || COALESCE(outcome, '') WHERE id = ?",
    )  # fmt: skip
