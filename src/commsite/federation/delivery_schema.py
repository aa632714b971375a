"""The delivery queue's schema, its job kind, and its fair claim (SQL).

`delivery_rows` is a job table of the "delivery" kind (commsite.jobs):
one row per (activity, inbox); `delivery_activities` holds each activity's
JSON once; `delivery_hosts` the servers with failures on record. The claim's
candidate query (`FAIR`) is portable SQL, run by `commsite.jobs.queue.claim`
(which adds FOR UPDATE SKIP LOCKED on PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime

from commsite.federation.retries import DELIVERY_RETRIES
from commsite.jobs import queue as jobs
from commsite.jobs.queue import JobKind

__all__ = ["DELIVERY", "FAIR", "MIGRATIONS", "WINDOW", "parse", "stamp"]

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
FAIR = f"""
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
