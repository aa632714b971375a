"""The one job queue (commsite.jobs): retry policies, claims with leases, outcomes.

The policy is pure and tested as such; the queue runs on real SQLite files,
with real processes claiming at once and a real SIGKILL mid-job.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commsite.database import connect, transaction
from commsite.jobs import (
    Dead,
    Done,
    JobKind,
    Retry,
    RetryPolicy,
    claim,
    depth,
    live_token,
    parse_retry_after,
    reap,
    release,
    settle,
)
from commsite.jobs.leases import holder_gone
from commsite.jobs.queue import waiting_in

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    base=timedelta(minutes=1),
    cap=timedelta(hours=1),
    max_attempts=5,
    jitter=0.25,
    give_up_after=timedelta(days=1),
)


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


KIND = JobKind(
    name="test",
    table="jobs",
    key="id",
    open_states=("queued", "retry", "running"),
    retry_state="retry",
    due="due_at",
    detail="detail",
    order="id",
    policy=POLICY,
    stamp=stamp,
    parse=parse,
    running_state="running",
    finished="finished_at",
)
SCHEMA = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TEXT,
    lease_token TEXT,
    lease_until TEXT,
    detail TEXT,
    finished_at TEXT
);
CREATE INDEX jobs_due ON jobs (state, due_at)
"""


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(connect(tmp_path / "jobs.sqlite3")) as conn:
        for statement in SCHEMA.split(";"):
            conn.execute(statement)
        yield conn


def add(conn: sqlite3.Connection, n: int, due: datetime = T0) -> None:
    with transaction(conn):
        for _ in range(n):
            conn.execute("INSERT INTO jobs (due_at) VALUES (?)", (stamp(due),))


def take(conn: sqlite3.Connection, token: str, now: datetime = T0, limit: int = 10) -> list[int]:
    with transaction(conn):
        rows = claim(
            conn,
            KIND,
            now=now,
            limit=limit,
            token=token,
            lease=timedelta(minutes=5),
            returning="id, attempts",
        )
    return sorted(int(r["id"]) for r in rows)


def row(conn: sqlite3.Connection, job: int) -> tuple[object, ...]:
    return tuple(
        conn.execute(
            "SELECT state, attempts, due_at, lease_token, detail FROM jobs WHERE id = ?", (job,)
        ).fetchone()
    )


# --- the policy (pure) -----------------------------------------------------------


def test_the_delay_doubles_up_to_the_cap_within_its_jitter() -> None:
    rng = random.Random(7)
    for attempts, expected in [(1, 60), (2, 120), (3, 240), (7, 3600), (500, 3600)]:
        delay = POLICY.delay(attempts, rng).total_seconds()
        assert expected * 0.75 <= delay <= expected * 1.25, (attempts, delay)
    steady = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(hours=6), max_attempts=10)
    assert [steady.delay(n, rng) for n in (1, 2, 3, 20)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(hours=6),
    ]


def test_jitter_spreads_the_retries_of_many_jobs() -> None:
    rng = random.Random(1)
    delays = {POLICY.delay(3, rng) for _ in range(50)}
    assert len(delays) == 50
    assert min(delays) < timedelta(minutes=3.5) and max(delays) > timedelta(minutes=4.5)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 120 ", timedelta(seconds=120)),
        ("Fri, 20 Nov 2026 09:30:00 GMT", timedelta(minutes=30)),
        ("Fri, 20 Nov 2026 08:00:00 GMT", timedelta(hours=-1)),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits: isdigit() says yes, HTTP says no
        ("99999999999999999999999", timedelta(seconds=999999999999)),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str, expected: timedelta | None
) -> None:
    assert parse_retry_after(header, T0) == expected


def test_retry_after_wins_but_is_kept_between_a_second_and_its_cap() -> None:
    rng = random.Random(1)
    assert POLICY.delay(1, rng, retry_after="300", now=T0) == timedelta(seconds=300)
    assert POLICY.delay(9, rng, retry_after="0", now=T0) == timedelta(seconds=1)
    assert POLICY.delay(1, rng, retry_after="99999999", now=T0) == timedelta(days=1)
    assert POLICY.delay(1, rng, retry_after="Fri, 20 Nov 2026 08:00:00 GMT", now=T0) == (
        timedelta(seconds=1)
    )
    assert (
        timedelta(seconds=45)
        <= POLICY.delay(1, rng, retry_after="x", now=T0)
        <= (timedelta(seconds=75))
    )


