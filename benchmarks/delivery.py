"""Publishing at scale: deliveries to many followers' servers, over loopback HTTP.

    python benchmarks/delivery.py [--followers 50000] [--servers 5000] [--personal 0.1]
                                  [--activities 1] [--workers 32] [--per-host 2]
                                  [--processes 1] [--slow slow|dead] [--slow-delay 5]
                                  [--timeout 10] [--runs 1] [--queue-only LATENCY]

`followers` follow us from `servers` servers (the same number on each). Most
servers have a shared inbox, so one delivery reaches all their followers; a
`personal` fraction of them has none, so each of their followers is one
delivery (dedupe by shared inbox: `FollowerStore.delivery_inboxes`). One
loopback process (asyncio, 127.0.0.1 only) answers for every server, by the
Host header (`s17.test`; the fetcher's resolver sends every name to
127.0.0.1): 202 at once, except one server with personal inboxes, which is
`slow` (answers after `slow-delay` seconds) or `dead` (never answers; the
fetcher gives up after `timeout`).

Each run queues `activities` Creates to every inbox in a fresh SQLite file
(WAL, synchronous=FULL) and works through the queue with `run_deliveries`:
real RSA-2048 signatures, the real fetcher, `workers` threads in each of
`processes` processes claiming from the one queue, at most `per-host`
requests in flight to one server across all of them. It runs once without the
slow server (all fast) and once with it, alternating for `runs` rounds, and
prints for each: the time to deliver everything, deliveries/s, and when the
fast servers' last delivery arrived (p50/p90/max from the start): per-host
fairness is that spread staying the same with the slow server.
Exit status 1 if a delivery to a fast server was lost or sent twice.
`--queue-only 0.005` measures the queue alone: nothing is signed or sent, each
POST answers 202 after that many seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from commsite.database import connect, transaction
from commsite.federation.delivery import DeliveryQueue, run_deliveries, signer
from commsite.federation.fetch import Fetcher
from commsite.federation.followers import Follower, FollowerStore

SITE = "https://site.example"


# --- the loopback servers ------------------------------------------------------------


def serve(pipe: Connection, slow_host: str | None, mode: str, delay: float) -> None:
    """One process answering for every server; reports what each received, and when."""
    received: Counter[tuple[str, str, str]] = Counter()  # (host, path, activity id)
    last: dict[str, float] = {}  # host -> time.monotonic() of its last receipt
    sent: Counter[str] = Counter()  # requests the slow server was sent, answered or not

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                host = headers.get("host", "").split(":")[0]
                if host == slow_host:
                    sent[host] += 1
                    if mode == "dead":
                        await reader.read()  # until the sender gives up
                        return
                    await asyncio.sleep(delay)
                activity = json.loads(body).get("id", "")
                received[(host, path, activity)] += 1
                last[host] = time.monotonic()
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, IndexError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=1024, limit=1 << 20)
        pipe.send(server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, pipe.recv)  # "report"
        pipe.send((dict(received), last, sum(sent.values())))
        server.close()

    asyncio.run(main())


# --- the senders -----------------------------------------------------------------------


def loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def fake_post(latency: float) -> Callable[[str, bytes, Mapping[str, str]], requests.Response]:
    """A POST that answers 202 after `latency` seconds, without a network."""

    def post(url: str, body: bytes, headers: Mapping[str, str]) -> requests.Response:
        time.sleep(latency)
        response = requests.Response()
        response.status_code = 202
        response._content = b""
        return response

    return post


def deliver(
    database: str,
    key_pem: bytes,
    workers: int,
    per_host: int,
    timeout: float,
    queue_only: float | None = None,
) -> int:
    """Work through the queue until nothing is due; how many attempts were made.
    With `queue_only` (a latency), nothing is signed or sent: the queue alone."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    fetcher = Fetcher(allow_private=True, timeout=timeout, resolver=loopback)
    sign = signer(f"{SITE}/actor#main-key", key, fetcher.clock)
    post = fetcher.post
    if queue_only is not None:
        sign, post = (lambda inbox, body: {}), fake_post(queue_only)
    conn = connect(Path(database))
    try:
        outcomes = run_deliveries(
            DeliveryQueue(conn),
            FollowerStore(conn),
            sign=sign,
            post=post,
            clock=lambda: datetime.now(UTC),
            workers=workers,
            per_host=per_host,
        )
    finally:
        conn.close()
    return len(outcomes)


