"""The Update of an event's poll with its current counts, debounced.

Every change of the answers to an event marks its poll (rsvp_places.poll_changed);
`PollUpdates.flush`, called by the worker after each pass, sends an `Update`
of the Question (activitypub/poll.py) with the counts to the followers and the
poll's voters: the first at once, then at most once per `debounce` per
event, and a last one (`closed`) once the event has started.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from commsite.activitypub.poll import is_closed, poll_update, question_object
from commsite.config import SiteConfig
from commsite.content.model import Event
from commsite.database import Connection
from commsite.sidecar.store import Store, iso
from commsite.sidecar.targets import Targets

__all__ = ["POLL_DEBOUNCE", "PollUpdates", "poll_counts"]

# At most one Update of a poll's counts per event this often (the first at once).
POLL_DEBOUNCE = timedelta(seconds=10)


class PollUpdates:
    def __init__(
        self,
        *,
        config: SiteConfig,
        store: Store,
        targets: Targets,
        clock: Callable[[], datetime],
        debounce: timedelta = POLL_DEBOUNCE,
    ) -> None:
        self.config = config
        self.store = store
        self.targets = targets
        self.clock = clock
        self.debounce = debounce

    def flush(self) -> bool:
        """Send an Update of each poll whose counts changed, at most once per
        `debounce` per event, and a last one (`closed`) once its event has
        started; True if any was queued."""
        if not self.config.rsvp.poll:
            return False
        now = self.clock()
        due_before = iso(now - self.debounce)
        rows = self.store.conn.execute(
            "SELECT event, changed_at, sent_at FROM rsvp_polls WHERE closed_at IS NULL"
        ).fetchall()
        queued = False
        for row in rows:
            slug = row["event"]
            event = self.targets.event(slug)
            closing = event is None or is_closed(event, now)
            changed = row["changed_at"] is not None and (
                row["sent_at"] is None or row["sent_at"] <= due_before
            )
            if not (changed or closing):
                continue
            with self.store.transaction() as conn:
                # gone from the site: nothing to send
                sent = event is not None and self._send_counts(conn, slug, event, now)
                # An Update nobody was there to receive does not hold the next one back.
                conn.execute(
                    "UPDATE rsvp_polls SET changed_at = NULL, closed_at = ?,"
                    " sent_at = CASE WHEN ? = 1 THEN ? ELSE sent_at END WHERE event = ?",
                    (iso(now) if closing else None, int(sent), iso(now), slug),
                )
                queued = queued or sent
        return queued

    def _send_counts(self, conn: Connection, slug: str, event: Event, now: datetime) -> bool:
        counts, voters = poll_counts(conn, slug)
        question = question_object(self.config, event, counts, voters, now)
        inboxes = set(self.store.followers.delivery_inboxes())
        inboxes.update(
            r[0]
            for r in conn.execute(
                "SELECT COALESCE(a.shared_inbox, a.inbox) FROM rsvps r"
                " JOIN inbox_actors a ON a.id = r.actor WHERE r.event = ?"
                " AND r.via = 'poll' AND r.status != 'rejected'"
                " AND COALESCE(a.shared_inbox, a.inbox) IS NOT NULL",
                (slug,),
            )
        )
        update = poll_update(self.config, question, now)
        return self.store.deliveries.enqueue(update, inboxes, now=now) > 0


def poll_counts(conn: Connection, slug: str) -> tuple[dict[str, int], int]:
    """The approved answers to `slug` by answer (every way of answering counts:
    the poll is the event's public tally), and how many people gave them."""
    counts = {
        str(answer): int(n)
        for answer, n in conn.execute(
            "SELECT answer, COUNT(*) FROM rsvps WHERE event = ? AND status = 'approved'"
            " GROUP BY answer",
            (slug,),
        )
    }
    return counts, sum(counts.values())