def test_a_failure_is_retried_until_the_attempts_or_the_time_run_out() -> None:
    rng = random.Random(3)
    first = POLICY.after_failure(1, "HTTP 503", T0, queued_at=T0, rng=rng)
    assert isinstance(first, Retry) and first.reason == "HTTP 503" and first.attempt_used
    assert T0 + timedelta(seconds=45) <= first.at <= T0 + timedelta(seconds=75)
    assert POLICY.after_failure(5, "HTTP 503", T0, queued_at=T0, rng=rng) == Dead(
        "gave up after 5 attempts; last: HTTP 503", "failed"
    )
    late = POLICY.after_failure(
        2, "timeout", T0 + timedelta(hours=23, minutes=59), queued_at=T0, rng=rng
    )
    assert late == Dead("gave up after 2 attempts; last: timeout", "failed")


def test_a_policy_that_cannot_work_is_refused() -> None:
    with pytest.raises(ValueError, match="base <= cap"):
        RetryPolicy(base=timedelta(hours=2), cap=timedelta(hours=1), max_attempts=3)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(base=timedelta(1), cap=timedelta(2), max_attempts=3, jitter=1.0)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(base=timedelta(1), cap=timedelta(2), max_attempts=0)


# --- claims and leases ---------------------------------------------------------------


def test_a_claim_takes_due_jobs_once_and_counts_an_attempt(db: sqlite3.Connection) -> None:
    add(db, 3)
    add(db, 1, due=T0 + timedelta(minutes=4))
    with live_token() as token, live_token() as other:
        assert take(db, token, limit=2) == [1, 2]
        assert take(db, other) == [3]  # leased ones and later ones are left
        assert take(db, other) == []
        assert row(db, 1) == ("running", 1, stamp(T0), token, None)
        assert take(db, other, now=T0 + timedelta(minutes=4)) == [4]  # (the rest still leased)


def test_an_expired_lease_is_claimable_again(db: sqlite3.Connection) -> None:
    add(db, 1)
    with live_token() as first, live_token() as second:
        assert take(db, first) == [1]
        assert take(db, second, now=T0 + timedelta(minutes=4, seconds=59)) == []
        assert take(db, second, now=T0 + timedelta(minutes=5)) == [1]
        assert row(db, 1)[1:4] == (2, stamp(T0), second)
        # The first claimer's late answer is not recorded over the second's.
        with transaction(db):
            assert not settle(db, KIND, 1, first, Done(), now=T0)
            assert settle(db, KIND, 1, second, Done("done", "ok"), now=T0)
        assert row(db, 1) == ("done", 2, stamp(T0), None, "ok")


def test_outcomes_are_recorded_as_data(db: sqlite3.Connection) -> None:
    add(db, 3)
    later = T0 + timedelta(minutes=3)
    with live_token() as token:
        take(db, token)
        with transaction(db):
            settle(db, KIND, 1, token, Retry(later, "HTTP 502"), now=T0)
            settle(db, KIND, 2, token, Retry(later, "not yet", attempt_used=False), now=T0)
            settle(db, KIND, 3, token, Dead("KeyError: 'object'"), now=T0)
        assert row(db, 1) == ("retry", 1, stamp(later), None, "HTTP 502")
        assert row(db, 2) == ("retry", 0, stamp(later), None, "not yet")
        assert row(db, 3) == ("dead", 1, stamp(T0), None, "KeyError: 'object'")
        finished = db.execute("SELECT finished_at FROM jobs ORDER BY id").fetchall()
        assert [r[0] for r in finished] == [None, None, stamp(T0)]
        assert take(db, token, now=later - timedelta(seconds=1)) == []
        assert take(db, token, now=later) == [1, 2]  # a dead job is never claimed


def test_release_hands_unsettled_jobs_back_at_once(db: sqlite3.Connection) -> None:
    add(db, 2)
    with live_token() as token:
        take(db, token)
        with transaction(db):
            assert release(db, KIND, token) == 2
        assert take(db, token) == [1, 2]


def test_depth_counts_waiting_and_due_jobs_and_the_oldest_due(db: sqlite3.Connection) -> None:
    assert depth(db, KIND, T0).waiting == 0 and depth(db, KIND, T0).oldest_due is None
    add(db, 2, due=T0 - timedelta(minutes=10))
    add(db, 1, due=T0 + timedelta(hours=1))
    with live_token() as token:
        take(db, token, now=T0, limit=1)  # a claimed job still waits
    found = depth(db, KIND, T0)
    assert (found.waiting, found.due, found.oldest_due) == (3, 2, T0 - timedelta(minutes=10))


