"""Inbox load and crash benchmark: signed deliveries against a `commsite sidecar` subprocess.

    python benchmarks/inbox_load.py [--n 2000] [--concurrency 16] [--crash-only] [--keep DIR]

1. Load run: N Create{Note} deliveries, each signed beforehand with `apsig`
   (an independent implementation) by one of several loopback "remote" actors,
   POSTed by `concurrency` client threads over keep-alive connections to a
   sidecar subprocess on 127.0.0.1. Prints requests/s and latency p50/p99.
2. Crash run: the same against a fresh sidecar, which is killed with SIGKILL
   part-way; it is then restarted (so SQLite recovers its WAL), and the set of
   activity ids that were answered 202 is compared with the set in the
   database. Exit status 1 if any acknowledged activity was lost.

The rate limiter is opened up (--rate/--burst) so the numbers measure
admission, not the limiter.
"""

from __future__ import annotations

import argparse
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from apsig.draft.sign import Signer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from commsite.federation.keys import generate_keypair, write_keys

AS = "https://www.w3.org/ns/activitystreams"
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


def write_site(root: Path) -> None:
    (root / "content").mkdir(parents=True)
    (root / "commsite.yaml").write_text(
        "title: Load test\nbase_url: https://load.example/\n"
        "federation:\n  allow_private_addresses: true\n"
        "sidecar:\n  host_aliases: ['127.0.0.1']\n",  # deliveries are signed for 127.0.0.1:PORT
        encoding="utf-8",
    )
    (root / "content" / "rules.md").write_text("---\ntitle: Rules\n---\n1. Be kind.\n")
    write_keys(root, generate_keypair())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sidecar(root: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
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
    port: int,
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

    def client(chunk: list[tuple[str, bytes, dict[str, str]]]) -> None:
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

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
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


def stored_ids(root: Path) -> set[str]:
    conn = sqlite3.connect(root / ".commsite" / "commsite.sqlite3")
    try:
        return {row[0] for row in conn.execute("SELECT id FROM inbox_activities")}
    finally:
        conn.close()


def load_run(remote: Remote, work: Path, n: int, concurrency: int) -> None:
    root = work / "load-site"
    write_site(root)
    port = free_port()
    process = start_sidecar(root, port, work / "load-sidecar.log")
    try:
        deliveries = presign(remote, f"http://127.0.0.1:{port}/inbox", n, "load")
        # Warm the key cache (one fetch per actor), as a running sidecar would have.
        fire(port, presign(remote, f"http://127.0.0.1:{port}/inbox", ACTORS, "warm"), ACTORS)
        latencies, statuses, acked, seconds = fire(port, deliveries, concurrency)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    print(f"load: {n} deliveries, {concurrency} concurrent clients, {seconds:.2f} s")
    print(f"  statuses: {dict(sorted(statuses.items()))}")
    print(f"  throughput: {len(acked) / seconds:.0f} requests/s (202 answers)")
    print(
        f"  latency: p50 {statistics.median(latencies) * 1000:.1f} ms,"
        f" p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    missing = acked - stored_ids(root)
    print(f"  acknowledged but not stored: {len(missing)}")


def crash_run(remote: Remote, work: Path, n: int, concurrency: int) -> bool:
    root = work / "crash-site"
    write_site(root)
    port = free_port()
    log = work / "crash-sidecar.log"
    process = start_sidecar(root, port, log)
    deliveries = presign(remote, f"http://127.0.0.1:{port}/inbox", n, "crash")

    def kill() -> None:
        os.kill(process.pid, signal.SIGKILL)

    _, statuses, acked, _ = fire(
        port, deliveries, concurrency, stop_after_acks=max(1, n // 3), on_stop=kill
    )
    process.wait(timeout=30)
    # Restart on the same database: SQLite replays its WAL; the sidecar must come up.
    restarted = start_sidecar(root, port, log)
    restarted.send_signal(signal.SIGTERM)
    restarted.wait(timeout=30)
    stored = stored_ids(root)
    lost = acked - stored
    print(f"crash: SIGKILL after {max(1, n // 3)} acknowledgements of {n} deliveries")
    print(f"  statuses: {dict(sorted(statuses.items()))} (0 = connection refused/reset)")
    print(f"  answered 202: {len(acked)}, stored: {len(stored)}, lost: {len(lost)}")
    extra = len(stored - acked)
    print(f"  stored without a 202 (answer lost in the crash; the sender retries): {extra}")
    return not lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="deliveries per run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--crash-only", action="store_true", help="skip the load run")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args()
    remote = Remote(ACTORS)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if not args.crash_only:
            load_run(remote, work, args.n, args.concurrency)
        ok = crash_run(remote, work, args.n, args.concurrency)
    remote.server.shutdown()
    print("OK: no acknowledged activity was lost" if ok else "FAIL: acknowledged activities lost")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
