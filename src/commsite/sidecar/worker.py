"""The background half of the sidecar: process stored activities, deliver, notify.

Admission stores and answers; this thread does the rest. Activity states:

    queued -> processing -> done | ignored | refused
                         -> retry (a fetch failed: backoff 30 s, 1 min, 2 min ... 6 h)
                         -> failed (MAX_ATTEMPTS used up, or an error that cannot heal)

A row is claimed with a lease (`lease_until`); a process killed mid-way leaves
the lease to expire and the next run (this process or another gunicorn worker)
takes the row again. Processing is idempotent, so that repeat is harmless.

After processing, queued deliveries (the Accept of a Follow) are sent with
commsite.federation.delivery.run_deliveries, signed with the community's key;
when the public site changed, the rebuild webhook is called (in its own
thread, with retries).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite.federation.delivery import run_deliveries, signer
from commsite.federation.fetch import BlockedAddress, Fetcher, FetchError, Gone, TooLarge
from commsite.sidecar.processing import Outcome, Processor
from commsite.sidecar.store import Store, iso

__all__ = ["MAX_ATTEMPTS", "RebuildNotifier", "Worker", "backoff"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
LEASE = timedelta(minutes=5)
BATCH = 50


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: 30 s doubling, at most 6 hours."""
    return min(timedelta(seconds=30 * 2 ** max(0, attempts - 1)), timedelta(hours=6))


class RebuildNotifier:
    """POST to the rebuild webhook after public changes: debounced, retried, logged."""

    def __init__(
        self,
        url: str | None,
        *,
        delays: tuple[float, ...] = (1, 5, 30, 120, 600),
        debounce: float = 2.0,
        post: Callable[..., requests.Response] = requests.post,
    ) -> None:
        self.url = url
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
        assert self.url
        payload = {"event": "interactions-changed", "reasons": reasons[:50]}
        for attempt, delay in enumerate((0.0, *self.delays)):
            if delay and self._stop.wait(delay):
                return False
            try:
                response = self._post(self.url, json=payload, timeout=10)
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
    ) -> None:
        self.store = store
        self.processor = processor
        self.fetcher = fetcher
        self.signing_key = signing_key
        self.clock = clock
        self.notifier = notifier
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the loop must survive anything; the row keeps its lease
                log.exception("inbox worker pass failed")
                busy = False
            if not busy:
                self._wake.wait(self.poll)
                self._wake.clear()

    # --- one pass ------------------------------------------------------------

    def run_once(self) -> bool:
        """Process what is due, then deliver what got queued; True if anything was done."""
        rows = self.claim(BATCH)
        deliver = False
        for row in rows:
            outcome = self.process_row(row["id"], row["body"], row["attempts"])
            deliver = deliver or (outcome is not None and outcome.deliveries)
        if deliver or (rows == [] and self.store.deliveries.pending()):
            self.deliver()
        return bool(rows)

    def claim(self, limit: int) -> list[sqlite3.Row]:
        now = self.clock()
        with self.store.transaction() as conn:
            rows = conn.execute(
                "UPDATE inbox_activities SET state = 'processing', attempts = attempts + 1,"
                " lease_until = ? WHERE id IN (SELECT id FROM inbox_activities"
                "  WHERE (state IN ('queued', 'retry') AND next_attempt_at <= ?)"
                "     OR (state = 'processing' AND lease_until < ?)"
                "  ORDER BY received_at, id LIMIT ?)"
                " RETURNING id, body, attempts",
                (iso(now + LEASE), iso(now), iso(now), limit),
            ).fetchall()
        return list(rows)

    def process_row(self, activity_id: str, body: str | None, attempts: int) -> Outcome | None:
        if body is None:
            self._settle(activity_id, "purged", "the body was purged")
            return None
        try:
            outcome = self.processor.process(json.loads(body))
        except (Gone, BlockedAddress, TooLarge) as exc:
            self._settle(activity_id, "failed", str(exc))
            log.info("activity %s failed: %s", activity_id, exc)
            return None
        except FetchError as exc:
            self._retry(activity_id, attempts, str(exc))
            return None
        except Exception as exc:
            log.exception("processing %s raised", activity_id)
            self._retry(activity_id, attempts, f"{type(exc).__name__}: {exc}")
            return None
        self._settle(activity_id, outcome.state, outcome.detail)
        log.info("activity %s: %s (%s)", activity_id, outcome.state, outcome.detail)
        if outcome.public_change:
            self.notifier.notify(f"{activity_id}: {outcome.detail}")
        return outcome

    def _settle(self, activity_id: str, state: str, detail: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE inbox_activities SET state = ?, outcome = ?, lease_until = NULL"
                " WHERE id = ? AND state = 'processing'",
                (state, detail, activity_id),
            )

    def _retry(self, activity_id: str, attempts: int, detail: str) -> None:
        if attempts >= MAX_ATTEMPTS:
            self._settle(activity_id, "failed", f"gave up after {attempts} attempts: {detail}")
            log.warning("activity %s failed for good: %s", activity_id, detail)
            return
        when = self.clock() + backoff(attempts)
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE inbox_activities SET state = 'retry', outcome = ?, next_attempt_at = ?,"
                " lease_until = NULL WHERE id = ? AND state = 'processing'",
                (detail, iso(when), activity_id),
            )
        log.info("activity %s will be retried at %s: %s", activity_id, iso(when), detail)

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
