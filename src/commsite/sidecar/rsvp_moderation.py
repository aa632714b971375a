"""Moderating RSVPs: what waits, and the organiser's approve / reject.

RSVPs wait under the same `moderation.approve` policy as replies (see
rsvp_intake.py). `commsite moderate list` shows them numbered `r12` (replies
and introductions keep plain numbers); `approve r12` / `reject r12` decide
one, and `approve @ada@social.example` decides everything of that person
that waits, replies and RSVPs alike.

Approving a Join that has a place sends its Accept (Mobilizon then shows
the participation as confirmed); rejecting one that was never accepted
sends a Reject of the Join (Mobilizon marks it rejected). A rejected
answer frees its place: the first person waiting moves up. Every decision is
logged in `moderation_decisions` with the subject `r12`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commsite import urls
from commsite.activitypub.vocabulary import AS_CONTEXT
from commsite.config import SiteConfig
from commsite.database import Connection, Row
from commsite.sidecar.moderation import _actors_named, log_decision
from commsite.sidecar.rsvp_places import (
    poll_changed,
    rebalance_known,
    send_due_accepts,
)
from commsite.sidecar.store import Store

__all__ = ["PendingRsvp", "decide", "is_rsvp_subject", "pending", "settle_all"]

_SUBJECT = re.compile(r"r(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PendingRsvp:
    number: str  # "r12"
    event: str
    actor: str
    handle: str
    answer: str
    via: str
    waiting: bool
    excerpt: str
    reason: str | None
    answered_at: str


def is_rsvp_subject(subject: str) -> bool:
    """`r12`: an RSVP's number."""
    return _SUBJECT.fullmatch(subject) is not None


def pending(store: Store) -> list[PendingRsvp]:
    rows = store.conn.execute(
        "SELECT r.*, COALESCE(a.handle, r.actor) AS handle FROM rsvps r"
        " LEFT JOIN inbox_actors a ON a.id = r.actor WHERE r.status = 'pending' ORDER BY r.seq"
    ).fetchall()
    return [
        PendingRsvp(
            number=f"r{r['seq']}",
            event=r["event"],
            actor=r["actor"],
            handle=r["handle"],
            answer=r["answer"],
            via=r["via"],
            waiting=bool(r["waiting"]),
            excerpt=r["excerpt"],
            reason=r["hold_reason"],
            answered_at=r["answered_at"],
        )
        for r in rows
    ]


def _rows_for(conn: Connection, subject: str) -> list[Row]:
    """`r12`; a reply's number (the RSVP its words gave, if it waits: deciding
    the reply decides it); or an actor URL / handle (each of their RSVPs that
    waits)."""
    number = _SUBJECT.fullmatch(subject)
    if number is not None:
        return conn.execute("SELECT * FROM rsvps WHERE seq = ?", (int(number[1]),)).fetchall()
    if subject.isdigit():
        return conn.execute(
            "SELECT r.* FROM rsvps r JOIN inbox_items i ON i.ap_id = r.reply_id"
            " WHERE i.seq = ? AND r.actor = i.actor AND r.status = 'pending'",
            (int(subject),),
        ).fetchall()
    rows: list[Row] = []
    for actor in _actors_named(conn, subject):
        rows += conn.execute(
            "SELECT * FROM rsvps WHERE actor = ? AND status = 'pending'", (actor,)
        ).fetchall()
    return sorted(rows, key=lambda r: int(r["seq"]))


def reject_of(config: SiteConfig, row: Row) -> dict[str, Any]:
    digest = hashlib.sha256(str(row["join_id"]).encode()).hexdigest()[:24]
    return {
        "@context": AS_CONTEXT,
        "id": config.url(f"ap/rejects/{digest}"),
        "type": "Reject",
        "actor": config.url(urls.ACTOR),
        "to": [row["actor"]],
        "object": {
            "id": row["join_id"],
            "type": "Join",
            "actor": row["actor"],
            "object": config.url(urls.event_object(row["event"])),
        },
    }


def _settle_events(
    store: Store, config: SiteConfig, conn: Connection, events: set[str], now: datetime
) -> None:
    for event in sorted(events):
        rebalance_known(conn, event)
        send_due_accepts(store, config, now, event)
        poll_changed(conn, event, now)


def decide(
    store: Store,
    config: SiteConfig,
    status: str,
    subject: str,
    now: datetime,
    *,
    rule: int | None = None,
    note: str | None = None,
) -> list[str]:
    """Approve (`status` "approved") or reject RSVPs named by `subject`; their numbers."""
    with store.transaction() as conn:
        rows = _rows_for(conn, subject)
        for row in rows:
            conn.execute("UPDATE rsvps SET status = ? WHERE seq = ?", (status, row["seq"]))
            if status == "rejected" and row["join_id"] and row["accept_id"] is None:
                inbox = conn.execute(
                    "SELECT COALESCE(inbox, shared_inbox) FROM inbox_actors WHERE id = ?",
                    (row["actor"],),
                ).fetchone()
                if inbox is not None and inbox[0]:
                    store.deliveries.enqueue(reject_of(config, row), [inbox[0]], now=now)
            log_decision(
                conn,
                now,
                "approve" if status == "approved" else "reject",
                f"r{row['seq']}",
                item_ap_id=row["activity_id"],
                actor=row["actor"],
                rule=rule,
                note=note,
            )
        _settle_events(store, config, conn, {r["event"] for r in rows}, now)
    return [f"r{r['seq']}" for r in rows]


def settle_all(store: Store, config: SiteConfig, now: datetime) -> None:
    """Recompute every event's waiting list and send the Accepts now due (after
    a block, which rejects the blocked actors' RSVPs and so frees places)."""
    with store.transaction() as conn:
        events = {r[0] for r in conn.execute("SELECT DISTINCT event FROM rsvps")}
        _settle_events(store, config, conn, events, now)
