"""Running a long-lived commsite command as a person does: a real process,
its first line once it listens, a signal to stop it, and ports to try."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["busy_port", "free_port", "start", "stop"]


@contextmanager
def busy_port() -> Iterator[int]:
    """A port another server listens on, for as long as the block runs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(args: list[str], ready: str) -> tuple[subprocess.Popen[str], str]:
    """`python -m commsite ARGS` and its first line starting with `ready`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "commsite", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A shell's background job ignores SIGINT; a terminal's Ctrl-C does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(ready):
            return process, line
    process.kill()
    process.wait()
    raise AssertionError(f"{args[0]} stopped before {ready!r}:\n" + "".join(lines))


def stop(process: subprocess.Popen[str], how: signal.Signals) -> str:
    """Send `how`, wait for the process to end, and return the rest of its output."""
    try:
        process.send_signal(how)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return rest
