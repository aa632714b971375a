"""One durable job queue for every kind of background work.

Inbox processing (sidecar/worker.py) and deliveries (federation/delivery.py)
are the two kinds. Each declares a `JobKind` (its table and a `RetryPolicy`);
workers `claim` due jobs with a lease and `settle` each with an `Outcome`
(`Done`, `Retry`, `Dead`). See queue.py for the columns a job table has.
"""

from commsite.jobs.leases import live_token
from commsite.jobs.outcome import Dead, Done, Outcome, Retry
from commsite.jobs.policy import RetryPolicy, parse_retry_after
from commsite.jobs.queue import (
    Depth,
    Dialect,
    JobKind,
    claim,
    claimable,
    depth,
    reap,
    release,
    settle,
)

__all__ = [
    "Dead",
    "Depth",
    "Dialect",
    "Done",
    "JobKind",
    "Outcome",
    "Retry",
    "RetryPolicy",
    "claim",
    "claimable",
    "depth",
    "live_token",
    "parse_retry_after",
    "reap",
    "release",
    "settle",
]