def _deliver_in_child(
    args: tuple[str, bytes, int, int, float, float | None], pipe: Connection
) -> None:
    pipe.send(deliver(*args))


@dataclass(frozen=True)
class Plan:
    servers: list[str]  # host names
    personal: set[str]  # servers without a shared inbox
    followers: list[Follower]


def _personal(servers: int, fraction: float) -> int:
    return max(1, round(servers * fraction))


def plan(followers: int, servers: int, personal: float, port: int) -> Plan:
    hosts = [f"s{n}.test" for n in range(servers)]
    without_shared = set(hosts[len(hosts) - _personal(servers, personal) :])
    people: list[Follower] = []
    now = datetime.now(UTC)
    for n in range(followers):
        host = hosts[n % servers]
        base = f"http://{host}:{port}"
        shared = None if host in without_shared else f"{base}/inbox"
        actor = f"{base}/users/u{n}"
        people.append(Follower(actor, f"{actor}/inbox", shared, None, now))
    return Plan(hosts, without_shared, people)


@dataclass(frozen=True)
class Result:
    rows: int
    seconds: float
    attempts: int
    fast_done: list[float]  # seconds from the start to each fast server's last receipt
    lost: int
    duplicates: int
    slow_received: int
    slow_sent: int
    slow_done: float | None  # seconds from the start to the slow server's last receipt


def run_once(args: argparse.Namespace, key_pem: bytes, with_slow: bool) -> Result:
    slow_host = f"s{args.servers - _personal(args.servers, args.personal)}.test"
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(theirs, slow_host if with_slow else None, args.slow, args.slow_delay)
    )
    server.start()
    port = int(ours.recv())
    layout = plan(args.followers, args.servers, args.personal, port)
    with tempfile.TemporaryDirectory() as tmp:
        database = str(Path(tmp) / "bench.sqlite3")
        conn = connect(Path(database))
        followers, queue = FollowerStore(conn), DeliveryQueue(conn)
        with transaction(conn):
            for follower in layout.followers:
                followers.add(follower)
        inboxes = followers.delivery_inboxes()
        expected: set[tuple[str, str, str]] = set()
        now = datetime.now(UTC)
        with transaction(conn):
            for n in range(args.activities):
                activity = {
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"{SITE}/activities/{n}",
                    "type": "Create",
                    "actor": f"{SITE}/actor",
                    "object": {"id": f"{SITE}/notes/{n}", "type": "Note", "content": "Hi"},
                }
                queue.enqueue(activity, inboxes, now=now)
                for inbox in inboxes:
                    _, _, rest = inbox.partition("://")
                    host_port, _, path = rest.partition("/")
                    expected.add((host_port.split(":")[0], "/" + path, str(activity["id"])))
        conn.close()
        job = (database, key_pem, args.workers, args.per_host, args.timeout, args.queue_only)
        children = []
        started = time.monotonic()
        for _ in range(args.processes - 1):
            mine, child_end = multiprocessing.Pipe()
            child = multiprocessing.get_context("spawn").Process(
                target=_deliver_in_child, args=(job, child_end)
            )
            child.start()
            children.append((child, mine))
        attempts = deliver(*job)
        for child, mine in children:
            attempts += int(mine.recv())
            child.join()
        seconds = time.monotonic() - started
    ours.send("report")
    received, last, slow_sent = ours.recv()
    server.join()
    fast = {k for k in expected if k[0] != slow_host or not with_slow}
    counts = {k: received.get(k, 0) for k in fast}
    fast_hosts = {k[0] for k in fast}
    return Result(
        rows=len(expected),
        seconds=seconds,
        attempts=attempts,
        fast_done=sorted(last[h] - started for h in fast_hosts if h in last),
        lost=sum(1 for n in counts.values() if n == 0),
        duplicates=sum(n - 1 for n in counts.values() if n > 1),
        slow_received=sum(n for k, n in received.items() if k[0] == slow_host),
        slow_sent=slow_sent,
        slow_done=last[slow_host] - started if with_slow and slow_host in last else None,
    )


