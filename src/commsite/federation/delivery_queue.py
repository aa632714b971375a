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
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from commsite.database import migrate, transaction
from commsite.federation.followers import FollowerStore
from commsite.federation.retries import DELIVERY_RETRIES, classify, host_trouble
from commsite.jobs import queue as jobs
from commsite.jobs.outcome import Dead, Done, Outcome, Retry
from commsite.jobs.queue import Depth, Dialect, JobKind

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
WINDOW = 256  # due rows a claim looks at, at least (8 for each row it asks for)

MIGRATIONS = (
    """
    CREATE TABLE delivery_activities (
        activity_id TEXT PRIMARY KEY,
        object_id TEXT,
        body BLOB NOT NULL,
        enqueued_at TEXT NOT NULL
    );
    CREATE TABLE delivery_rows (
        id INTEGER PRIMARY KEY,
        activity_id TEXT NOT NULL REFERENCES delivery_activities (activity_id),
        object_id TEXT,
        inbox TEXT NOT NULL,
        host TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'delivered', 'failed', 'gone')),
        attempts INTEGER NOT NULL DEFAULT 0,
        enqueued_at TEXT NOT NULL,
        next_attempt TEXT NOT NULL,
        lease_at REAL,
        lease_host TEXT,
        lease_pid INTEGER,
        lease_token TEXT,
        http_status INTEGER,
        detail TEXT,
        finished_at TEXT,
        UNIQUE (activity_id, inbox)
    );
    CREATE INDEX delivery_rows_due ON delivery_rows (state, next_attempt);
    CREATE INDEX delivery_rows_by_inbox ON delivery_rows (inbox, state, object_id);
    """,
    # One job queue (commsite.jobs): a lease is a token and an expiry, as for
    # the inbox; leases of the old kind are dropped (their processes are gone
    # after an upgrade). Hosts in trouble back off as a whole.
    """
    ALTER TABLE delivery_rows ADD COLUMN lease_until TEXT;
    UPDATE delivery_rows SET lease_token = NULL;
    ALTER TABLE delivery_rows DROP COLUMN lease_at;
    ALTER TABLE delivery_rows DROP COLUMN lease_host;
    ALTER TABLE delivery_rows DROP COLUMN lease_pid;
    CREATE INDEX delivery_rows_lease ON delivery_rows (lease_token);
    CREATE INDEX delivery_rows_by_host ON delivery_rows (host, state, lease_until);
    CREATE TABLE delivery_hosts (
        host TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        retry_at TEXT NOT NULL,
        detail TEXT
    );
    """,
)


def stamp(when: datetime) -> str:
    """Fixed-width UTC text, so SQL compares times as strings."""
    if when.tzinfo is None:
        raise ValueError("delivery times must be timezone-aware")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


DELIVERY = JobKind(
    name="delivery",
    table="delivery_rows",
    key="id",
    open_states=("pending",),
    retry_state="pending",
    due="next_attempt",
    detail="detail",
    order="next_attempt, id",
    policy=DELIVERY_RETRIES,
    stamp=stamp,
    parse=parse,
    finished="finished_at",
)

_LEASED = (
    "(SELECT COUNT(*) FROM delivery_rows AS l"
    " WHERE l.host = {0}.host AND l.state = 'pending' AND l.lease_until > ?)"
)

# A host's limit: `per_host`, or 1 while it has failures on record (its backoff
# over, one request finds out whether it is back: a dead server holds one
# thread per timeout, not `per_host`).
_LIMIT = (
    "(CASE WHEN EXISTS (SELECT 1 FROM delivery_hosts AS f WHERE f.host = {0}.host)"
    " THEN 1 ELSE ? END)"
)

# Candidates for a claim, in the order to take them: of the first due rows
# (WINDOW) whose host is neither backing off nor at its limit, and that wait
# for no earlier row about the same object to the same inbox, the first of
# each host, then the second ..., as far as each host's limit allows.
_FAIR = f"""
SELECT id FROM (
    SELECT c.id, c.host, c.next_attempt,
           ROW_NUMBER() OVER (PARTITION BY c.host ORDER BY c.next_attempt, c.id) AS rank
    FROM (
        SELECT r.id, r.host, r.next_attempt FROM delivery_rows AS r
        WHERE {jobs.claimable(DELIVERY, "r")}
          AND NOT EXISTS (
              SELECT 1 FROM delivery_rows AS e
              WHERE e.inbox = r.inbox AND e.state = 'pending'
                AND e.object_id = r.object_id AND e.id < r.id)
          AND NOT EXISTS (
              SELECT 1 FROM delivery_hosts AS h WHERE h.host = r.host AND h.retry_at > ?)
          AND {_LEASED.format("r")} < {_LIMIT.format("r")}
        ORDER BY r.next_attempt, r.id
        LIMIT ?
    ) AS c
) AS ranked
WHERE ranked.rank + {_LEASED.format("ranked")} <= {_LIMIT.format("ranked")}
ORDER BY ranked.rank, ranked.next_attempt, ranked.id
LIMIT ?
"""


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
    def __init__(self, conn: sqlite3.Connection, *, dialect: Dialect = "sqlite") -> None:
        self._conn = conn
        self.dialect: Dialect = dialect
        migrate(conn, COMPONENT, MIGRATIONS)

    @property
    def connection(self) -> sqlite3.Connection:
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
                select=_FAIR,
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
