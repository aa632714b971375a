"""The delivery queue's tables: activities to POST to inboxes, as jobs.

One row per (activity id, inbox) in `delivery_rows`, a job table of the
"delivery" kind (commsite.jobs); the activity's JSON is stored once in
`delivery_activities`. A row is `pending` until it ends `delivered` (2xx),
`gone` (410: the followers behind that inbox are removed) or `failed` (another
4xx, or retries ran out after about a week: `retries.DELIVERY_RETRIES`).

Claims are fair and bounded per host (`claim`): a claim takes the first due
row of every host before the second of any, and never lets one host's leased
rows (whoever holds them: several `commsite publish` or sidecar processes
share the queue) pass `per_host`. A host in trouble is held back as a whole
(`delivery_hosts`) until its backoff ends: at once when it does not answer
or says 429, after HOST_TRIP 5xx answers running; while it has failures on
record, one request at a time finds out whether it is back.

Ordering. Activities about the same object reach one inbox in the order they
were queued: an Update waits while the Create before it is still retrying.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from commsite.database import Connection, migrate, transaction
from commsite.federation.delivery_schema import DELIVERY, FAIR, MIGRATIONS, WINDOW, parse, stamp
from commsite.federation.followers import FollowerStore
from commsite.federation.retries import DELIVERY_RETRIES, classify, host_trouble
from commsite.jobs import queue as jobs
from commsite.jobs.outcome import Dead, Done, Outcome, Retry
from commsite.jobs.queue import Depth, Dialect

__all__ = [
    "DELIVERY",
    "LEASE",
    "Answer",
    "Claimed",
    "DeliveryQueue",
    "QueueStats",
    "decide",
    "host_of",
    "stamp",
]

COMPONENT = "delivery"
LEASE = timedelta(minutes=5)  # a claimed row no answer settled is claimable again after this
# 5xx answers in a row (no success between) after which a host is held back;
# no answer at all, or a 429, holds it back at once.
HOST_TRIP = 3


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int
    delivered: int
    failed: int
    gone: int
    next_attempt: datetime | None  # earliest pending attempt (a host's backoff included)
    hosts_backing_off: tuple[tuple[str, str], ...] = ()  # (host, last problem), by host


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this run holds the lease on."""

    id: int
    activity_id: str
    object_id: str | None
    inbox: str
    host: str
    attempts: int  # this attempt included
    enqueued_at: datetime


