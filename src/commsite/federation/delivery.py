"""The durable delivery queue: activities to POST to inboxes, with retries.

One row per (activity id, inbox), stored in the "delivery" component of the
data directory's database; the activity's JSON is stored once. A row is
`pending` until it ends `delivered` (2xx), `gone` (410: the followers behind
that inbox are removed) or `failed` (another 4xx, or retries ran out after
about a week). Network errors, 401, 408, 429 and 5xx are retried with
exponential backoff and jitter, honouring Retry-After (see retries.py).

Crash safety. Every state change is committed as soon as the answer arrives,
before the next request starts. A row being sent carries a lease (wall-clock
time, host, pid and a per-run token); a later run takes the row over when the
process that holds the lease is gone (see leases.py). So a process killed
mid-run repeats at most the requests that were in flight when it died (the
receiver dedupes by activity id); a delivered row is never sent again.

Ordering. Activities about the same object reach one inbox in the order they
were queued: an Update waits while the Create before it is still retrying.

Threads only send; the calling thread does every database operation, so one
connection is enough.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite.database import Connection, migrate, transaction
from commsite.federation import leases
from commsite.federation.content_types import ACTIVITY_JSON
from commsite.federation.fetch import BlockedAddress, FetchError
from commsite.federation.followers import FollowerStore
from commsite.federation.retries import GIVE_UP_AFTER, MAX_ATTEMPTS, classify, retry_delay
from commsite.federation.signatures import sign_cavage

__all__ = [
    "DeliveryOutcome",
    "DeliveryQueue",
    "QueueStats",
    "run_deliveries",
    "signer",
]

COMPONENT = "delivery"

DETAIL_LIMIT = 300  # characters of a response body kept for the operator

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
)


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What happened to one (activity, inbox) attempt."""

    inbox: str
    activity_id: str
    status: str  # "delivered" | "retry" | "failed" | "gone"
    http_status: int | None
    detail: str
    next_attempt: datetime | None = None  # when status == "retry"
    followers_removed: int = 0  # when status == "gone"
    activity_type: str = ""  # "Create", "Accept", ...
    object_id: str | None = None  # the activity's object (its id, if embedded)


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int
    delivered: int
    failed: int
    gone: int
    next_attempt: datetime | None  # earliest pending attempt, if any


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    activity_id: str
    object_id: str | None
    inbox: str
    host: str
    attempts: int
    enqueued_at: datetime
    lease_token: str | None


@dataclass(frozen=True, slots=True)
class _Answer:
    """What one POST produced: a status (or None for a network error)."""

    http_status: int | None
    retry_after: str | None
    detail: str
    permanent_error: bool = False  # a request that can never work (bad URL)