def test_waiting_in_sees_only_claimable_jobs_in_that_state(db: sqlite3.Connection) -> None:
    """A worker's look between passes: a queued job due now, not one due later,
    claimed (another state, or leased), or in another state."""
    assert not waiting_in(db, KIND, "queued", T0)
    add(db, 1, due=T0 + timedelta(minutes=1))
    assert not waiting_in(db, KIND, "queued", T0)  # not due yet
    assert waiting_in(db, KIND, "queued", T0 + timedelta(minutes=1))
    add(db, 1)
    assert waiting_in(db, KIND, "queued", T0)
    assert take(db, "w1") == [2]  # now "running", leased
    assert not waiting_in(db, KIND, "queued", T0)
    assert not waiting_in(db, KIND, "running", T0)  # leased
    assert waiting_in(db, KIND, "running", T0 + timedelta(minutes=6))  # the lease expired


def test_a_token_names_its_holder_and_outlives_it_only_as_a_dead_one() -> None:
    with live_token() as token:
        host, pid, _ = token.split(":")
        assert int(pid) == os.getpid() and host
        assert not holder_gone(token)
    assert holder_gone(token)  # this process, its block ended (or a reused pid)
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert holder_gone(f"{host}:{done.stdout.strip()}:x")
    assert not holder_gone(f"elsewhere.example:{done.stdout.strip()}:x")  # only time tells
    assert not holder_gone("not a token")


# --- real processes ------------------------------------------------------------------

CLAIMER = textwrap.dedent(
    """
    import json, sys, time
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_jobs import KIND, T0
    from commsite.database import connect, transaction
    from commsite.jobs import Done, claim, live_token, settle

    conn = connect(Path(sys.argv[1]))
    mode = sys.argv[2]
    got = []
    with live_token() as token:
        while True:
            with transaction(conn):
                rows = claim(conn, KIND, now=T0, limit=3, token=token,
                             lease=timedelta(minutes=5), returning="id")
            if not rows:
                break
            ids = [int(r[0]) for r in rows]
            if mode == "hang":  # claimed, then killed before settling
                print(json.dumps(ids), flush=True)
                time.sleep(60)
            with transaction(conn):
                for job in ids:
                    settle(conn, KIND, job, token, Done("done", token), now=T0)
            got += ids
    print(json.dumps(got), flush=True)
    """
)


def claimer(tmp_path: Path, database: Path, mode: str) -> subprocess.Popen[str]:
    script = tmp_path / "claimer.py"
    script.write_text(CLAIMER.format(tests=str(Path(__file__).parent)), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(script), str(database), mode], stdout=subprocess.PIPE, text=True
    )


def test_processes_claiming_at_once_take_every_job_exactly_once(
    db: sqlite3.Connection, tmp_path: Path
) -> None:
    add(db, 300)
    database = tmp_path / "jobs.sqlite3"
    workers = [claimer(tmp_path, database, "work") for _ in range(4)]
    taken: list[int] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        taken += json.loads(out)
    assert sorted(taken) == list(range(1, 301))  # every job, none twice
    states = db.execute("SELECT state, attempts, COUNT(*) FROM jobs GROUP BY 1, 2").fetchall()
    assert [tuple(r) for r in states] == [("done", 1, 300)]


def test_a_worker_killed_mid_job_leaves_it_to_the_next_claim(
    db: sqlite3.Connection, tmp_path: Path
) -> None:
    add(db, 2)
    database = tmp_path / "jobs.sqlite3"
    hung = claimer(tmp_path, database, "hang")
    assert hung.stdout is not None
    assert json.loads(hung.stdout.readline()) == [1, 2]  # claimed, not settled
    with live_token() as token:
        assert take(db, token) == []  # its lease holds while it lives
        os.kill(hung.pid, signal.SIGKILL)
        hung.communicate(timeout=10)  # reaped: the pid is gone
        assert take(db, token) == []  # still leased until it expires ...
        with transaction(db):
            assert reap(db, KIND, T0) == 2  # ... unless a claimer here sees its holder is gone
        assert take(db, token) == [1, 2]
        assert [row(db, n)[1] for n in (1, 2)] == [2, 2]  # two attempts each: one was lost
