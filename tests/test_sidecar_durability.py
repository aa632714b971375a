"""kill -9 under load loses no acknowledged activity (benchmarks/inbox_load.py's crash run).

The sidecar is a real `commsite sidecar` subprocess; deliveries are signed by
apsig; the process is SIGKILLed after a third of the answers, restarted on the
same database, and every activity id that was answered 202 must be stored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import pg

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "inbox_load.py"


@pytest.mark.usefixtures("backend")
def test_sigkill_under_load_loses_nothing_acknowledged() -> None:
    database = pg.database_url()
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--n", "300", "--concurrency", "12", "--crash-only"]
        + (["--database", database] if database else []),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lost: 0" in result.stdout
    assert "OK: no acknowledged activity was lost" in result.stdout


def test_sigkill_of_one_of_two_processes_loses_nothing_and_does_every_job_once() -> None:
    """Two sidecars on one database; one is killed mid-load, its worker with it. The
    other keeps answering; after the restart the workers process everything, the
    killed worker's claimed jobs included, each once."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--n", "120", "--concurrency", "6", "--crash-only",
         "--processes", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "crash: SIGKILL of 1 of 2 process(es)" in result.stdout
    assert "lost: 0" in result.stdout
    assert "of them twice: 0" in result.stdout
    assert "OK: no acknowledged activity was lost" in result.stdout
