"""The delivery queue on its own: enqueue, classify, backoff, and a run with a fake POST."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from commsite.database import connect, transaction
from commsite.federation.delivery import (
    DeliveryOutcome,
    DeliveryQueue,
    run_deliveries,
)
from commsite.federation.followers import Follower, FollowerStore
from commsite.federation.retries import DELIVERY_RETRIES, classify

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def activity(n: int, obj: str | None = None, kind: str = "Create") -> dict[str, object]:
    target = obj or f"https://site.example/ap/stories/s{n}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://site.example/ap/activities/{n}",
        "type": kind,
        "actor": "https://site.example/ap/actor",
        "object": {"id": target, "type": "Note", "content": f"story {n} — ünïcode"},
    }


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(connect(tmp_path / "db.sqlite3")) as conn:
        yield conn


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeInboxes:
    """`post` answering from a script per inbox: a list of statuses, last one repeats."""

    def __init__(self, script: Mapping[str, list[int | Exception]], delay: float = 0.0) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.delay = delay
        self.received: list[tuple[str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.concurrent: dict[str, int] = {}
        self.max_concurrent: dict[str, int] = {}

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> requests.Response:
        host = url.split("/")[2]
        with self.lock:
            self.concurrent[host] = self.concurrent.get(host, 0) + 1
            self.max_concurrent[host] = max(self.max_concurrent.get(host, 0), self.concurrent[host])
            steps = self.script[url]
            step = steps.pop(0) if len(steps) > 1 else steps[0]
        try:
            time.sleep(self.delay)
            if isinstance(step, Exception):
                raise step
            with self.lock:
                self.received.append((url, body, dict(headers)))
            response = requests.Response()
            response.status_code = step
            response._content = b'{"error": "nope"}' if step >= 400 else b""
            response._content_consumed = True
            if step == 429:
                response.headers["Retry-After"] = "120"
            return response
        finally:
            with self.lock:
                self.concurrent[host] -= 1


def sign(inbox: str, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/activity+json", "X-Signed-For": inbox}


def test_enqueue_is_idempotent_and_stores_the_body_once(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    inboxes = ["https://a.example/inbox", "https://b.example/inbox"]
    assert q.enqueue(activity(1), inboxes, now=T0) == 2
    assert q.enqueue(activity(1), [*inboxes, "https://c.example/inbox"], now=T0) == 1
    assert q.enqueue(activity(1), inboxes, now=T0) == 0
    assert q.enqueue(activity(2), [], now=T0) == 0
    assert q.pending() == 3
    assert conn.execute("SELECT COUNT(*) FROM delivery_activities").fetchone()[0] == 1


def test_enqueue_needs_an_id_and_an_aware_time(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    with pytest.raises(ValueError, match="string 'id'"):
        q.enqueue({"type": "Create"}, ["https://a.example/inbox"], now=T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        q.enqueue(activity(1), ["https://a.example/inbox"], now=datetime(2026, 1, 1))


def test_enqueue_joins_the_callers_transaction(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    with pytest.raises(RuntimeError), transaction(conn):
        q.enqueue(activity(1), ["https://a.example/inbox"], now=T0)
        raise RuntimeError("the caller's other write failed")
    assert q.pending() == 0


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (None, "retry"), (200, "delivered"), (202, "delivered"), (204, "delivered"),
        (400, "failed"), (401, "retry"), (403, "failed"), (404, "failed"), (408, "retry"),
        (410, "gone"), (422, "failed"), (429, "retry"), (500, "retry"), (502, "retry"),
        (503, "retry"),
    ],
)  # fmt: skip
def test_classify(status: int | None, state: str) -> None:
    assert classify(status) == state


def retry_delay(
    attempts: int, retry_after: str | None, now: datetime, rng: random.Random
) -> timedelta:
    return DELIVERY_RETRIES.delay(attempts, rng, retry_after=retry_after, now=now)


def test_retry_delay_backs_off_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    first = retry_delay(1, None, T0, rng)
    assert timedelta(seconds=45) <= first <= timedelta(seconds=75)
    fifth = retry_delay(5, None, T0, rng)
    assert timedelta(minutes=12) <= fifth <= timedelta(minutes=20)
    assert retry_delay(40, None, T0, rng) <= DELIVERY_RETRIES.cap * 1.25
    assert DELIVERY_RETRIES.cap == timedelta(hours=12)


def test_retry_delay_honours_retry_after_in_seconds_and_as_a_date() -> None:
    rng = random.Random(1)
    assert retry_delay(1, "120", T0, rng) == timedelta(seconds=120)
    assert retry_delay(1, "Fri, 20 Nov 2026 09:30:00 GMT", T0, rng) == timedelta(minutes=30)
    assert retry_delay(1, "Fri, 20 Nov 2026 08:00:00 GMT", T0, rng) == timedelta(seconds=1)
    assert retry_delay(1, "999999999", T0, rng) == timedelta(days=1)
    assert timedelta(seconds=45) <= retry_delay(1, "soon", T0, rng) <= timedelta(seconds=75)


def test_run_delivers_retries_and_drops_gone_followers(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    followers = FollowerStore(conn)
    ok, flaky, gone, bad = (
        "https://ok.example/inbox",
        "https://flaky.example/inbox",
        "https://gone.example/u/g/inbox",
        "https://bad.example/inbox",
    )
    for actor, inbox in [("o", ok), ("f", flaky), ("g", gone), ("b", bad)]:
        followers.add(Follower(f"https://{actor}.example/u", inbox, None, None, T0))
    q.enqueue(activity(1), followers.delivery_inboxes(), now=T0)
    q.enqueue(activity(2), followers.delivery_inboxes(), now=T0)
    peers = FakeInboxes(
        {ok: [202], flaky: [requests.ConnectionError("refused"), 500, 202], gone: [410],
         bad: [403]}
    )  # fmt: skip
    clock = Clock(T0)
    seen: list[DeliveryOutcome] = []
    outcomes = run_deliveries(
        q, followers, sign=sign, post=peers, clock=clock, progress=seen.append,
        rng=random.Random(0), per_host=1,
    )  # fmt: skip
    assert seen == outcomes
    states = sorted((o.inbox, o.activity_id[-1], o.status) for o in outcomes)
    assert states == [
        (bad, "1", "failed"), (bad, "2", "failed"),
        (flaky, "1", "retry"),  # no answer: the host backs off, so activity 2 waits unsent
        (gone, "1", "gone"),  # the 410 settles activity 2's row too, unsent
        (ok, "1", "delivered"), (ok, "2", "delivered"),
    ]  # fmt: skip
    assert len(peers.received) + 1 == len(outcomes)  # (the refused connection got nothing)
    gone_outcome = next(o for o in outcomes if o.status == "gone")
    assert gone_outcome.followers_removed == 1
    assert sorted(f.inbox for f in followers.all()) == [bad, flaky, ok]
    retry = next(o for o in outcomes if o.status == "retry")
    assert retry.next_attempt is not None and retry.next_attempt > T0
    assert q.pending() == 2
    # The unsent row waits for the host's backoff (its own jitter), not for no time.
    next_attempt = q.stats().next_attempt
    assert next_attempt is not None and T0 + timedelta(seconds=44) < next_attempt
    assert next_attempt <= retry.next_attempt
    # Not due yet: nothing happens.
    assert run_deliveries(q, followers, sign=sign, post=peers, clock=clock) == []
    # Later the host is tried again with one row (the one waiting longest): a 500,
    # which alone does not hold the host back; the other row then goes through.
    clock.now = T0 + timedelta(hours=1)
    again = run_deliveries(q, followers, sign=sign, post=peers, clock=clock, per_host=1)
    assert [(o.inbox, o.activity_id[-1], o.status) for o in again] == [
        (flaky, "2", "retry"),
        (flaky, "1", "delivered"),
    ]
    clock.now = T0 + timedelta(hours=2)
    run_deliveries(q, followers, sign=sign, post=peers, clock=clock, per_host=1)
    assert q.pending() == 0
    stats = q.stats()
    assert (stats.delivered, stats.failed, stats.gone) == (4, 2, 2)
    assert sorted(q.delivered_to(activity(1)["id"])) == [flaky, ok]  # type: ignore[arg-type]
    # Every attempt was signed for its own inbox, right before sending.
    assert all(h["X-Signed-For"] == url for url, _, h in peers.received)


def test_retries_give_up_after_a_week(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    followers = FollowerStore(conn)
    down = "https://down.example/inbox"
    q.enqueue(activity(1), [down], now=T0)
    peers = FakeInboxes({down: [503]})
    clock = Clock(T0)
    last: list[DeliveryOutcome] = []
    for _ in range(40):
        last = run_deliveries(q, followers, sign=sign, post=peers, clock=clock) or last
        if q.pending() == 0:
            break
        clock.now += timedelta(hours=13)
    assert q.pending() == 0
    assert last[-1].status == "failed"
    assert last[-1].detail.startswith("gave up after")
    assert clock.now - T0 <= timedelta(days=7, hours=13)


def test_retry_now_makes_backed_off_rows_due(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    followers = FollowerStore(conn)
    inbox = "https://slowpoke.example/inbox"
    q.enqueue(activity(1), [inbox], now=T0)
    peers = FakeInboxes({inbox: [429, 202]})
    [first] = run_deliveries(q, followers, sign=sign, post=peers, clock=Clock(T0))
    assert first.status == "retry" and first.next_attempt == T0 + timedelta(seconds=120)
    assert q.stats().next_attempt == T0 + timedelta(seconds=120)
    assert q.retry_now(T0) == 1
    [second] = run_deliveries(q, followers, sign=sign, post=peers, clock=Clock(T0))
    assert second.status == "delivered"


def test_concurrency_is_limited_per_host(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    followers = FollowerStore(conn)
    inboxes = [f"https://big.example/u/{i}/inbox" for i in range(6)]
    inboxes += [f"https://other{i}.example/inbox" for i in range(4)]
    q.enqueue(activity(1), inboxes, now=T0)
    peers = FakeInboxes({i: [202] for i in inboxes}, delay=0.2)
    started = time.monotonic()
    outcomes = run_deliveries(
        q, followers, sign=sign, post=peers, clock=Clock(T0), per_host=2, workers=8
    )
    assert len(outcomes) == 10 and all(o.status == "delivered" for o in outcomes)
    assert peers.max_concurrent["big.example"] == 2
    assert time.monotonic() - started < 1.5  # 3 rounds on big.example, others alongside


def test_an_update_waits_for_the_create_of_the_same_object(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    followers = FollowerStore(conn)
    inbox = "https://m.example/inbox"
    story = "https://site.example/ap/stories/s1"
    q.enqueue(activity(1, story, "Create"), [inbox], now=T0)
    q.enqueue(activity(2, story, "Update"), [inbox], now=T0)
    q.enqueue(activity(3), [inbox], now=T0)  # another object: not held back
    peers = FakeInboxes({inbox: [401, 202]})  # (a 500 would hold the whole host back)
    outcomes = run_deliveries(q, followers, sign=sign, post=peers, clock=Clock(T0), per_host=1)
    assert [(o.activity_id[-1], o.status) for o in outcomes] == [("1", "retry"), ("3", "delivered")]
    outcomes = run_deliveries(
        q, followers, sign=sign, post=peers, clock=Clock(T0 + timedelta(hours=1))
    )
    assert [(o.activity_id[-1], o.status) for o in outcomes] == [
        ("1", "delivered"),
        ("2", "delivered"),
    ]


def test_one_pass_only_takes_rows_due_at_the_start(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    followers = FollowerStore(conn)
    inbox = "https://m.example/inbox"
    q.enqueue(activity(1), [inbox], now=T0)
    peers = FakeInboxes({inbox: [500, 202]})

    class Jumping(Clock):
        def __call__(self) -> datetime:
            self.now += timedelta(hours=1)
            return self.now

    clock = Jumping(T0)
    one = run_deliveries(q, followers, sign=sign, post=peers, clock=clock, until_idle=False)
    assert [o.status for o in one] == ["retry"]
    idle = run_deliveries(q, followers, sign=sign, post=peers, clock=clock)
    assert [o.status for o in idle] == ["delivered"]


def test_a_signing_error_stops_the_run_and_releases_the_lease(conn: sqlite3.Connection) -> None:
    q = DeliveryQueue(conn)
    followers = FollowerStore(conn)
    inbox = "https://m.example/inbox"
    q.enqueue(activity(1), [inbox], now=T0)

    def broken(url: str, body: bytes) -> dict[str, str]:
        raise RuntimeError("no key")

    with pytest.raises(RuntimeError, match="no key"):
        run_deliveries(q, followers, sign=broken, post=FakeInboxes({inbox: [202]}), clock=Clock(T0))
    assert conn.execute("SELECT lease_token FROM delivery_rows").fetchone()[0] is None
    [ok] = run_deliveries(
        q, followers, sign=sign, post=FakeInboxes({inbox: [202]}), clock=Clock(T0)
    )
    assert ok.status == "delivered"


def test_the_follower_store_must_share_the_queues_connection(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    with closing(connect(tmp_path / "db.sqlite3")) as elsewhere:
        other = FollowerStore(elsewhere)
        with pytest.raises(ValueError, match="share one connection"):
            run_deliveries(
                DeliveryQueue(conn), other, sign=sign, post=FakeInboxes({}), clock=Clock(T0)
            )


def test_a_run_that_lost_its_lease_does_not_record_over_the_new_holder(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    q = DeliveryQueue(conn)
    followers = FollowerStore(conn)
    inbox = "https://m.example/inbox"
    q.enqueue(activity(1), [inbox], now=T0)
    peers = FakeInboxes({inbox: [202]})
    elsewhere = connect(tmp_path / "db.sqlite3")

    def post_while_taken_over(
        url: str, body: bytes, headers: Mapping[str, str]
    ) -> requests.Response:
        # As if this request hung past LEASE_TTL and another run took the row.
        elsewhere.execute("UPDATE delivery_rows SET lease_token = 'other-machine:1:the-new-holder'")
        return peers(url, body, headers)

    run_deliveries(q, followers, sign=sign, post=post_while_taken_over, clock=Clock(T0))
    elsewhere.close()
    row = conn.execute("SELECT state, lease_token FROM delivery_rows").fetchone()
    assert tuple(row) == ("pending", "other-machine:1:the-new-holder")
