"""Retry policies: how long to wait after a failed attempt, and when to give up.

Each kind of job declares one `RetryPolicy` (inbox processing in
sidecar/worker.py, deliveries in federation/retries.py). A policy is pure: the
clock, the random source and the remote's Retry-After are arguments, so the
same inputs always give the same decision.

    delay(n) = min(base * factor^(n-1), cap) * uniform(1 - jitter, 1 + jitter)

A Retry-After (seconds or an HTTP date) replaces the computed delay, kept
between 1 s and `retry_after_cap`. The job is given up (`Dead`) after
`max_attempts`, or when the next attempt would come later than
`give_up_after` since the job was queued.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from commsite.jobs.outcome import Dead, Retry

__all__ = ["RetryPolicy", "parse_retry_after"]

_ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: timedelta  # the delay after the first failed attempt
    cap: timedelta  # the longest delay between two attempts
    max_attempts: int
    factor: float = 2.0
    jitter: float = 0.0  # 0.25: each delay is 75 % to 125 % of the computed one
    give_up_after: timedelta | None = None  # since the job was queued
    retry_after_cap: timedelta = timedelta(days=1)  # the longest Retry-After honoured
    failed_state: str = "failed"  # the state a job that ran out of retries ends in

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("a retry policy needs 0 < base <= cap")
        if self.max_attempts < 1 or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError("a retry policy needs max_attempts >= 1, factor >= 1, 0 <= jitter < 1")

    def delay(
        self,
        attempts: int,
        rng: random.Random,
        *,
        retry_after: str | None = None,
        now: datetime | None = None,
    ) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt (1 for the first)."""
        if retry_after is not None and now is not None:
            honoured = parse_retry_after(retry_after, now)
            if honoured is not None:
                return min(max(honoured, _ONE_SECOND), self.retry_after_cap)
        exponent = min(max(attempts - 1, 0), 64)
        seconds = min(self.base.total_seconds() * self.factor**exponent, self.cap.total_seconds())
        if self.jitter:
            seconds *= rng.uniform(1 - self.jitter, 1 + self.jitter)
        return timedelta(seconds=seconds)

    def after_failure(
        self,
        attempts: int,
        reason: str,
        now: datetime,
        *,
        queued_at: datetime,
        rng: random.Random,
        retry_after: str | None = None,
    ) -> Retry | Dead:
        """The outcome of a failed attempt (the `attempts`-th): a retry, or given up."""
        due = now + self.delay(attempts, rng, retry_after=retry_after, now=now)
        late = self.give_up_after is not None and due > queued_at + self.give_up_after
        if attempts >= self.max_attempts or late:
            return Dead(f"gave up after {attempts} attempts; last: {reason}", self.failed_state)
        return Retry(due, reason)


def parse_retry_after(value: str, now: datetime) -> timedelta | None:
    """A Retry-After header (delay-seconds or an HTTP date) as a delay from `now`."""
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return timedelta(seconds=int(text[:12]))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when - now
