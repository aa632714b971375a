"""Delivery queue throughput: how fast run_deliveries works through a big fan-out.

    python benchmarks/delivery.py [--inboxes 2000] [--hosts 200] [--activities 3]
                                  [--latency 0.005] [--workers 8] [--per-host 2]

Queues `activities` activities to `inboxes` inboxes spread over `hosts` hosts in
a fresh SQLite file (WAL, synchronous=FULL, as in production), then delivers
them with a `post` that answers 202 after `latency` seconds (no network: this
measures the queue and its commits, not HTTP). Prints rows/s next to the ideal
(latency-bound) figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import requests

from commsite.database import connect
from commsite.federation.delivery import DeliveryQueue, run_deliveries
from commsite.federation.followers import FollowerStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inboxes", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--activities", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.005)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--per-host", type=int, default=2)
    args = parser.parse_args()

    def post(url: str, body: bytes, headers: Mapping[str, str]) -> requests.Response:
        time.sleep(args.latency)
        response = requests.Response()
        response.status_code = 202
        response._content = b""
        return response

    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "bench.sqlite3")
        queue, followers = DeliveryQueue(conn), FollowerStore(conn)
        now = datetime.now(UTC)
        inboxes = [f"https://h{i % args.hosts}.example/u/{i}/inbox" for i in range(args.inboxes)]
        started = time.perf_counter()
        for n in range(args.activities):
            activity = {
                "id": f"https://site.example/a/{n}",
                "type": "Create",
                "object": {"id": f"https://site.example/o/{n}"},
            }
            queue.enqueue(activity, inboxes, now=now)
        queued = time.perf_counter()
        outcomes = run_deliveries(
            queue,
            followers,
            sign=lambda inbox, body: {},
            post=post,
            clock=lambda: now,
            workers=args.workers,
            per_host=args.per_host,
        )
        done = time.perf_counter()
    rows = len(outcomes)
    assert rows == args.inboxes * args.activities and queue.pending() == 0
    ideal = rows * args.latency / args.workers
    print(f"enqueue: {rows} rows in {queued - started:.2f} s")
    print(
        f"deliver: {rows} rows in {done - queued:.2f} s = {rows / (done - queued):.0f} rows/s"
        f" (latency-bound ideal {ideal:.2f} s with {args.workers} workers)"
    )


if __name__ == "__main__":
    main()
