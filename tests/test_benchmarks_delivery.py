"""benchmarks/delivery.py, small: every fast server gets every delivery once, and a
slow server's deliveries do not hold the fast ones back."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "delivery.py"


def run(*options: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--followers", "240", "--servers", "24", *options],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_small_delivery_benchmark_is_fair_to_fast_servers() -> None:
    out = run("--slow-delay", "1", "--workers", "8")
    assert out.startswith(
        "240 followers on 24 servers (2 without a shared inbox): 42 inboxes x 1 activities;"
    )
    assert "all servers fast: 42 deliveries in " in out
    assert "(fast: 24 servers, lost 0, sent twice 0)" in out
    assert "(fast: 23 servers, lost 0, sent twice 0)" in out
    [fast_max] = re.findall(r"with one slow server: .* max ([0-9.]+) s", out)
    [(received, slow_last)] = re.findall(
        r"slow server was sent 10 requests and took (\d+) deliveries, the last at ([0-9.]+) s",
        out,
    )
    # Its 10 personal inboxes, two at a time, a second each: five seconds at least.
    assert int(received) == 10 and float(slow_last) >= 4.5
    assert float(fast_max) < float(slow_last)
    assert out.endswith("OK: every fast server got every delivery once\n")


def test_a_dead_server_is_held_back_after_its_first_timeouts() -> None:
    out = run("--slow", "dead", "--timeout", "1", "--workers", "8")
    # Two requests at once (--per-host), both time out, and the server is held back.
    assert "the dead server was sent 2 requests and took 0 deliveries" in out
    assert "(fast: 23 servers, lost 0, sent twice 0)" in out
    assert out.endswith("OK: every fast server got every delivery once\n")


def test_the_queue_alone_delivers_everything() -> None:
    out = run("--queue-only", "0.001", "--processes", "2", "--workers", "4")
    assert "no network, every POST answered after 0.001 s" in out
    assert "queue only: 42 deliveries in " in out
    assert out.rstrip().endswith("42 attempts: each delivery sent once")
