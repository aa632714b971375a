"""`commsite serve` in a real browser: edits appear by themselves, errors show in the page.

Runs the real CLI on loopback and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from needs import CHROMIUM_ARGS, chromium

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
STORY = "content/stories/2025-09-06-welcome-to-fixers-of-eastfield.md"
STORY_URL = "stories/welcome-to-fixers-of-eastfield/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def site(tmp_path: Path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("public", ".commsite"))
    return dest


@pytest.fixture
def server(site: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "commsite", "serve", str(site), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(
                    f"commsite serve exited early:\n{proc.stdout.read() if proc.stdout else ''}"
                )
            try:
                if requests.get(base, timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        else:
            pytest.fail("commsite serve did not answer within 60 s")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _write(path: Path, text: str) -> None:
    """Save the way many editors do: write a temporary file, then rename it over."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_edits_errors_and_recovery_show_up_in_the_open_page(site: Path, server: str) -> None:
    from playwright.sync_api import sync_playwright

    executable = chromium()
    story = site / STORY
    original = story.read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server + STORY_URL)
            page.wait_for_selector("text=Hello, neighbours!")
            page.wait_for_function("document.readyState === 'complete'")
            time.sleep(0.3)  # let the reload stream connect

            # 1. An edit shows up by itself within 2 seconds.
            _write(story, original.replace("Hello, neighbours!", "Hello, live preview!"))
            page.wait_for_selector("text=Hello, live preview!", timeout=2000)

            # 2. Broken front matter replaces the page with the error, file and line.
            broken = original.replace("date: 2025-09-06", "date: [unclosed", 1)
            _write(story, broken)
            page.wait_for_selector("#commsite-diagnostics", timeout=5000)
            errors = page.inner_text("#commsite-diagnostics")
            assert f"{STORY}:3: error: invalid YAML: '[' is never closed" in errors, errors

            # 3. Fixing the file brings the page back by itself.
            _write(story, original)
            page.wait_for_selector("text=Hello, neighbours!", timeout=5000)
            assert page.query_selector("#commsite-diagnostics") is None
        finally:
            browser.close()


def test_built_output_never_contains_the_reload_script(site: Path, server: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "commsite", "build", str(site)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    pages = list((site / "public").rglob("*.html"))
    assert pages
    assert not [p for p in pages if "EventSource" in p.read_text(encoding="utf-8")]
    preview = (site / ".commsite" / "preview" / "index.html").read_text(encoding="utf-8")
    assert "EventSource" not in preview  # injected into responses only
    assert "EventSource" in requests.get(server, timeout=5).text
