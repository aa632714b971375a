"""What the browser tests open, and the browser: Debian's Chromium driven by
Playwright, `commsite serve` on a free loopback port, and a built folder served
over real HTTP on loopback.

Each is a context manager (a module's fixture wraps it in two lines, at the
scope it needs). Without Chromium or Playwright the test skips with the reason,
and fails when CI=true (needs.require).
"""

from __future__ import annotations

import functools
import http.server
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import requests

import needs
from cli_process import free_port, start, stop

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["chromium_browser", "commsite_serve", "serve_folder"]

FIRST_ANSWER = 60  # seconds: the first page waits for serve's loop (its build is done)


@contextmanager
def chromium_browser() -> Iterator[Browser]:
    """Debian's headless Chromium, launched by Playwright, closed after the block."""
    executable = needs.chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        needs.require(False, "Playwright is not installed (pip install -e '.[test]')")
        raise
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=needs.CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def commsite_serve(site: Path) -> Iterator[str]:
    """`commsite serve SITE` as a person runs it, on a free loopback port: its base
    URL (ending in '/') once it answers, which is after its first build, with its
    watcher started. Stopped after the block."""
    port = free_port()
    # It prints "Serving ..." after its first build, with its port bound: a request
    # then waits in the port's queue until the server's loop (after the watcher's
    # start) answers it.
    process, _ = start(["serve", str(site), "--port", str(port)], "Serving ")
    base = f"http://127.0.0.1:{port}/"
    try:
        first = requests.get(base, timeout=FIRST_ANSWER)
        assert first.status_code == 200, f"commsite serve answered {first.status_code}"
        yield base
    finally:
        stop(process, signal.SIGTERM)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    delays: Mapping[str, float] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        time.sleep(self.delays.get(self.path.split("?")[0], 0.0))
        super().do_GET()


@contextmanager
def serve_folder(folder: Path, delays: Mapping[str, float] | None = None) -> Iterator[str]:
    """The files of `folder` over HTTP on a free loopback port: its base URL
    (ending in '/'). `delays` holds back the answers for some paths (a slow
    network, made certain) by that many seconds. Stopped after the block."""
    slow = type("_Slow", (_Quiet,), {"delays": dict(delays or {})})
    handler = functools.partial(slow, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