def _quantile(values: Iterable[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(label: str, result: Result) -> str:
    done = result.fast_done
    return (
        f"{label}: {result.rows:,} deliveries in {result.seconds:.1f} s"
        f" = {result.attempts / result.seconds:,.0f} attempts/s;"
        f" fast servers' last delivery p50 {_quantile(done, 0.5):.1f} s,"
        f" p90 {_quantile(done, 0.9):.1f} s, max {max(done, default=float('nan')):.1f} s"
        f" (fast: {len(done):,} servers, lost {result.lost}, sent twice {result.duplicates})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=50_000)
    parser.add_argument("--servers", type=int, default=5_000)
    parser.add_argument("--personal", type=float, default=0.1,
                        help="fraction of servers without a shared inbox")  # fmt: skip
    parser.add_argument("--activities", type=int, default=1)
    parser.add_argument("--workers", type=int, default=32, help="threads per process")
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--slow", choices=("slow", "dead"), default="slow")
    parser.add_argument("--slow-delay", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--queue-only",
        type=float,
        metavar="LATENCY",
        help="sign and send nothing: each POST answers 202 after LATENCY seconds"
        " (the queue's own cost; no slow server)",
    )
    args = parser.parse_args()
    if args.servers < 1 or args.followers < args.servers or not 0 < args.personal <= 1:
        parser.error("need followers >= servers >= 1 and 0 < personal <= 1")

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    layout = plan(args.followers, args.servers, args.personal, 1)
    inboxes = len({f.delivery_inbox for f in layout.followers})
    print(
        f"{args.followers:,} followers on {args.servers:,} servers"
        f" ({len(layout.personal):,} without a shared inbox): {inboxes:,} inboxes"
        f" x {args.activities} activities; {args.processes} process(es) x {args.workers}"
        f" threads, {args.per_host} per server; "
        + (
            f"no network, every POST answered after {args.queue_only:g} s"
            if args.queue_only is not None
            else f"one server {args.slow}"
            + (
                f" ({args.slow_delay:g} s)"
                if args.slow == "slow"
                else f" (timeout {args.timeout:g} s)"
            )
        )
    )
    sys.stdout.flush()
    if args.queue_only is not None:
        result = run_once(args, key_pem, with_slow=False)
        ideal = result.rows * args.queue_only / (args.workers * args.processes)
        print(
            f"queue only: {result.rows:,} deliveries in {result.seconds:.1f} s"
            f" = {result.attempts / result.seconds:,.0f}/s (latency-bound ideal {ideal:.1f} s);"
            f" {result.attempts:,} attempts: each delivery sent once"
            if result.attempts == result.rows
            else f"; FAILED: {result.attempts:,} attempts for {result.rows:,} deliveries"
        )
        raise SystemExit(0 if result.attempts == result.rows else 1)
    ok = True
    spreads: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.runs):
        for with_slow in (False, True):
            result = run_once(args, key_pem, with_slow)
            label = f"with one {args.slow} server" if with_slow else "all servers fast"
            print(describe(label, result))
            if with_slow:
                when = "" if result.slow_done is None else f", the last at {result.slow_done:.1f} s"
                print(
                    f"  the {args.slow} server was sent {result.slow_sent} requests"
                    f" and took {result.slow_received} deliveries{when}"
                )
            sys.stdout.flush()
            spreads[with_slow].append(max(result.fast_done, default=0.0))
            ok = ok and result.lost == 0 and result.duplicates == 0
    if args.runs > 1:
        without, with_ = (statistics.median(spreads[k]) for k in (False, True))
        print(
            f"median of {args.runs} runs: fast servers done by {without:.1f} s alone,"
            f" {with_:.1f} s beside the {args.slow} server ({with_ / without:.2f}x)"
        )
    print("OK: every fast server got every delivery once" if ok else "FAILED: lost or repeated")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
