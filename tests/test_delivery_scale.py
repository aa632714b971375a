"""Deliveries at scale: fair claims, per-host limits shared by every claimer, and
servers that are dead or failing held back without slowing the others."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from commsite.database import connect
from commsite.federation.delivery import DeliveryOutcome, DeliveryQueue, run_deliveries
from commsite.federation.delivery_queue import HOST_TRIP, stamp
from commsite.federation.fetch import Fetcher
from commsite.federation.followers import FollowerStore
from commsite.jobs.leases import live_token
from test_delivery_queue import Clock, FakeInboxes, activity, sign

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite3"


@pytest.fixture
def conn(database: Path) -> Iterator[sqlite3.Connection]:
    with closing(connect(database)) as conn:
        yield conn


def test_a_claim_takes_the_first_row_of_every_host_before_a_second(
    conn: sqlite3.Connection,
) -> None:
    q = DeliveryQueue(conn)
    hosts = [f"h{n}.example" for n in range(5)]
    for n in range(3):
        q.enqueue(activity(n), [f"https://{h}/inbox" for h in hosts], now=T0)
    with live_token() as token:
        first = q.claim(token, now=T0, limit=5, per_host=2)
        assert sorted(c.host for c in first) == hosts
        second = q.claim(token, now=T0, limit=10, per_host=2)
        assert sorted(c.host for c in second) == hosts  # one more each: the limit is 2
        assert q.claim(token, now=T0, limit=10, per_host=2) == []
        # Another claimer (another process) meets the same limit.
        with live_token() as other:
            assert q.claim(other, now=T0, limit=10, per_host=2) == []
            assert len(q.claim(other, now=T0, limit=10, per_host=3)) == 5


def test_two_claimers_together_keep_to_the_per_host_limit(database: Path) -> None:
    big = [f"https://big.example/u/{n}/inbox" for n in range(8)]
    small = [f"https://s{n}.example/inbox" for n in range(8)]
    with closing(connect(database)) as setup:
        DeliveryQueue(setup).enqueue(activity(1), big + small, now=T0)
    peers = FakeInboxes({inbox: [202] for inbox in big + small}, delay=0.15)
    outcomes: list[DeliveryOutcome] = []

    def claimer() -> None:
        with closing(connect(database)) as mine:
            outcomes.extend(
                run_deliveries(
                    DeliveryQueue(mine), FollowerStore(mine), sign=sign, post=peers,
                    clock=Clock(T0), per_host=2, workers=4,
                )
            )  # fmt: skip

    threads = [threading.Thread(target=claimer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.inbox for o in outcomes) == sorted(big + small)  # each once
    assert all(o.status == "delivered" for o in outcomes)
    assert peers.max_concurrent["big.example"] == 2


def test_a_host_with_failures_on_record_gets_one_request_at_a_time(
    conn: sqlite3.Connection,
) -> None:
    q, followers = DeliveryQueue(conn), FollowerStore(conn)
    inboxes = [f"https://sick.example/u/{n}/inbox" for n in range(6)]
    q.enqueue(activity(1), inboxes, now=T0)
    conn.execute(
        "INSERT INTO delivery_hosts (host, failures, retry_at, detail) VALUES (?, 1, ?, ?)",
        ("sick.example", stamp(T0 - timedelta(minutes=1)), "HTTP 502"),
    )
    peers = FakeInboxes({inbox: [503] for inbox in inboxes}, delay=0.05)
    outcomes = run_deliveries(
        q, followers, sign=sign, post=peers, clock=Clock(T0), per_host=2, workers=8
    )
    assert peers.max_concurrent["sick.example"] == 1
    # One failure on record, HOST_TRIP in a row hold the host back: the rest wait unsent.
    assert [o.status for o in outcomes] == ["retry"] * (HOST_TRIP - 1)
    assert q.pending() == 6
    [(host, detail)] = q.stats().hosts_backing_off
    assert (host, detail) == ("sick.example", 'HTTP 503: {"error": "nope"}')


class Servers:
    """One loopback HTTP server answering for every host by its Host header: 202,
    except `dead.test`, which reads the request and never answers."""

    def __init__(self) -> None:
        self.received: list[tuple[str, float]] = []
        self.release = threading.Event()
        servers = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                host = self.headers["Host"].split(":")[0]
                servers.received.append((host, time.monotonic()))
                if host == "dead.test":
                    servers.release.wait(30)
                    return
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_dead_server_costs_one_timeout_and_never_the_others_turn(
    conn: sqlite3.Connection,
) -> None:
    servers = Servers()
    try:
        base = "http://{}:" + str(servers.port)
        dead = [base.format("dead.test") + f"/users/u{n}/inbox" for n in range(12)]
        fast = [base.format(f"s{n}.test") + f"/users/u{m}/inbox" for n in range(30) for m in (1, 2)]
        q, followers = DeliveryQueue(conn), FollowerStore(conn)
        q.enqueue(activity(1), dead + fast, now=T0)
        fetcher = Fetcher(allow_private=True, timeout=5.0, resolver=lambda h, p: ["127.0.0.1"])
        settled: list[tuple[DeliveryOutcome, float]] = []
        outcomes = run_deliveries(
            q, followers, sign=sign, post=fetcher.post, clock=Clock(T0), per_host=2,
            workers=8, progress=lambda o: settled.append((o, time.monotonic())),
        )  # fmt: skip
    finally:
        servers.stop()
    by_host: dict[str, list[str]] = {}
    for outcome in outcomes:
        by_host.setdefault(outcome.inbox.split("/")[2].split(":")[0], []).append(outcome.status)
    assert by_host.pop("dead.test") == ["retry", "retry"]  # per_host at once, then held back
    assert all(statuses == ["delivered"] * 2 for statuses in by_host.values())
    assert len(by_host) == 30
    assert [h for h, _ in servers.received].count("dead.test") == 2
    assert q.pending() == 12  # the 10 never sent wait for the host's backoff
    # Every fast delivery was settled before the dead server's timeouts were.
    fast_done = max(t for o, t in settled if o.status == "delivered")
    dead_done = min(t for o, t in settled if o.status == "retry")
    assert fast_done < dead_done
    [(host, detail)] = q.stats().hosts_backing_off
    assert host == f"dead.test:{servers.port}" and detail
