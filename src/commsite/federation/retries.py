"""What an inbox's answer means for a delivery, and the deliveries' retry policy.

2xx is delivered; 410 Gone means the inbox (and the followers behind it) is
gone; any other 4xx but 401, 408 and 429 will not get better by retrying. No
answer at all, 401, 408, 429 and 5xx are retried with exponential backoff and
jitter, honouring Retry-After, for about a week (as Mastodon does): the
policy is `DELIVERY_RETRIES` (see commsite.jobs.policy).

No answer, 429 and 5xx may say the whole server is in trouble, not one inbox
(`host_trouble`): the queue then holds back that host's other deliveries too
(federation/delivery_queue.py), so a dead server costs one attempt per backoff,
not one per row, and never the other servers' turn.
"""

from __future__ import annotations

from datetime import timedelta

from commsite.jobs.policy import RetryPolicy

__all__ = ["DELIVERY_RETRIES", "classify", "host_trouble"]

DELIVERY_RETRIES = RetryPolicy(
    base=timedelta(minutes=1),  # delay after the first failed attempt
    cap=timedelta(hours=12),  # longest wait between two attempts
    factor=2.0,
    jitter=0.25,  # so retries to one recovering server spread out
    max_attempts=30,  # a second limit, for clocks that jump (tests)
    give_up_after=timedelta(days=7),  # still failing this long after it was queued: failed
    retry_after_cap=timedelta(days=1),  # longest Retry-After we honour
    failed_state="failed",
)


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


def host_trouble(http_status: int | None) -> bool:
    """Whether the answer says the server, not the one inbox, is unwell."""
    return http_status is None or http_status == 429 or http_status >= 500
