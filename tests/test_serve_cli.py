"""`commsite serve` as a person runs it: the first lines, a page, and stopping it."""

from __future__ import annotations

import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_process import busy_port, free_port, start, stop
from commsite.cli import main


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "fixers"
    result = CliRunner().invoke(main, ["init", str(root), "--title", "Fixers of Eastfield"])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(name="busy_port")
def busy_port_fixture() -> Iterator[int]:
    with busy_port() as port:
        yield port


def _start(site: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    """A `commsite serve` process and its first output line, once it serves."""
    return start(["serve", str(site), "--port", str(port)], "Serving ")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serves_the_site_then_stops_cleanly(site: Path, how: signal.Signals) -> None:
    port = free_port()
    process, first = _start(site, port)
    try:
        assert (
            first == f"Serving 'Fixers of Eastfield' at http://127.0.0.1:{port}/ (Ctrl-C to stop)\n"
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            assert response.status == 200
            assert b"Fixers of Eastfield" in response.read()
    finally:
        rest = stop(process, how)
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
