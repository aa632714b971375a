"""`commsite sidecar` as an operator runs it: the banner, a request, stopping it, a busy port."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_process import busy_port, free_port, start, stop
from commsite.cli import main
from sidecar_peer import write_site


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write_site(tmp_path, "https://x.example/")
    return tmp_path


@pytest.fixture(name="busy_port")
def busy_port_fixture() -> Iterator[int]:
    with busy_port() as port:
        yield port


def _start(site: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """A `commsite sidecar` process and its banner line, once it listens."""
    return start(["sidecar", str(site), *args], "commsite sidecar for ")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serves_then_stops_cleanly(site: Path, how: signal.Signals) -> None:
    port = free_port()
    process, banner = _start(site, "-p", str(port), "--host", "127.0.0.1")
    try:
        assert banner == (
            "commsite sidecar for https://x.example/ on "
            f"http://127.0.0.1:{port}/ (Ctrl-C to stop)\n"
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
            json.loads(response.read())
    finally:
        rest = stop(process, how)
    assert process.returncode == 0, rest
    assert rest.endswith("Stopped.\n"), rest
    assert "Traceback" not in rest
    # The port is free again: waitress closed its listening socket (the
    # request's connection may linger in TIME_WAIT, which SO_REUSEADDR allows).
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()


def test_a_busy_port_is_a_clear_error_before_the_banner(site: Path, busy_port: int) -> None:
    result = CliRunner().invoke(
        main, ["sidecar", str(site), "--host", "127.0.0.1", "--port", str(busy_port)]
    )
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"Error: port {busy_port} on 127.0.0.1 is already in use; try "
        f"`commsite sidecar --port {busy_port + 1}` or stop the other server\n"
    )


def test_a_second_sidecar_on_the_same_port_says_so(site: Path) -> None:
    port = free_port()
    first, _ = _start(site, "-p", str(port), "--host", "127.0.0.1")
    try:
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "commsite",
                "sidecar",
                str(site),
                "-p",
                str(port),
                "--host",
                "127.0.0.1",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stop(first, signal.SIGTERM)
    assert second.returncode == 1
    assert second.stdout == ""
    assert "Traceback" not in second.stderr
    assert second.stderr.endswith(
        f"Error: port {port} on 127.0.0.1 is already in use; try "
        f"`commsite sidecar --port {port + 1}` or stop the other server\n"
    )


def test_help_has_examples() -> None:
    result = CliRunner().invoke(main, ["sidecar", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "-p, --port" in result.output
