"""Sending the delivery queue: activities POSTed to inboxes, with retries.

The queue itself (its tables, fair claims, host backoff) is
delivery_queue.py, a job table of the "delivery" kind (commsite.jobs); this
module works through it: claim due rows with a lease, sign and POST each on a
thread, settle each answer as an outcome (delivered, gone, failed, or retry at
a time by `retries.DELIVERY_RETRIES`: exponential backoff with jitter,
honouring Retry-After, for about a week).

Crash safety. Every answer is committed as soon as it arrives, before more
requests start. A claimed row carries a lease (a token naming this process,
and an expiry); a later run takes the row over when the lease expired, or at
once when the process that holds it is gone (commsite.jobs.leases). So a
process killed mid-run repeats at most the requests that were in flight when
it died (the receiver dedupes by activity id); a delivered row is never sent
again.

Scale. Any number of processes (`commsite publish`, the sidecar's worker) may
work through one queue: claims never take a row twice and never let one host
have more than `per_host` rows leased at once, whoever holds them. A slow host
therefore holds at most `per_host` of the `workers` threads; a host that does
not answer (or answers 429 or 5xx) is held back as a whole until its backoff
ends, so a dead server costs one request per backoff, not one per row.

Threads only send; the calling thread does every database operation, so one
connection is enough.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite.activitypub.media_types import ACTIVITY_JSON
from commsite.activitypub.signatures import sign_cavage
from commsite.database import transaction
from commsite.federation.delivery_queue import (
    Answer,
    Claimed,
    DeliveryQueue,
    QueueStats,
)
from commsite.federation.fetch import BlockedAddress, FetchError
from commsite.federation.followers import FollowerStore
from commsite.jobs.leases import live_token
from commsite.jobs.outcome import Dead, Done, Retry

__all__ = [
    "DeliveryOutcome",
    "DeliveryQueue",
    "QueueStats",
    "run_deliveries",
    "signer",
]

DETAIL_LIMIT = 300  # characters of a response body kept for the operator


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
    `per_host` requests run at once to one host (counting other processes'),
    `workers` in all.

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
    due_by = None if until_idle else clock()
    conn = queue.connection
    outcomes: list[DeliveryOutcome] = []
    in_flight: dict[Future[Answer], Claimed] = {}
    # Claimed and not started yet: a claim takes up to `workers` more than can
    # start, so most answers are followed by a start without a claim.
    ready: deque[Claimed] = deque()
    bodies: dict[str, tuple[bytes, str]] = {}  # activity id -> (body, type)
    more = True  # a claim may find something (false once one came back short)

    def refill(token: str) -> None:
        nonlocal more
        room = 2 * workers - len(in_flight) - len(ready)
        if not more or (room < max(1, workers // 2) and ready):
            return
        claimed = queue.claim(token, now=clock(), limit=room, per_host=per_host, due_by=due_by)
        more = len(claimed) == room
        ready.extend(claimed)

    def start(pool: ThreadPoolExecutor) -> None:
        while ready and len(in_flight) < workers:
            row = ready.popleft()
            if row.activity_id not in bodies:
                body = queue.body(row.activity_id)
                bodies[row.activity_id] = (body, _activity_type(body))
            body = bodies[row.activity_id][0]
            in_flight[pool.submit(_send, row.inbox, body, sign, post)] = row

    def settle(done: Iterable[Future[Answer]], token: str, *, claim: bool = True) -> None:
        """Record every answer that is in, in one commit (with the next claim), then report."""
        nonlocal more
        settled = []
        with transaction(conn):
            for future in done:
                row = in_flight.pop(future)
                recorded = queue.settle(row, token, future.result(), clock(), followers, rng)
                if recorded is not None:
                    settled.append(_report(row, future.result(), *recorded, bodies))
            more = True
            if claim:
                refill(token)
        outcomes.extend(settled)
        if progress is not None:
            for outcome in settled:
                progress(outcome)

    with (
        live_token() as token,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery") as pool,
    ):
        try:
            queue.reap(clock())
            refill(token)
            while True:
                start(pool)
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                settle(done, token)
        except BaseException:
            # Record what the requests already sent got back, then stop.
            ready.clear()
            finished = wait(in_flight).done
            try:
                settle([f for f in finished if f.exception() is None], token, claim=False)
            finally:
                in_flight.clear()
            raise
        finally:
            queue.release(token)
    return outcomes


def _report(
    row: Claimed,
    answer: Answer,
    outcome: Done | Retry | Dead,
    removed: int,
    bodies: Mapping[str, tuple[bytes, str]],
) -> DeliveryOutcome:
    if isinstance(outcome, Retry):
        status, detail, when = "retry", outcome.reason, outcome.at
    elif isinstance(outcome, Dead):
        status, detail, when = "failed", outcome.reason, None
    else:
        status, detail, when = outcome.state, outcome.detail, None
    return DeliveryOutcome(
        inbox=row.inbox,
        activity_id=row.activity_id,
        status=status,
        http_status=answer.http_status,
        detail=detail,
        next_attempt=when,
        followers_removed=removed,
        activity_type=bodies[row.activity_id][1],
        object_id=row.object_id,
    )


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
) -> Answer:
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
        return Answer(None, None, f"cannot send there: {exc}", permanent_error=True)
    except (FetchError, requests.RequestException) as exc:
        return Answer(None, None, str(exc) or type(exc).__name__)
    status = response.status_code
    text = " ".join(response.text.split())[:DETAIL_LIMIT] if status >= 300 else ""
    detail = f"HTTP {status}" + (f": {text}" if text else "")
    return Answer(status, response.headers.get("Retry-After"), detail)


def _activity_type(body: bytes) -> str:
    kind = json.loads(body).get("type")
    return kind if isinstance(kind, str) else ""