class DeliveryQueue:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect: Dialect = conn.dialect
        migrate(conn, COMPONENT, MIGRATIONS)

    @property
    def connection(self) -> Connection:
        return self._conn

    def enqueue(
        self, activity: Mapping[str, object], inboxes: Iterable[str], *, now: datetime
    ) -> int:
        """Queue `activity` for each inbox; returns how many rows are new.

        Idempotent: an (activity id, inbox) pair already queued, in any state,
        is left alone. Joins the caller's transaction if one is open.
        """
        activity_id = activity.get("id")
        if not isinstance(activity_id, str) or not activity_id:
            raise ValueError("an activity needs a string 'id' to be queued")
        targets = sorted(set(inboxes))
        if not targets:
            return 0
        when = stamp(now)
        object_id = _object_id(activity)
        body = json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        added = 0
        with transaction(self._conn):
            self._conn.execute(
                "INSERT INTO delivery_activities (activity_id, object_id, body, enqueued_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (activity_id) DO NOTHING",
                (activity_id, object_id, body, when),
            )
            for inbox in targets:
                added += self._conn.execute(
                    "INSERT INTO delivery_rows"
                    " (activity_id, object_id, inbox, host, enqueued_at, next_attempt)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (activity_id, inbox) DO NOTHING",
                    (activity_id, object_id, inbox, host_of(inbox), when, when),
                ).rowcount
        return added

    def pending(self) -> int:
        """Rows not yet delivered, gone or failed (due now or later)."""
        row = self._conn.execute(
            "SELECT COUNT(*) FROM delivery_rows WHERE state = 'pending'"
        ).fetchone()
        return int(row[0])

    def depth(self, now: datetime) -> Depth:
        return jobs.depth(self._conn, DELIVERY, now)

    def last_row(self) -> int:
        """The newest row's number (0 when none): it grows when anyone queues one."""
        row = self._conn.execute("SELECT MAX(id) FROM delivery_rows").fetchone()
        return int(row[0] or 0)

    def stats(self) -> QueueStats:
        counts = dict.fromkeys(("pending", "delivered", "failed", "gone"), 0)
        for state, n in self._conn.execute(
            "SELECT state, COUNT(*) FROM delivery_rows GROUP BY state"
        ).fetchall():
            counts[str(state)] = int(n)
        first = self._conn.execute(
            "SELECT MIN(CASE WHEN h.retry_at > r.next_attempt THEN h.retry_at"
            " ELSE r.next_attempt END)"
            " FROM delivery_rows AS r LEFT JOIN delivery_hosts AS h ON h.host = r.host"
            " WHERE r.state = 'pending'"
        ).fetchone()[0]
        hosts = self._conn.execute(
            "SELECT host, detail FROM delivery_hosts AS h WHERE EXISTS ("
            " SELECT 1 FROM delivery_rows AS r WHERE r.host = h.host AND r.state = 'pending')"
            " ORDER BY host"
        ).fetchall()
        return QueueStats(
            pending=counts["pending"],
            delivered=counts["delivered"],
            failed=counts["failed"],
            gone=counts["gone"],
            next_attempt=None if first is None else parse(str(first)),
            hosts_backing_off=tuple((str(h), str(d or "")) for h, d in hosts),
        )

    def retry_now(self, now: datetime) -> int:
        """Make every pending row due at `now`, and forget hosts' backoff
        (`commsite publish --retry-now`)."""
        with transaction(self._conn):
            self._conn.execute("DELETE FROM delivery_hosts")
            return self._conn.execute(
                "UPDATE delivery_rows SET next_attempt = ?"
                " WHERE state = 'pending' AND next_attempt > ?",
                (stamp(now), stamp(now)),
            ).rowcount

    def knows(self, activity_id: str) -> bool:
        """Whether an activity with this id was ever queued (enqueue would skip it)."""
        row = self._conn.execute(
            "SELECT 1 FROM delivery_activities WHERE activity_id = ?", (activity_id,)
        ).fetchone()
        return row is not None

    def delivered_to(self, activity_id: str) -> list[str]:
        """Inboxes that acknowledged `activity_id` (for reports and tests)."""
        rows = self._conn.execute(
            "SELECT inbox FROM delivery_rows WHERE activity_id = ? AND state = 'delivered'"
            " ORDER BY inbox",
            (activity_id,),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def body(self, activity_id: str) -> bytes:
        row = self._conn.execute(
            "SELECT body FROM delivery_activities WHERE activity_id = ?", (activity_id,)
        ).fetchone()
        return bytes(row[0])

    # --- the job queue ---------------------------------------------------------

    def claim(
        self,
        token: str,
        *,
        now: datetime,
        limit: int,
        per_host: int,
        due_by: datetime | None = None,
    ) -> list[Claimed]:
        """Lease up to `limit` due rows to `token`, fairly across hosts and never
        more than `per_host` leased rows per host (counting every claimer's).
        Joins the caller's transaction, or makes its own."""
        when, moment = stamp(due_by or now), stamp(now)
        params = (when, moment, moment, moment, per_host, max(WINDOW, limit * 8), moment)
        with transaction(self._conn):
            rows = jobs.claim(
                self._conn,
                DELIVERY,
                now=now,
                limit=limit,
                token=token,
                lease=LEASE,
                due_by=due_by,
                select=FAIR,
                select_params=(*params, per_host, limit),
                returning="id, activity_id, object_id, inbox, host, attempts, enqueued_at",
                dialect=self.dialect,
            )
        claimed = [
            Claimed(
                id=int(r[0]),
                activity_id=str(r[1]),
                object_id=None if r[2] is None else str(r[2]),
                inbox=str(r[3]),
                host=str(r[4]),
                attempts=int(r[5]),
                enqueued_at=parse(str(r[6])),
            )
            for r in rows
        ]
        claimed.sort(key=lambda c: c.id)
        return claimed

    def reap(self, now: datetime) -> int:
        """Free the leases of this machine's processes that are gone (a publish
        killed mid-run): they are claimable at once rather than after LEASE."""
        with transaction(self._conn):
            return jobs.reap(self._conn, DELIVERY, now)

    def release(self, token: str) -> None:
        """Drop the leases `token` still holds (a run that stopped on an error)."""
        with transaction(self._conn):
            jobs.release(self._conn, DELIVERY, token)

    def settle(
        self,
        row: Claimed,
        token: str,
        answer: Answer,
        now: datetime,
        followers: FollowerStore,
        rng: random.Random,
    ) -> tuple[Outcome, int] | None:
        """Record the answer to one attempt: its outcome and how many followers
        a 410 removed; None when `token` lost the lease (a run that hung past
        LEASE leaves the row to the one that took it over). Joins the caller's
        transaction (one commit for every answer that is in)."""
        outcome = decide(row, answer, now, rng)
        with transaction(self._conn):
            if not jobs.settle(
                self._conn,
                DELIVERY,
                row.id,
                token,
                outcome,
                now=now,
                extra={"http_status": answer.http_status},
            ):
                return None
            removed = 0
            if isinstance(outcome, Done) and outcome.state == "gone":
                removed = followers.remove_by_inbox(row.inbox)
                # Nothing else will get through to that inbox either.
                self._conn.execute(
                    "UPDATE delivery_rows SET state = 'gone', finished_at = ?,"
                    " detail = 'inbox answered 410 Gone to an earlier activity'"
                    " WHERE inbox = ? AND state = 'pending' AND lease_token IS NULL",
                    (stamp(now), row.inbox),
                )
            if answer.permanent_error:
                return outcome, removed  # (the URL, not the host)
            if host_trouble(answer.http_status):
                at = outcome.at if isinstance(outcome, Retry) else None
                self._host_failed(row.host, answer, now, rng, at)
            else:  # it answered: it is up
                self._conn.execute("DELETE FROM delivery_hosts WHERE host = ?", (row.host,))
        return outcome, removed

    def _host_failed(
        self, host: str, answer: Answer, now: datetime, rng: random.Random, at: datetime | None
    ) -> None:
        """Count a failure against the host; hold its other rows back (until the
        failed row's retry `at`, or the host's own backoff when the row was given
        up) when it did not answer, said 429, or failed HOST_TRIP times running."""
        row = self._conn.execute(
            "SELECT failures FROM delivery_hosts WHERE host = ?", (host,)
        ).fetchone()
        failures = 1 + (0 if row is None else int(row[0]))
        if answer.http_status in (None, 429) or failures >= HOST_TRIP:
            if at is None:
                at = now + DELIVERY_RETRIES.delay(
                    failures, rng, retry_after=answer.retry_after, now=now
                )
        else:
            at = now  # (recorded, not held back: one 500 may be about one activity)
        self._conn.execute(
            "INSERT INTO delivery_hosts (host, failures, retry_at, detail) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (host) DO UPDATE SET failures = excluded.failures,"
            " retry_at = excluded.retry_at, detail = excluded.detail",
            (host, failures, stamp(at), answer.detail),
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """What one POST produced: a status (or None for a network error)."""

    http_status: int | None
    retry_after: str | None
    detail: str
    permanent_error: bool = False  # a request that can never work (bad URL)


def decide(row: Claimed, answer: Answer, now: datetime, rng: random.Random) -> Outcome:
    """The outcome of one answer (pure): delivered, gone, failed, or a retry
    by the delivery policy (given up after about a week)."""
    status = "failed" if answer.permanent_error else classify(answer.http_status)
    if status in ("delivered", "gone"):
        return Done(status, answer.detail)
    if status == "failed":
        return Dead(answer.detail, "failed")
    return DELIVERY_RETRIES.after_failure(
        row.attempts,
        answer.detail,
        now,
        queued_at=row.enqueued_at,
        rng=rng,
        retry_after=answer.retry_after,
    )


def _object_id(activity: Mapping[str, object]) -> str | None:
    obj = activity.get("object")
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        value = obj.get("id")
        return value if isinstance(value, str) else None
    return None


def host_of(inbox: str) -> str:
    return urlsplit(inbox).netloc.lower()
