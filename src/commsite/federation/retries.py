"""What an inbox's answer means for a delivery, and when to try again.

2xx is delivered; 410 Gone means the inbox (and the followers behind it) is
gone; any other 4xx but 401, 408 and 429 will not get better by retrying. No
answer at all, 401, 408, 429 and 5xx are retried with exponential backoff and
jitter, honouring Retry-After, for about a week (as Mastodon does).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "GIVE_UP_AFTER",
    "MAX_ATTEMPTS",
    "RETRY_AFTER_CAP",
    "classify",
    "retry_delay",
]

BACKOFF_BASE = timedelta(minutes=1)  # delay after the first failed attempt
BACKOFF_CAP = timedelta(hours=12)  # longest wait between two attempts
GIVE_UP_AFTER = timedelta(days=7)  # still failing this long after it was queued: failed
MAX_ATTEMPTS = 30  # a second limit, for clocks that jump (tests)
RETRY_AFTER_CAP = timedelta(days=1)  # longest Retry-After we honour


def classify(http_status: int | None) -> str:
    """The state an answer leads to: "delivered", "gone", "failed" or "retry".

    None (no answer: connection refused, timeout, TLS error) is retried, as are
    401 (often a key the receiver has not fetched yet), 408, 429 and 5xx.
    """
    if http_status is None:
        return "retry"
    if 200 <= http_status < 300:
        return "delivered"
    if http_status == 410:
        return "gone"
    if 400 <= http_status < 500 and http_status not in (401, 408, 429):
        return "failed"
    return "retry"


def retry_delay(
    attempts: int, retry_after: str | None, now: datetime, rng: random.Random
) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt.

    Retry-After (seconds or an HTTP date) wins when present, kept between 1 s
    and a day; otherwise 1 min × 2^(attempts-1), capped at 12 h, with ±25 %
    jitter so retries to one recovering server spread out.
    """
    honoured = _retry_after(retry_after, now)
    if honoured is not None:
        return min(max(honoured, timedelta(seconds=1)), RETRY_AFTER_CAP)
    exponent = min(max(attempts - 1, 0), 30)
    delay: timedelta = min(BACKOFF_BASE * (2**exponent), BACKOFF_CAP)
    return delay * rng.uniform(0.75, 1.25)


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when - now
