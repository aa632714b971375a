"""What one attempt at a job came to, as data: done, retry at a time, or dead.

A job's code returns one of these; `commsite.jobs.queue.settle` records it.
The state names are the job table's own ("done", "ignored", "delivered",
"gone" ... for `Done`; "dead" or "failed" for `Dead`), so each kind keeps the
vocabulary its readers (moderation, `commsite publish`) already use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Dead", "Done", "Outcome", "Retry"]


@dataclass(frozen=True, slots=True)
class Done:
    """The job is finished (whatever it found): it is never attempted again."""

    state: str = "done"
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again at `at`. `attempt_used=False` hands the attempt back (a wait
    for something to arrive, rather than a failure)."""

    at: datetime
    reason: str
    attempt_used: bool = True


@dataclass(frozen=True, slots=True)
class Dead:
    """The job failed for good (retrying cannot help, or retries ran out)."""

    reason: str
    state: str = "dead"


Outcome = Done | Retry | Dead
