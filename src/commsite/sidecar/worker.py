"""The background half of the sidecar: process stored activities, deliver, notify.

Admission stores and answers; this thread does the rest. Activity states:

    queued -> processing -> done | ignored | refused
                         -> retry (a fetch failed, the database was busy: backoff
                                   30 s, 1 min, 2 min ... 6 h)
                         -> retry (it names something of ours not known yet:
                                   1 s, 2 s, 4 s ... 1 min, for at most `patience`
                                   after it arrived, using up no attempt; then
                                   processed as final)
                         -> failed (MAX_ATTEMPTS used up, or the network said no
                                    for good: 404/410, a private address, too large)
                         -> dead (a dead letter: processing raised anything else)

Errors are sorted by what a retry could change. Transient ones (the network,
a locked or busy database, the OS) are retried. Anything else (a ValueError,
a UnicodeError, a KeyError from a document we did not expect) is
deterministic: the same input fails the same way, and retrying it for hours
only hides it. It is dead-lettered on its first occurrence, with its reason
in `outcome`, logged with its traceback, counted by /healthz and listed by
`commsite moderate dead-letters`, where organisers retry it (after an
upgrade) or discard it. It never holds up the rows behind it.

`inbox_activities` is a job table of the "inbox" kind (commsite.jobs; the
kind and its retry policy are in inbox_jobs.py): a row is claimed with a
lease (a token naming this worker, and `lease_until`); a process killed
mid-way leaves the lease to expire (or, on the same machine, to be reaped
at once: jobs/leases.py) and the next claim (this process or another
gunicorn worker) takes the row again.
Processing is idempotent, so that repeat is harmless. What an attempt came
to is data (`attempt` returns a `Done`, `Retry` or `Dead`), recorded by
`commsite.jobs.queue.settle`.

After processing, queued deliveries (the Accept of a Follow) are sent with
commsite.federation.delivery.run_deliveries, signed with the community's key;
when the public site changed, the rebuild webhook is called (in its own
thread, with retries).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite.content.network_text import clean_text
from commsite.database import OPERATIONAL_ERRORS, Row
from commsite.federation.delivery import run_deliveries, signer
from commsite.federation.fetch import BlockedAddress, Fetcher, FetchError, Gone, TooLarge
from commsite.jobs import queue
from commsite.jobs.leases import live_token
from commsite.jobs.outcome import Dead, Done, Retry
from commsite.jobs.outcome import Outcome as JobOutcome
from commsite.sidecar.inbox_jobs import INBOX, INBOX_RETRIES, MAX_ATTEMPTS
from commsite.sidecar.processing import Outcome, Processor
from commsite.sidecar.rebuild import RebuildHook
from commsite.sidecar.store import Store, iso
from commsite.sidecar.targets import NotYetKnown

__all__ = [
    "INBOX",
    "INBOX_RETRIES",
    "MAX_ATTEMPTS",
    "PATIENCE",
    "TRANSIENT",
    "RebuildNotifier",
    "Worker",
]

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH = 50
# How long an activity about something of ours not known yet is retried before
# it is processed as final (filed as a message, or ignored).
PATIENCE = timedelta(minutes=15)
# Errors a retry can heal; anything else raised by processing is a dead letter.
TRANSIENT: tuple[type[BaseException], ...] = (FetchError, *OPERATIONAL_ERRORS, OSError)
REASON_LIMIT = 500


def wait_backoff(waited: timedelta) -> timedelta:
    """Delay before looking again for something not known yet, `waited` after the
    activity arrived: as long again (so 1 s, 2 s, 4 s ...), at most 1 min."""
    return min(max(waited, timedelta(seconds=1)), timedelta(minutes=1))


def _reason(exc: BaseException) -> str:
    text = clean_text(f"{type(exc).__name__}: {exc}")
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"


class RebuildNotifier:
    """POST to the rebuild webhook after public changes: debounced, retried, logged."""

    def __init__(
        self,
        url: str | RebuildHook | None,
        *,
        delays: tuple[float, ...] = (1, 5, 30, 120, 600),
        debounce: float = 2.0,
        post: Callable[..., requests.Response] = requests.post,
    ) -> None:
        # A plain address, or a hook with its token and kind (GitHub, GitLab: rebuild.py).
        self.hook = RebuildHook.at(url) if isinstance(url, str) else url
        self.url = self.hook.url if self.hook is not None else None
        self.delays = delays
        self.debounce = debounce
        self._post = post
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._reasons: list[str] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def notify(self, reason: str) -> None:
        if not self.url:
            return
        with self._lock:
            self._reasons.append(reason)
        self._wanted.set()

    def start(self) -> None:
        if self.url and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rebuild-webhook", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def send_now(self, reasons: list[str]) -> bool:
        """One notification with retries (the delays between them); True when it got a 2xx."""
        assert self.hook is not None
        headers, payload = self.hook.request(reasons)
        for attempt, delay in enumerate((0.0, *self.delays)):
            if delay and self._stop.wait(delay):
                return False
            try:
                response = self._post(
                    self.hook.url, json=payload, headers=headers, timeout=10, allow_redirects=False
                )
            except requests.RequestException as exc:
                log.warning("rebuild webhook attempt %d failed: %s", attempt + 1, exc)
                continue
            if 200 <= response.status_code < 300:
                log.info("rebuild webhook answered %d", response.status_code)
                return True
            log.warning("rebuild webhook attempt %d: HTTP %d", attempt + 1, response.status_code)
        log.error("rebuild webhook gave up after %d attempts", len(self.delays) + 1)
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            if self._stop.wait(self.debounce):
                return
            with self._lock:
                reasons, self._reasons = self._reasons, []
                self._wanted.clear()
            if reasons:
                self.send_now(reasons)


class Worker:
    def __init__(
        self,
        *,
        store: Store,
        processor: Processor,
        fetcher: Fetcher,
        signing_key: tuple[str, RSAPrivateKey],
        clock: Callable[[], datetime],
        notifier: RebuildNotifier,
        poll: float = 5.0,
        patience: timedelta = PATIENCE,
        polls: Callable[[], bool] | None = None,
        lease: timedelta = LEASE,
        rng: random.Random | None = None,
        tick: float | None = None,
    ) -> None:
        self.store = store
        self.processor = processor
        self.fetcher = fetcher
        self.signing_key = signing_key
        self.clock = clock
        self.notifier = notifier
        self.poll = poll  # seconds between passes when idle (retries that came due)
        # Seconds between looks for work other processes queued (an activity a
        # gunicorn process or another host stored, deliveries `commsite publish`
        # queued): two index look-ups, so an idle worker takes them at once rather
        # than at its next pass. None: it waits for wake() or the poll.
        self.tick = tick
        self._last_row = 0  # the newest delivery row when the last pass started
        self.patience = patience
        # Sends the Updates of RSVP polls whose counts changed (rsvp_intake.py).
        self.polls = polls
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lease = lease  # how long a claim holds its activities
        self._rng = rng if rng is not None else random.Random()  # the retries' jitter
        # This worker's lease token, live until stop(): its leases are reaped only
        # once this process is gone (or after they expire).
        self._leases = ExitStack()
        self._token = self._leases.enter_context(live_token())

    # --- lifecycle -----------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self.notifier.start()
        self._thread = threading.Thread(target=self._run, name="inbox-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.notifier.stop()
        self._leases.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.tick is not None:
                    self._last_row = self.store.deliveries.last_row()
                busy = self.run_once()
            except Exception:  # the loop must survive anything; the row keeps its lease
                log.exception("inbox worker pass failed")
                busy = False
            if not busy:
                self._idle()

    def _idle(self) -> None:
        """Wait for wake(), for work queued elsewhere (looked for every `tick`), or
        for `poll` seconds, whichever comes first."""
        if self.tick is None:
            self._wake.wait(self.poll)
        else:
            deadline = time.monotonic() + self.poll
            while (left := deadline - time.monotonic()) > 0:
                if self._wake.wait(min(self.tick, left)) or self.queued_elsewhere():
                    break
        self._wake.clear()

    def queued_elsewhere(self) -> bool:
        """Whether, since the last pass started, someone queued work a pass would
        take now: an activity stored and never claimed, or a delivery row."""
        try:
            if self.store.deliveries.last_row() > self._last_row:
                return True
            return queue.waiting_in(self.store.conn, INBOX, "queued", self.clock())
        except Exception:  # (the database away: the next pass says so)
            log.debug("looking for queued work failed", exc_info=True)
            return False

    # --- one pass ------------------------------------------------------------

    def run_once(self) -> bool:
        """Process what is due, then deliver what got queued; True if anything was done."""
        rows = self.claim(BATCH)
        # Slow fetches could make a batch outlive its lease (another process would
        # then take the rest): past half the lease, hand what is left back.
        hand_back = time.monotonic() + self.lease.total_seconds() / 2
        deliver = False
        for done, row in enumerate(rows):
            if time.monotonic() > hand_back:
                with self.store.transaction() as conn:
                    queue.release(conn, INBOX, self._token)
                log.info("handed back %d activities claimed too long ago", len(rows) - done)
                break
            outcome = self.process_row(
                row["id"], row["body"], row["attempts"], received_at=row["received_at"]
            )
            deliver = deliver or (outcome is not None and outcome.deliveries)
        # New counts for the polls votes changed (debounced; see rsvp_intake.py).
        deliver = (self.polls is not None and self.polls()) or deliver
        if deliver or (rows == [] and self.store.deliveries.pending()):
            self.deliver()
        return bool(rows)

    def claim(self, limit: int) -> list[Row]:
        """Lease up to `limit` due activities to this worker (oldest first)."""
        now = self.clock()
        with self.store.transaction() as conn:
            queue.reap(conn, INBOX, now)
            rows = queue.claim(
                conn,
                INBOX,
                now=now,
                limit=limit,
                token=self._token,
                lease=self.lease,
                returning="id, body, attempts, received_at",
                dialect=conn.dialect,
            )
        return sorted(rows, key=lambda r: (r["received_at"], r["id"]))

    def process_row(
        self,
        activity_id: str,
        body: str | None,
        attempts: int,
        *,
        received_at: str | None = None,
    ) -> Outcome | None:
        """Process one claimed activity and settle it; what processing came to."""
        now = self.clock()
        result, job = self.attempt(activity_id, body, attempts, received_at, now)
        with self.store.transaction() as conn:
            queue.settle(conn, INBOX, activity_id, self._token, job, now=now)
        if isinstance(job, Retry):
            log.info("activity %s will be retried at %s: %s", activity_id, iso(job.at), job.reason)
        elif isinstance(job, Dead) and job.state == "failed":
            log.warning("activity %s failed: %s", activity_id, job.reason)
        if result is not None:
            log.info("activity %s: %s (%s)", activity_id, result.state, result.detail)
            if result.public_change:
                self.notifier.notify(f"{activity_id}: {result.detail}")
        return result

    def attempt(
        self,
        activity_id: str,
        body: str | None,
        attempts: int,
        received_at: str | None,
        now: datetime,
    ) -> tuple[Outcome | None, JobOutcome]:
        """Process the activity; what processing said, and the job's outcome."""
        if body is None:
            return None, Done("purged", "the body was purged")
        arrived = _parse_time(received_at, now)
        final = now - arrived >= self.patience
        try:
            outcome = self.processor.process(json.loads(body), final=final)
        except NotYetKnown as exc:
            # Bounded by the time it arrived, not by the policy's attempts (waiting
            # uses up no attempt): the last look is at `patience`, and that one is final.
            when = min(now + wait_backoff(now - arrived), arrived + self.patience)
            return None, Retry(when, str(exc), attempt_used=False)
        except (Gone, BlockedAddress, TooLarge) as exc:
            return None, Dead(_reason(exc), "failed")
        except TRANSIENT as exc:
            return None, INBOX_RETRIES.after_failure(
                attempts, _reason(exc), now, queued_at=arrived, rng=self._rng
            )
        except Exception as exc:
            log.exception("processing %s raised; dead-lettered", activity_id)
            return None, Dead(_reason(exc), "dead")
        return outcome, Done(outcome.state, outcome.detail)

    def deliver(self) -> None:
        for outcome in run_deliveries(
            self.store.deliveries,
            self.store.followers,
            sign=signer(*self.signing_key, self.clock),
            post=self.fetcher.post,
            clock=self.clock,
            until_idle=False,
        ):
            log.info(
                "delivery of %s to %s: %s (%s)",
                outcome.activity_id,
                outcome.inbox,
                outcome.status,
                outcome.detail,
            )


def _parse_time(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return default
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
