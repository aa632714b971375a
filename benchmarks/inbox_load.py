"""Inbox load and crash benchmark: signed deliveries against a `commsite sidecar` subprocess.

    python benchmarks/inbox_load.py [--n 2000] [--concurrency 16] [--crash-only] [--keep DIR]
                                    [--processes 1,2,4] [--database URL]
    python benchmarks/inbox_load.py --scenario slow-keys [--attackers 24] [--seconds 10]
    python benchmarks/inbox_load.py --scenario slowloris [--attackers 400] [--seconds 10]

1. Load run: N Create{Note} deliveries, each signed beforehand with `apsig`
   (an independent implementation) by one of several loopback "remote" actors,
   POSTed by `concurrency` client threads over keep-alive connections to
   `commsite sidecar` subprocesses on 127.0.0.1 (each client keeps to one
   process, the clients spread evenly: a load balancer's round robin). Prints
   requests/s and latency p50/p99, for each process count in `--processes`
   (several processes share the one database: each answers the inbox and runs
   a worker claiming from the one job queue).
2. Crash run: the same against fresh sidecars (the largest process count), one
   of which is killed with SIGKILL part-way, its worker with it; it is then
   restarted (so SQLite recovers its WAL), and the set of activity ids that
   were answered 202 is compared with the set in the database. With several
   processes the others keep answering, and the run then waits for the
   workers to process everything: every stored activity must end processed,
   once (one inbox item each; the killed worker's claimed jobs are taken
   again after their lease). Exit status 1 if any acknowledged activity was
   lost or a job was not done exactly once.

`--database URL` is passed to the sidecars (`sidecar.database` in the test
site's commsite.yaml) for a database server such as PostgreSQL; without it
they share the SQLite file in the data directory.

The attack scenarios measure valid deliveries (keys cached, a new connection
each, `concurrency` clients, `seconds` long) without an attack, then during one,
and print p50/p99/max side by side:

* slow-keys: `attackers` senders (default 24) whose keyIds point at 4 loopback
  hosts that drip their answer a byte every 0.5 s; each sends again 0.2 s after
  its answer, with a new keyId every time (issue 15, point 9);
* slowloris: `attackers` connections (default 400) from 127.0.0.2, each sending
  a header byte a second and reopened when closed, against `--serve-site`
  (issue 15, point 10).

The rate limiter is opened up (--rate/--burst) so the numbers measure
admission, not the limiter.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from apsig.draft.sign import Signer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from commsite.federation.keys import generate_keypair, write_keys

AS = "https://www.w3.org/ns/activitystreams"
STORY = "https://load.example/ap/stories/load"
ACTORS = 8


class Remote:
    """Loopback actors with keys (the senders' instance)."""

    def __init__(self, users: int) -> None:
        self.keys = {
            f"u{i}": rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for i in range(users)
        }
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                user = self.path.rsplit("/", 1)[-1]
                if user not in remote.keys:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(remote.document(user)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def actor(self, user: str) -> str:
        return f"{self.base}/users/{user}"

    def document(self, user: str) -> dict[str, Any]:
        pem = (
            self.keys[user]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        actor = self.actor(user)
        return {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": actor,
            "type": "Person",
            "preferredUsername": user,
            "inbox": actor + "/inbox",
            "publicKey": {"id": actor + "#main-key", "owner": actor, "publicKeyPem": pem},
        }


def write_site(root: Path, database: str | None = None) -> None:
    (root / "content").mkdir(parents=True)
    (root / "commsite.yaml").write_text(
        "title: Load test\nbase_url: https://load.example/\n"
        "federation:\n  allow_private_addresses: true\n"
        "sidecar:\n  host_aliases: ['127.0.0.1']\n"  # deliveries are signed for 127.0.0.1:PORT
        + (f"  database: '{database}'\n" if database else ""),
        encoding="utf-8",
    )
    (root / "content" / "rules.md").write_text("---\ntitle: Rules\n---\n1. Be kind.\n")
    (root / "content" / "stories").mkdir()
    (root / "content" / "stories" / "2026-01-10-load.md").write_text(
        "---\ntitle: Load\ndate: 2026-01-10\n---\nReply here.\n", encoding="utf-8"
    )
    write_keys(root, generate_keypair())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sidecar(
    root: Path, port: int, log: Path, extra: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-c",
        "from commsite.cli import main; main()",
        "sidecar",
        str(root),
        "--port",
        str(port),
        "--rate",
        "1000000",
        "--burst",
        "1000000",
        "--threads",
        "16",
        *extra,
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"the sidecar exited; see {log}") from None
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the sidecar did not start; see {log}")


def presign(remote: Remote, url: str, n: int, tag: str) -> list[tuple[str, bytes, dict[str, str]]]:
    """n signed deliveries: (activity id, body, headers)."""
    users = sorted(remote.keys)
    out = []
    for i in range(n):
        user = users[i % len(users)]
        actor = remote.actor(user)
        note_id = f"{actor}/statuses/{tag}-{i}"
        activity = {
            "@context": AS,
            "id": note_id + "/activity",
            "type": "Create",
            "actor": actor,
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": actor,
                "content": f"<p>load {i}</p>",
                "inReplyTo": STORY,  # a reply: processing files it (one inbox item)
                "to": [AS + "#Public"],
            },
        }
        body = json.dumps(activity).encode()
        headers = Signer(
            headers={"Content-Type": "application/activity+json"},
            private_key=remote.keys[user],
            method="POST",
            url=url,
            key_id=actor + "#main-key",
            body=body,
        ).sign()
        headers.pop("Authorization", None)
        headers["Content-Length"] = str(len(body))
        out.append((str(activity["id"]), body, headers))
    return out


def fire(
    port: int | list[int],
    deliveries: list[tuple[str, bytes, dict[str, str]]],
    concurrency: int,
    stop_after_acks: int | None = None,
    on_stop: Any = None,
) -> tuple[list[float], Counter[int], set[str], float]:
    """POST everything from `concurrency` threads; latencies, statuses, ids answered 202."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    acked: set[str] = set()
    lock = threading.Lock()
    stopped = threading.Event()
    chunks = [deliveries[i::concurrency] for i in range(concurrency)]
    ports = port if isinstance(port, list) else [port]

    def client(chunk: list[tuple[str, bytes, dict[str, str]]], port: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for activity_id, body, headers in chunk:
            start = time.perf_counter()
            try:
                conn.request("POST", "/inbox", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0  # connection refused or reset: not acknowledged
            elapsed = time.perf_counter() - start
            with lock:
                statuses[status] += 1
                if status == 202:
                    latencies.append(elapsed)
                    acked.add(activity_id)
                    if stop_after_acks is not None and len(acked) == stop_after_acks:
                        stopped.set()
                        on_stop()
        conn.close()

    threads = [
        threading.Thread(target=client, args=(c, ports[i % len(ports)]))
        for i, c in enumerate(chunks)
    ]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses, acked, time.perf_counter() - began


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def query(root: Path, database: str | None, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` from the sidecars' database (SQLite, or the server at `database`)."""
    if database:
        import psycopg  # type: ignore[import-not-found]  # (only with --database)

        with psycopg.connect(database) as conn:
            return [tuple(row) for row in conn.execute(sql).fetchall()]
    conn = sqlite3.connect(root / ".commsite" / "commsite.sqlite3")
    try:
        return [tuple(row) for row in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def empty_database(database: str | None) -> None:
    """Start a run on an empty PostgreSQL database (the schema is made again by the
    sidecars), so that one run's counts never include another's rows."""
    if database:
        import psycopg  # type: ignore[import-not-found]  # (only with --database)

        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")


def stored_ids(root: Path, database: str | None = None) -> set[str]:
    return {str(row[0]) for row in query(root, database, "SELECT id FROM inbox_activities")}


def start_sidecars(
    root: Path, count: int, log: Path
) -> tuple[list[int], list[subprocess.Popen[bytes]]]:
    ports = [free_port() for _ in range(count)]
    return ports, [start_sidecar(root, port, log) for port in ports]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


def load_run(
    remote: Remote, work: Path, n: int, concurrency: int, count: int, database: str | None
) -> tuple[float, float, float]:
    """requests/s, p50 and p99 (seconds) with `count` sidecar processes."""
    root = work / f"load-site-{count}"
    empty_database(database)
    write_site(root, database)
    ports, processes = start_sidecars(root, count, work / f"load-sidecar-{count}.log")
    try:
        deliveries = presign(remote, "http://127.0.0.1/inbox", n, f"load{count}")
        # Warm every process's key cache (one fetch per actor, one at a time: 2 at once
        # per host at most), as running sidecars would have.
        for port in ports:
            fire(port, presign(remote, "http://127.0.0.1/inbox", ACTORS, f"warm{port}"), 1)
        latencies, statuses, acked, seconds = fire(ports, deliveries, concurrency)
    finally:
        stop(processes)
    rate = len(acked) / seconds
    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    print(f"load: {n} deliveries, {concurrency} concurrent clients, {count} process(es),"
          f" {seconds:.2f} s")  # fmt: skip
    print(f"  statuses: {dict(sorted(statuses.items()))}")
    print(f"  throughput: {rate:.0f} requests/s (202 answers)")
    print(f"  latency: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    missing = acked - stored_ids(root, database)
    print(f"  acknowledged but not stored: {len(missing)}")
    return rate, p50, p99


def wait_processed(ports: list[int], timeout: float) -> bool:
    """Until every sidecar's /healthz says nothing waits in the inbox queue."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/healthz", timeout=5) as r:
            if json.loads(r.read())["queued"] == 0:
                return True
        time.sleep(0.2)
    return False


def crash_run(
    remote: Remote, work: Path, n: int, concurrency: int, count: int, database: str | None
) -> bool:
    root = work / "crash-site"
    empty_database(database)
    write_site(root, database)
    log = work / "crash-sidecar.log"
    ports, processes = start_sidecars(root, count, log)
    deliveries = presign(remote, "http://127.0.0.1/inbox", n, "crash")
    victim = processes[0]

    def kill() -> None:
        os.kill(victim.pid, signal.SIGKILL)

    _, statuses, acked, _ = fire(
        ports, deliveries, concurrency, stop_after_acks=max(1, n // 3), on_stop=kill
    )
    victim.wait(timeout=30)
    # Restart on the same database: SQLite replays its WAL; the sidecar must come up.
    processes[0] = start_sidecar(root, ports[0], log)
    ok = True
    if count > 1:  # the workers finish the queue, the killed one's claimed jobs included
        ok = wait_processed(ports, timeout=max(120.0, n / 5))
    stop(processes)
    stored = stored_ids(root, database)
    lost = acked - stored
    print(
        f"crash: SIGKILL of 1 of {count} process(es) after {max(1, n // 3)}"
        f" acknowledgements of {n} deliveries"
    )
    print(f"  statuses: {dict(sorted(statuses.items()))} (0 = connection refused/reset)")
    print(f"  answered 202: {len(acked)}, stored: {len(stored)}, lost: {len(lost)}")
    extra = len(stored - acked)
    print(f"  stored without a 202 (answer lost in the crash; the sender retries): {extra}")
    if count > 1:
        states = dict(query(root, database, "SELECT state, COUNT(*) FROM inbox_activities"
                                            " GROUP BY state"))  # fmt: skip
        items = dict(query(root, database, "SELECT ap_id, COUNT(*) FROM inbox_items"
                                           " GROUP BY ap_id"))  # fmt: skip
        again = query(root, database, "SELECT COUNT(*) FROM inbox_activities WHERE attempts > 1")
        unfinished = sum(v for k, v in states.items() if k in ("queued", "processing", "retry"))
        twice = sum(1 for v in items.values() if v > 1)
        print(f"  processed: {states}; inbox items {len(items)}, of them twice: {twice}")
        print(f"  jobs claimed again after the kill (their lease held by the dead worker):"
              f" {again[0][0]}")  # fmt: skip
        ok = ok and unfinished == 0 and twice == 0 and len(items) == len(stored)
    return not lost and ok


# ----------------------------------------------------------------------------- attacks


def fire_for(
    port: int, deliveries: list[tuple[str, bytes, dict[str, str]]], clients: int, seconds: float
) -> tuple[list[float], Counter[int]]:
    """POST from `clients` threads, a new connection each, for `seconds`; latencies of 202s."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    todo = iter(deliveries)
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                item = next(todo, None)
            if item is None:
                return
            _, body, headers = item
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            try:
                conn.request("POST", "/inbox", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
            finally:
                conn.close()
            elapsed = time.perf_counter() - start
            with lock:
                statuses[status] += 1
                if status == 202:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses


class DripHost(ThreadingHTTPServer):
    """A remote host whose every answer comes a byte every 0.5 s (for 60 s at most)."""

    daemon_threads = True

    def __init__(self, stop: threading.Event) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n" * 3
                for byte in answer[:120]:
                    if stop.wait(0.5):
                        return
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        return

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, args=(0.1,), daemon=True).start()

    def actor(self, user: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/users/{user}"


@contextlib.contextmanager
def slow_keys(port: int, attackers: int) -> Iterator[Counter[int]]:
    """`attackers` senders whose keys drip in from 4 hosts, until the block ends."""
    stop = threading.Event()
    hosts = [DripHost(stop) for _ in range(4)]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    url = f"http://127.0.0.1:{port}/inbox"
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def attacker(i: int) -> None:
        host = hosts[i % len(hosts)]
        for n in range(10_000):
            if stop.is_set():
                return
            actor = host.actor(f"slow{i}-{n}")
            body = json.dumps(
                {"id": actor + "/1", "type": "Like", "actor": actor, "object": actor + "/2"}
            ).encode()
            headers = Signer(
                headers={"Content-Type": "application/activity+json"},
                private_key=key,
                method="POST",
                url=url,
                key_id=actor + "#main-key",
                body=body,
            ).sign()
            headers.pop("Authorization", None)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            try:
                conn.request("POST", "/inbox", body=body, headers=headers)
                status = conn.getresponse().status
            except OSError:
                status = 0
            finally:
                conn.close()
            with lock:
                statuses[status] += 1
            stop.wait(0.2)

    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(attackers)]
    for t in threads:
        t.start()
    time.sleep(1.0)  # let the attack take hold before measuring
    try:
        yield statuses
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=130)
        for host in hosts:
            host.shutdown()
            host.server_close()


@contextlib.contextmanager
def slowloris(port: int, connections: int) -> Iterator[Counter[int]]:
    """`connections` connections from 127.0.0.2 sending a header byte a second each,
    reopened when the server closes them, until the block ends."""
    stop = threading.Event()
    counts: Counter[int] = Counter()  # 1: opened, 0: closed by the server

    def connect() -> socket.socket | None:
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.2", 0))
            sock.settimeout(5)
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        except OSError:
            sock.close()
            return None
        counts[1] += 1
        return sock

    def run() -> None:
        socks = [connect() for _ in range(connections)]
        try:
            while not stop.wait(1.0):
                for i, sock in enumerate(socks):
                    if stop.is_set():
                        break
                    try:
                        if sock is None:
                            raise OSError
                        sock.send(b"a")
                    except OSError:
                        counts[0] += sock is not None
                        if sock is not None:
                            sock.close()
                        socks[i] = connect()
        finally:
            for sock in socks:
                if sock is not None:
                    sock.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(2.0)  # let the attack take hold before measuring
    try:
        yield counts
    finally:
        stop.set()
        thread.join(timeout=60)


def attack_run(
    remote: Remote,
    work: Path,
    scenario: str,
    attackers: int,
    seconds: float,
    clients: int,
) -> None:
    root = work / f"{scenario}-site"
    write_site(root)
    port = free_port()
    extra = ("--serve-site",) if scenario == "slowloris" else ()
    process = start_sidecar(root, port, work / f"{scenario}-sidecar.log", extra)
    attack: Callable[[int, int], contextlib.AbstractContextManager[Counter[int]]]
    attack = slow_keys if scenario == "slow-keys" else slowloris
    try:
        url = f"http://127.0.0.1:{port}/inbox"
        fire(port, presign(remote, url, ACTORS, "warm"), 1)  # keys cached
        quiet = fire_for(port, presign(remote, url, 3000, "quiet"), clients, seconds)
        with attack(port, attackers) as attack_counts:
            attacked = fire_for(port, presign(remote, url, 3000, "attack"), clients, seconds)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    what = {
        "slow-keys": f"{attackers} senders whose keys drip in (a byte every 0.5 s, 4 hosts)",
        "slowloris": f"{attackers} connections sending a header byte a second (--serve-site)",
    }[scenario]
    print(f"{scenario}: {what}")
    print(f"  valid deliveries: {clients} clients, a new connection each, {seconds:.0f} s a phase")
    print(f"  {'':22}{'without attack':>16}{'with attack':>16}")
    rows = [
        ("answered 202", lambda r: f"{len(r[0])}"),
        ("other answers", lambda r: str(dict(sorted((k, v) for k, v in r[1].items() if k != 202)))),
        ("p50", lambda r: f"{statistics.median(r[0]) * 1000:.1f} ms" if r[0] else "-"),
        ("p99", lambda r: f"{percentile(r[0], 0.99) * 1000:.1f} ms" if r[0] else "-"),
        ("max", lambda r: f"{max(r[0]) * 1000:.1f} ms" if r[0] else "-"),
    ]
    for name, cell in rows:
        print(f"  {name:22}{cell(quiet):>16}{cell(attacked):>16}")
    print("  (other answers: 0 = none within 120 s, or the connection was reset)")
    if scenario == "slow-keys":
        print(f"  attackers' answers: {dict(sorted(attack_counts.items()))} (0 = no answer)")
    else:
        print(
            f"  attack connections opened: {attack_counts[1]},"
            f" closed by the server: {attack_counts[0]}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="deliveries per run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--crash-only", action="store_true", help="skip the load run")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--scenario", choices=("load", "slow-keys", "slowloris"), default="load")
    parser.add_argument("--attackers", type=int, help="slow-keys: 24, slowloris: 400")
    parser.add_argument("--seconds", type=float, default=10.0, help="of each attack phase")
    parser.add_argument("--clients", type=int, default=4, help="valid senders in attack runs")
    parser.add_argument(
        "--processes", default="1", help="sidecar process counts to compare, e.g. 1,2,4"
    )
    parser.add_argument(
        "--database",
        help="a scratch PostgreSQL database for the sidecars, emptied before each run"
        " (default: SQLite)",
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.processes.split(",")]
    remote = Remote(ACTORS)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.scenario != "load":
            attackers = args.attackers or (24 if args.scenario == "slow-keys" else 400)
            attack_run(remote, work, args.scenario, attackers, args.seconds, args.clients)
            remote.server.shutdown()
            return 0
        if not args.crash_only:
            figures = {
                c: load_run(remote, work, args.n, args.concurrency, c, args.database)
                for c in counts
            }
            if len(counts) > 1:
                print("processes  requests/s   p50 ms   p99 ms")
                for c, (rate, p50, p99) in figures.items():
                    print(f"{c:>9}  {rate:>10.0f}  {p50 * 1000:>7.1f}  {p99 * 1000:>7.1f}")
        ok = crash_run(remote, work, args.n, args.concurrency, max(counts), args.database)
    remote.server.shutdown()
    print("OK: no acknowledged activity was lost" if ok else "FAIL: acknowledged activities lost")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