class DeliveryQueue:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
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
        stamp = _stamp(now)
        object_id = _object_id(activity)
        body = json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        added = 0
        with transaction(self._conn):
            self._conn.execute(
                "INSERT INTO delivery_activities"
                " (activity_id, object_id, body, enqueued_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (activity_id, object_id, body, stamp),
            )
            for inbox in targets:
                added += self._conn.execute(
                    "INSERT INTO delivery_rows"
                    " (activity_id, object_id, inbox, host, enqueued_at, next_attempt)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (activity_id, object_id, inbox, _host(inbox), stamp, stamp),
                ).rowcount
        return added

    def pending(self) -> int:
        """Rows not yet delivered, gone or failed (due now or later)."""
        row = self._conn.execute(
            "SELECT COUNT(*) FROM delivery_rows WHERE state = 'pending'"
        ).fetchone()
        return int(row[0])

    def stats(self) -> QueueStats:
        counts = dict.fromkeys(("pending", "delivered", "failed", "gone"), 0)
        for state, n in self._conn.execute(
            "SELECT state, COUNT(*) FROM delivery_rows GROUP BY state"
        ).fetchall():
            counts[str(state)] = int(n)
        first = self._conn.execute(
            "SELECT MIN(next_attempt) FROM delivery_rows WHERE state = 'pending'"
        ).fetchone()[0]
        return QueueStats(
            pending=counts["pending"],
            delivered=counts["delivered"],
            failed=counts["failed"],
            gone=counts["gone"],
            next_attempt=None if first is None else _parse(str(first)),
        )

    def retry_now(self, now: datetime) -> int:
        """Make every pending row due at `now` (`commsite publish --retry-now`)."""
        return self._conn.execute(
            "UPDATE delivery_rows SET next_attempt = ?"
            " WHERE state = 'pending' AND next_attempt > ?",
            (_stamp(now), _stamp(now)),
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

    # --- used by run_deliveries (all on the calling thread) ------------------

    def _candidates(self, now: datetime, per_host: int) -> list[_Row]:
        """Due rows, the first few per host, oldest first.

        A row waits while an earlier pending row about the same object is
        queued for the same inbox (so an Update never overtakes its Create).
        Rows leased by a live process on another host are left out here; those
        on this host are checked by `leases.is_stale`.
        """
        rows = self._conn.execute(
            """
            SELECT id, activity_id, object_id, inbox, host, attempts, enqueued_at, lease_token,
                   lease_at, lease_host, lease_pid
            FROM (
                SELECT r.*, ROW_NUMBER() OVER (
                    PARTITION BY r.host ORDER BY r.next_attempt, r.id) AS rank
                FROM delivery_rows AS r
                WHERE r.state = 'pending' AND r.next_attempt <= ?
                  AND (r.lease_token IS NULL OR r.lease_host = ? OR r.lease_at < ?)
                  AND NOT EXISTS (
                      SELECT 1 FROM delivery_rows AS e
                      WHERE e.inbox = r.inbox AND e.state = 'pending'
                        AND e.object_id = r.object_id AND e.id < r.id)
            ) AS due
            WHERE rank <= ?
            ORDER BY rank, id
            """,
            (_stamp(now), leases.HOSTNAME, time.time() - leases.LEASE_TTL, per_host * 2),
        ).fetchall()
        found = []
        for r in rows:
            if r["lease_token"] is not None and not leases.is_stale(
                r["lease_token"], r["lease_at"], r["lease_host"], r["lease_pid"]
            ):
                continue
            found.append(
                _Row(
                    id=int(r["id"]),
                    activity_id=str(r["activity_id"]),
                    object_id=r["object_id"],
                    inbox=str(r["inbox"]),
                    host=str(r["host"]),
                    attempts=int(r["attempts"]),
                    enqueued_at=_parse(str(r["enqueued_at"])),
                    lease_token=r["lease_token"],
                )
            )
        return found

    def _due_ids(self, now: datetime) -> set[int]:
        rows = self._conn.execute(
            "SELECT id FROM delivery_rows WHERE state = 'pending' AND next_attempt <= ?",
            (_stamp(now),),
        ).fetchall()
        return {int(r[0]) for r in rows}

    def _claim(self, rows: Iterable[_Row], token: str) -> dict[int, bytes]:
        """Take the leases on `rows` (compare-and-swap each), in one transaction.

        Returns the body of each row we got, by row id. The leases are
        committed before any request is sent, and the attempts counted then,
        so a crash mid-send still counts as an attempt.
        """
        bodies: dict[int, bytes] = {}
        with transaction(self._conn):
            for row in rows:
                claimed = self._conn.execute(
                    "UPDATE delivery_rows SET lease_at = ?, lease_host = ?, lease_pid = ?,"
                    " lease_token = ?, attempts = attempts + 1"
                    " WHERE id = ? AND state = 'pending' AND lease_token IS NOT DISTINCT FROM ?",
                    (time.time(), leases.HOSTNAME, os.getpid(), token, row.id, row.lease_token),
                ).rowcount
                if claimed:
                    body = self._conn.execute(
                        "SELECT body FROM delivery_activities WHERE activity_id = ?",
                        (row.activity_id,),
                    ).fetchone()[0]
                    bodies[row.id] = bytes(body)
        return bodies

    def _settle(
        self,
        row: _Row,
        token: str,
        activity_type: str,
        answer: _Answer,
        now: datetime,
        followers: FollowerStore,
        rng: random.Random,
    ) -> DeliveryOutcome:
        """Record the answer to one attempt and say what it was.

        Joins the caller's transaction (run_deliveries records every answer
        that is in before it starts more requests, in one commit). Only while
        `token` still holds the row's lease: a run whose lease was taken over
        (it hung past LEASE_TTL) leaves the row to the run that took it.
        """
        status = "failed" if answer.permanent_error else classify(answer.http_status)
        attempts = row.attempts + 1
        next_attempt: datetime | None = None
        detail = answer.detail
        removed = 0
        if status == "retry":
            delay = retry_delay(attempts, answer.retry_after, now, rng)
            due = now + delay
            if attempts >= MAX_ATTEMPTS or due > row.enqueued_at + GIVE_UP_AFTER:
                status = "failed"
                detail = f"gave up after {attempts} attempts; last: {detail}"
            else:
                next_attempt = due
        with transaction(self._conn):
            if status == "retry":
                assert next_attempt is not None
                self._conn.execute(
                    "UPDATE delivery_rows SET next_attempt = ?, http_status = ?, detail = ?,"
                    " lease_at = NULL, lease_host = NULL, lease_pid = NULL, lease_token = NULL"
                    " WHERE id = ? AND lease_token = ?",
                    (_stamp(next_attempt), answer.http_status, detail, row.id, token),
                )
            else:
                self._conn.execute(
                    "UPDATE delivery_rows SET state = ?, http_status = ?, detail = ?,"
                    " finished_at = ?, lease_at = NULL, lease_host = NULL, lease_pid = NULL,"
                    " lease_token = NULL WHERE id = ? AND lease_token = ?",
                    (status, answer.http_status, detail, _stamp(now), row.id, token),
                )
            if status == "gone":
                removed = followers.remove_by_inbox(row.inbox)
                # Nothing else will get through to that inbox either.
                self._conn.execute(
                    "UPDATE delivery_rows SET state = 'gone', finished_at = ?,"
                    " detail = 'inbox answered 410 Gone to an earlier activity'"
                    " WHERE inbox = ? AND state = 'pending' AND lease_token IS NULL",
                    (_stamp(now), row.inbox),
                )
        return DeliveryOutcome(
            inbox=row.inbox,
            activity_id=row.activity_id,
            status=status,
            http_status=answer.http_status,
            detail=detail,
            next_attempt=next_attempt,
            followers_removed=removed,
            activity_type=activity_type,
            object_id=row.object_id,
        )

    def _release(self, token: str) -> None:
        """Drop the leases `token` still holds (a run that stopped on an error)."""
        self._conn.execute(
            "UPDATE delivery_rows SET lease_at = NULL, lease_host = NULL, lease_pid = NULL,"
            " lease_token = NULL WHERE lease_token = ? AND state = 'pending'",
            (token,),
        )


def run_deliveries(
    queue: DeliveryQueue,
    followers: FollowerStore,
    *,
    sign: Callable[[str, bytes], dict[str, str]],
    post: Callable[[str, bytes, Mapping[str, str]], requests.Response],
    clock: Callable[[], datetime],
    per_host: int = 2,
    workers: int = 8,
    until_idle: bool = True,
    progress: Callable[[DeliveryOutcome], None] | None = None,
    rng: random.Random | None = None,
) -> list[DeliveryOutcome]:
    """Send every due row; return what happened to each attempt, in order.

    `sign(inbox, body)` is called for each attempt, just before it is sent, so
    a retry days later carries a fresh Date and signature (`signer` makes
    one from the community's key). `post` sends (usually
    `Fetcher.post`): an HTTP error is an answer, not an exception; FetchError and
    requests' errors mean no answer (retried), BlockedAddress and malformed URLs
    can never work (failed). Anything else is a bug and stops the run. At most
    `per_host` requests run at once to one host, `workers` in all.

    With `until_idle` the run goes on until no row is due any more (a retry
    scheduled for later is left for a later run); otherwise it makes one pass
    over the rows that were due when it started.
    """
    if per_host < 1 or workers < 1:
        raise ValueError("per_host and workers must be at least 1")
    if followers.connection is not queue.connection:
        # A 410 removes followers in the same transaction as the row's state.
        raise ValueError("the follower store and the queue must share one connection")
    rng = rng or random.Random()
    first_pass = None if until_idle else queue._due_ids(clock())
    outcomes: list[DeliveryOutcome] = []
    in_flight: dict[Future[_Answer], tuple[_Row, str]] = {}  # -> (row, activity type)
    load: Counter[str] = Counter()  # requests in flight per host
    # Due rows read from the queue and not started yet. Reading is the costly
    # part, so it is read again only when nothing here can start and answers
    # have come in since the last read (`unread`).
    waiting: list[_Row] = []
    unread = True

    def startable() -> list[_Row]:
        picked: list[_Row] = []
        picked_per_host: Counter[str] = Counter()
        for row in waiting:
            if len(in_flight) + len(picked) >= workers:
                break
            if load[row.host] + picked_per_host[row.host] < per_host:
                picked.append(row)
                picked_per_host[row.host] += 1
        return picked

    def start(pool: ThreadPoolExecutor, token: str) -> None:
        """Claim due rows and send them, as far as the limits allow."""
        nonlocal waiting, unread
        picked = startable()
        if not picked and unread:
            waiting = [
                row
                for row in queue._candidates(clock(), per_host)
                if first_pass is None or row.id in first_pass
            ]
            unread = False
            picked = startable()
        if not picked:
            return
        taken = {row.id for row in picked}
        waiting = [row for row in waiting if row.id not in taken]
        bodies = queue._claim(picked, token)
        for row in picked:
            body = bodies.get(row.id)
            if body is None:
                continue  # another run took it, or it is settled already
            in_flight[pool.submit(_send, row.inbox, body, sign, post)] = (row, _activity_type(body))
            load[row.host] += 1
            if first_pass is not None:
                first_pass.discard(row.id)

    def settle(done: Iterable[Future[_Answer]], token: str) -> None:
        """Record every answer that is in, in one commit, then report them."""
        nonlocal unread
        settled = []
        with transaction(queue.connection):
            for future in done:
                row, activity_type = in_flight.pop(future)
                load[row.host] -= 1
                settled.append(
                    queue._settle(
                        row, token, activity_type, future.result(), clock(), followers, rng
                    )
                )
        unread = True
        outcomes.extend(settled)
        if progress is not None:
            for outcome in settled:
                progress(outcome)

    with (
        leases.live_token() as token,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery") as pool,
    ):
        try:
            while True:
                if len(in_flight) < workers:
                    start(pool, token)
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                settle(done, token)
        except BaseException:
            # Record what the requests already sent got back, then stop.
            settle([f for f in wait(in_flight).done if f.exception() is None], token)
            raise
        finally:
            queue._release(token)
    return outcomes


def signer(
    key_id: str, private_key: RSAPrivateKey, clock: Callable[[], datetime]
) -> Callable[[str, bytes], dict[str, str]]:
    """The `sign` for run_deliveries: draft-cavage over (request-target), host,
    date, digest and content-type, dated `clock()` at the moment of sending."""

    def sign(inbox: str, body: bytes) -> dict[str, str]:
        return sign_cavage(
            method="POST",
            url=inbox,
            body=body,
            key_id=key_id,
            private_key=private_key,
            now=clock(),
            headers={"Content-Type": ACTIVITY_JSON},
        )

    return sign


def _send(
    inbox: str,
    body: bytes,
    sign: Callable[[str, bytes], dict[str, str]],
    post: Callable[[str, bytes, Mapping[str, str]], requests.Response],
) -> _Answer:
    """One attempt, on a worker thread: sign now, POST, read the answer."""
    headers = sign(inbox, body)
    try:
        response = post(inbox, body, headers)
    except (
        BlockedAddress,
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
    ) as exc:
        return _Answer(None, None, f"cannot send there: {exc}", permanent_error=True)
    except (FetchError, requests.RequestException) as exc:
        return _Answer(None, None, str(exc) or type(exc).__name__)
    status = response.status_code
    text = " ".join(response.text.split())[:DETAIL_LIMIT] if status >= 300 else ""
    detail = f"HTTP {status}" + (f": {text}" if text else "")
    return _Answer(status, response.headers.get("Retry-After"), detail)


def _activity_type(body: bytes) -> str:
    kind = json.loads(body).get("type")
    return kind if isinstance(kind, str) else ""


def _object_id(activity: Mapping[str, object]) -> str | None:
    obj = activity.get("object")
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        value = obj.get("id")
        return value if isinstance(value, str) else None
    return None


def _host(inbox: str) -> str:
    return urlsplit(inbox).netloc.lower()


def _stamp(when: datetime) -> str:
    """Fixed-width UTC text, so SQL compares times as strings."""
    if when.tzinfo is None:
        raise ValueError("delivery times must be timezone-aware")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
