"""Inbox processing as a kind of job (commsite.jobs): its table and retry policy.

`inbox_activities` rows are jobs: admission queues them (`queued`), the worker
claims them (`processing`, with a lease) and settles each: done, ignored,
refused, purged; `retry` at a time; `failed` (retries ran out, or the network
said no for good) or `dead` (a dead letter: see dead_letters.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from commsite.jobs.policy import RetryPolicy
from commsite.jobs.queue import JobKind
from commsite.sidecar.store import iso

__all__ = ["INBOX", "INBOX_RETRIES", "MAX_ATTEMPTS"]

MAX_ATTEMPTS = 10

# Retries of what a retry can heal (TRANSIENT): 30 s doubling, at most 6 hours,
# MAX_ATTEMPTS in all, each delay 75 % to 125 % of that (as Mastodon's Sidekiq
# adds a random part to its retries): when a server that many activities need
# (their authors' profiles) is down, or the database is busy, the activities that
# failed together are spread out instead of all trying again in the same second,
# from every worker sharing the database.
INBOX_RETRIES = RetryPolicy(
    base=timedelta(seconds=30),
    cap=timedelta(hours=6),
    max_attempts=MAX_ATTEMPTS,
    jitter=0.25,
    failed_state="failed",
)


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


INBOX = JobKind(
    name="inbox",
    table="inbox_activities",
    key="id",
    open_states=("queued", "retry", "processing"),
    retry_state="retry",
    due="next_attempt_at",
    detail="outcome",
    order="received_at, id",
    policy=INBOX_RETRIES,
    stamp=iso,
    parse=_parse_iso,
    running_state="processing",
)
