"""One durable job queue: claim due jobs with a lease, settle each with an outcome.

A kind of job is a table with a few agreed columns, described by a `JobKind`:

* `state`: the job's state; `open_states` are the ones still to be done;
* a due time (`JobKind.due`): when the job may be attempted next (NULL: now);
* `attempts`: attempts started so far (a claim counts one);
* `lease_token`, `lease_until`: who claimed it, and until when. An expired
  lease is claimable again, so a worker killed mid-job leaves its jobs to
  whoever claims after the lease (`reap` frees a dead local process's at once).

`claim` takes up to N jobs that are open, due and not leased, in one
statement: `UPDATE ... WHERE key IN (SELECT ...) RETURNING ...`. On SQLite it
runs inside BEGIN IMMEDIATE (the caller's transaction), which serialises
claimers; on PostgreSQL the inner SELECT takes `FOR UPDATE SKIP LOCKED`, so
concurrent claimers skip each other's rows instead of waiting. `settle`
records an `Outcome` (outcome.py) only while the settling claim still holds the
lease: a claimer whose lease expired and was taken over records nothing.

Timestamps are the kind's fixed-width UTC text (`JobKind.stamp`), compared as
strings, as every table here stores them; the SQL is portable (`?`
placeholders, no SQLite-only functions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from commsite.database import Connection, Row
from commsite.jobs import leases
from commsite.jobs.outcome import Done, Outcome, Retry
from commsite.jobs.policy import RetryPolicy

__all__ = [
    "Depth",
    "Dialect",
    "JobKind",
    "claim",
    "claimable",
    "depth",
    "reap",
    "release",
    "settle",
    "waiting_in",
]

Dialect = Literal["sqlite", "postgresql"]


@dataclass(frozen=True, slots=True)
class JobKind:
    """Where the jobs of one kind live, and their retry policy."""

    name: str  # "inbox", "delivery": for logs and /healthz
    table: str
    key: str  # the primary key column
    open_states: tuple[str, ...]  # states still to be done (claimable when due)
    retry_state: str  # the state a retried job waits in
    due: str  # the column holding the next attempt's time
    detail: str  # the column holding the outcome's detail or reason
    order: str  # ORDER BY of a plain claim (oldest first)
    policy: RetryPolicy
    stamp: Callable[[datetime], str]  # datetime -> stored text
    parse: Callable[[str], datetime]  # stored text -> datetime
    running_state: str | None = None  # the state a claimed job shows, if any
    finished: str | None = None  # a column stamped when the job ends


@dataclass(frozen=True, slots=True)
class Depth:
    """How much of one kind waits: for /healthz."""

    waiting: int  # open jobs, due now or later (claimed ones included)
    due: int  # of those, due now
    oldest_due: datetime | None  # the due time of the job waiting longest


def claimable(kind: JobKind, alias: str = "") -> str:
    """SQL for "open, due by ?, not leased at ?" (two parameters: due_by, now)."""
    p = f"{alias}." if alias else ""
    states = ", ".join(f"'{s}'" for s in kind.open_states)
    return (
        f"{p}state IN ({states}) AND ({p}{kind.due} IS NULL OR {p}{kind.due} <= ?)"
        f" AND ({p}lease_until IS NULL OR {p}lease_until <= ?)"
    )


def claim(
    conn: Connection,
    kind: JobKind,
    *,
    now: datetime,
    limit: int,
    token: str,
    lease: timedelta,
    returning: str,
    due_by: datetime | None = None,
    select: str | None = None,
    select_params: Sequence[object] = (),
    dialect: Dialect = "sqlite",
) -> list[Row]:
    """Lease up to `limit` claimable jobs to `token` until `now + lease`; their rows.

    Counts an attempt on each. `returning` names the columns to return
    (`attempts` is the count after this claim). `due_by` (default `now`) takes
    only jobs due by then. `select`, when given, is a query of candidate keys in
    the order to take them (a kind's own fairness rules), with
    `select_params`; only claimable ones are taken either way. Call it inside
    a transaction (SQLite: BEGIN IMMEDIATE, so claimers never take one job twice).
    """
    if limit < 1:
        return []
    t, k = kind.table, kind.key
    when, until = kind.stamp(due_by or now), kind.stamp(now)
    if select is None:
        select = f"SELECT {k} FROM {t} WHERE {claimable(kind)} ORDER BY {kind.order} LIMIT ?"
        select_params = (when, until, limit)
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    running = ", state = ?" if kind.running_state is not None else ""
    params: list[object] = [token, kind.stamp(now + lease)]
    if kind.running_state is not None:
        params.append(kind.running_state)
    params += [*select_params, when, until, limit]
    sql = (
        f"UPDATE {t} SET lease_token = ?, lease_until = ?, attempts = attempts + 1{running}"
        f" WHERE {k} IN (SELECT {k} FROM {t} WHERE {k} IN ({select}) AND {claimable(kind)}"
        f" LIMIT ?{lock})"
        f" RETURNING {returning}"
    )
    return list(conn.execute(sql, params).fetchall())


def settle(
    conn: Connection,
    kind: JobKind,
    key: object,
    token: str,
    outcome: Outcome,
    *,
    now: datetime,
    extra: Mapping[str, object] | None = None,
) -> bool:
    """Record `outcome` for the job `key` and drop its lease; False (nothing
    written) when `token` no longer holds the lease. `extra`: more columns to
    set (names from code, never from input)."""
    sets = ["lease_token = NULL", "lease_until = NULL"]
    params: list[object] = []
    if isinstance(outcome, Retry):
        sets += ["state = ?", f"{kind.due} = ?", f"{kind.detail} = ?", "attempts = attempts - ?"]
        params += [kind.retry_state, kind.stamp(outcome.at), outcome.reason]
        params.append(0 if outcome.attempt_used else 1)
    else:
        state, detail = (
            (outcome.state, outcome.detail)
            if isinstance(outcome, Done)
            else (outcome.state, outcome.reason)
        )
        sets += ["state = ?", f"{kind.detail} = ?"]
        params += [state, detail]
        if kind.finished is not None:
            sets.append(f"{kind.finished} = ?")
            params.append(kind.stamp(now))
    for column, value in (extra or {}).items():
        sets.append(f"{column} = ?")
        params.append(value)
    params += [key, token]
    cursor = conn.execute(
        f"UPDATE {kind.table} SET {', '.join(sets)} WHERE {kind.key} = ? AND lease_token = ?",
        params,
    )
    return cursor.rowcount == 1


def release(conn: Connection, kind: JobKind, token: str) -> int:
    """Drop every lease `token` still holds (a claimer that stops early); the
    jobs keep their state and are claimable again at once."""
    return conn.execute(
        f"UPDATE {kind.table} SET lease_token = NULL, lease_until = NULL WHERE lease_token = ?",
        (token,),
    ).rowcount


def reap(conn: Connection, kind: JobKind, now: datetime) -> int:
    """Release the unexpired leases of this machine's processes that are gone
    (leases.holder_gone); how many jobs were freed. Other machines' leases are
    left to expire."""
    prefix = leases.local_prefix()
    tokens = conn.execute(
        f"SELECT DISTINCT lease_token FROM {kind.table} WHERE lease_token IS NOT NULL"
        " AND lease_until > ? AND substr(lease_token, 1, ?) = ?",
        (kind.stamp(now), len(prefix), prefix),
    ).fetchall()
    freed = 0
    for (token,) in tokens:
        if leases.holder_gone(str(token)):
            freed += release(conn, kind, str(token))
    return freed


def waiting_in(conn: Connection, kind: JobKind, state: str, now: datetime) -> bool:
    """Whether a job in `state` is claimable now: one look-up in the (state, due)
    index (a worker's "was anything queued?" between its passes)."""
    when = kind.stamp(now)
    row = conn.execute(
        f"SELECT 1 FROM {kind.table} WHERE state = ? AND {claimable(kind)} LIMIT 1",
        (state, when, when),
    ).fetchone()
    return row is not None


def depth(conn: Connection, kind: JobKind, now: datetime) -> Depth:
    """Open jobs, how many are due, and the oldest due time: one cheap query
    over the (state, due) index."""
    states = ", ".join(f"'{s}'" for s in kind.open_states)
    row = conn.execute(
        f"SELECT COUNT(*), COUNT(CASE WHEN {kind.due} IS NULL OR {kind.due} <= ? THEN 1 END),"
        f" MIN({kind.due}) FROM {kind.table} WHERE state IN ({states})",
        (kind.stamp(now),),
    ).fetchone()
    waiting, due, oldest = int(row[0]), int(row[1]), row[2]
    oldest_due = kind.parse(str(oldest)) if due and oldest is not None else None
    if oldest_due is not None and oldest_due > now:
        oldest_due = None  # (only NULL due times are due; they have no age)
    return Depth(waiting=waiting, due=due, oldest_due=oldest_due)
