"""`commsite serve` as a person runs it: the first lines, a page, and stopping it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsite.cli import main


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "fixers"
    result = CliRunner().invoke(main, ["init", str(root), "--title", "Fixers of Eastfield"])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(site: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    """A `commsite serve` process and its first output line, once it serves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "commsite", "serve", str(site), "--port", str(port)],
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
        if line.startswith("Serving "):
            return process, line
    process.kill()
    raise AssertionError("serve stopped before serving:\n" + "".join(lines))


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serves_the_site_then_stops_cleanly(site: Path, stop: signal.Signals) -> None:
    port = _free_port()
    process, first = _start(site, port)
    try:
        assert (
            first == f"Serving 'Fixers of Eastfield' at http://127.0.0.1:{port}/ (Ctrl-C to stop)\n"
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            assert response.status == 200
            assert b"Fixers of Eastfield" in response.read()
        process.send_signal(stop)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, rest
    assert rest.endswith("\nStopped.\n")
    assert "Traceback" not in rest


def test_a_busy_port_is_a_clear_error(site: Path, busy_port: int) -> None:
    result = CliRunner().invoke(main, ["serve", str(site), "--port", str(busy_port)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: port {busy_port} on 127.0.0.1 is already in use; try "
        f"`commsite serve --port {busy_port + 1}` or stop the other server\n"
    )


def test_a_folder_without_commsite_yaml_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", str(tmp_path)])
    assert result.exit_code == 1
    assert "has no commsite.yaml, so it is not a commsite site" in result.output
    assert list(tmp_path.iterdir()) == []
