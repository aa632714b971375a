"""`commsite serve` tells the truth: the warnings `commsite build` gives reach the
terminal (when they change) and the pages, the pages show the site's real
`@handle@host`, and an input folder made while it runs is watched.
Real CLI process or real Preview, real watcher, real HTTP on loopback."""

from __future__ import annotations

import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from html import escape
from pathlib import Path

import pytest
import requests

from cli_process import free_port, start, stop
from commsite.errors import Diagnostic, Severity
from commsite.serve.banner import (
    banner_html,
    inject_banner,
    warning_news,
    warnings_key,
    warnings_of,
)
from commsite.serve.preview import Preview, PreviewOptions
from commsite.serve.watch import SiteWatcher
from editor_save import save

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
STORY = "content/stories/2025-09-06-welcome-to-fixers-of-eastfield.md"
STORY_URL = "stories/welcome-to-fixers-of-eastfield/"
TAG_WARNING = f"{STORY}:5: warning: unknown key 'tag'; did you mean 'tags'?"
ZONE_WARNING = "commsite.yaml:9: warning: unknown key 'timzone'; did you mean 'timezone'?"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("public", ".commsite"))
    return dest


class _Output:
    """The lines a running process prints, read in the background."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._stdout = process.stdout
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, predicate: str) -> list[str]:
        """Every line up to and including the first one containing `predicate`."""
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while not seen or predicate not in seen[-1]:
            try:
                seen.append(self.lines.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no line with {predicate!r} after {seen}") from None
        return seen


def test_the_terminal_shows_warnings_when_they_change(site: Path) -> None:
    story = site / STORY
    original = story.read_text(encoding="utf-8")
    config = site / "commsite.yaml"
    port = free_port()
    process, _ = start(["serve", str(site), "--port", str(port)], "Serving ")
    output = _Output(process)
    try:
        # It answers once it watches (the watcher starts before the server loop).
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        # `tags:` misspelt: the warning `commsite build` gives, then a count.
        save(story, original.replace("tags: [news]", "tag: [news]", 1))
        lines = output.until("warning")
        lines += output.until("the pages show them")
        assert TAG_WARNING in lines, lines
        assert lines[-1] == "1 warning (1 new); the pages show them until fixed"

        # A save that changes no warning prints none again.
        save(story, story.read_text(encoding="utf-8") + "\nAnother line.\n")
        lines = output.until(": rendered ")
        # A second, different warning: only the new one is printed.
        config.write_text(
            config.read_text(encoding="utf-8").replace("timezone:", "timzone:", 1),
            encoding="utf-8",
        )
        lines += output.until("the pages show them")
        assert [line for line in lines if "warning" in line] == [
            ZONE_WARNING,
            "2 warnings (1 new); the pages show them until fixed",
        ], lines

        # Both fixed: one line says so.
        config.write_text(
            config.read_text(encoding="utf-8").replace("timzone:", "timezone:", 1),
            encoding="utf-8",
        )
        assert output.until("fixed)")[-1] == "1 warning (1 fixed); the pages show them until fixed"
        save(story, original)
        assert output.until("warnings cleared")[-1] == "warnings cleared: the build has none now"
    finally:
        stop(process, signal.SIGINT)


def _get(url: str) -> str:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, url
    return response.text


def _wait_for(url: str, text: str) -> str:
    deadline = time.monotonic() + 15
    while text not in (page := requests.get(url, timeout=5).text):
        assert time.monotonic() < deadline, f"{text!r} never showed at {url}"
        time.sleep(0.05)
    return page


def _text(html: str) -> str:
    """The page's text: a handle is marked up in parts (`@user<wbr>@host`)."""
    return re.sub(r"<[^>]*>", "", html)


def test_pages_show_the_real_handle_and_a_preview_mark(site: Path) -> None:
    preview = Preview(PreviewOptions(root=site, port=0), echo=lambda line: None)
    try:
        assert preview.build_all().ok
        preview.start_in_thread()
        home = _get(preview.url)
        local = preview.url.removeprefix("http://").rstrip("/")
        # The follow box and the footer: the handle people will search for.
        assert _text(home).count("@fixers@fixers.example") >= 2, home
        assert f"@fixers@{local}" not in _text(home)
        # The copy buttons and the follow form use it too.
        assert home.count('data-copy="@fixers@fixers.example"') == 2
        assert 'data-handle="@fixers@fixers.example"' in home
        assert f"@fixers@{local}" not in home
        assert "this site will live at <code>https://fixers.example/</code>" in home
        # Links stay on the preview, so they work.
        assert f'href="{preview.url}stories/' in home or 'href="/stories/' in home
        assert 'href="https://fixers.example/stories/' not in home
        # The welcome page tells people which handle to mention.
        assert "@fixers@fixers.example" in _text(_get(preview.url + "welcome/"))
        # The preview's own WebFinger still answers for its own address.
        finger = requests.get(
            preview.url + ".well-known/webfinger",
            params={"resource": f"acct:fixers@{local}"},
            timeout=10,
        )
        assert finger.status_code == 200
    finally:
        preview.server.shutdown()
        preview.close()
    # The mark and the warnings exist in responses only, never in the files.
    stored = (site / ".commsite" / "preview" / "index.html").read_text(encoding="utf-8")
    assert "commsite-preview" not in stored
    assert "@fixers@fixers.example" in _text(stored)


def test_a_warning_shows_at_the_top_of_every_page_until_fixed(site: Path) -> None:
    story = site / STORY
    original = story.read_text(encoding="utf-8")
    preview = Preview(PreviewOptions(root=site, port=0), echo=lambda line: None)
    try:
        assert preview.build_all().ok
        preview.start_in_thread()
        assert 'id="commsite-warnings"' not in _get(preview.url)
        save(story, original.replace("tags: [news]", "tag: [news]", 1))
        page = _wait_for(preview.url + "events/", escape(TAG_WARNING))  # without the story
        body = page.index("<body")
        assert body < page.index('id="commsite-preview"') < page.index('class="site-header"')
        missing = requests.get(preview.url + "no/such/page/", timeout=10)
        assert missing.status_code == 404 and escape(TAG_WARNING) in missing.text
        save(story, original)
        deadline = time.monotonic() + 15
        while 'id="commsite-warnings"' in _get(preview.url + "events/"):
            assert time.monotonic() < deadline, "the warning stayed after the fix"
            time.sleep(0.05)
    finally:
        preview.server.shutdown()
        preview.close()


def test_a_folder_made_while_serving_is_watched(site: Path) -> None:
    """interactions/ made by the first export after serve started: an edit
    inside it rebuilds the page with no other save."""
    shutil.rmtree(site / "interactions")  # (the example ships one: start as a new site does)
    lines: list[str] = []
    preview = Preview(PreviewOptions(root=site, port=0), echo=lines.append)
    try:
        assert preview.build_all().ok
        preview.start_in_thread()
        folder = site / "interactions"
        folder.mkdir()
        reactions = folder / "reactions.yaml"
        save(reactions, "stories/welcome-to-fixers-of-eastfield: {likes: 3}\n")
        _wait_for(preview.url + STORY_URL, "3 likes")
        seen = len(lines)
        save(reactions, "stories/welcome-to-fixers-of-eastfield: {likes: 7}\n")
        _wait_for(preview.url + STORY_URL, "7 likes")
    finally:
        preview.server.shutdown()
        preview.close()
    # The watcher reported the edit (not the scan that follows every rebuild).
    assert any("reactions.yaml: rendered" in line for line in lines[seen:]), lines
    assert not any("did not report" in line for line in lines[seen:]), lines


def test_the_watcher_watches_a_folder_made_after_it_started(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    bursts: queue.Queue[set[Path]] = queue.Queue()
    watcher = SiteWatcher(tmp_path, bursts.put)
    watcher.start()
    try:
        folder = tmp_path / "interactions" / "replies"
        folder.mkdir(parents=True)
        seen = bursts.get(timeout=10)
        while (tmp_path / "interactions").resolve() not in seen:
            seen |= bursts.get(timeout=10)
        reply = folder / "1.md"
        save(reply, "---\nkind: reply\n---\n")
        while reply.resolve() not in seen:
            seen |= bursts.get(timeout=10)
        # Removed and made again: the new folder is watched, not the old one.
        shutil.rmtree(tmp_path / "interactions")
        seen = set()
        folder.mkdir(parents=True)
        while (tmp_path / "interactions").resolve() not in seen:
            seen |= bursts.get(timeout=10)
        again = folder / "2.md"
        save(again, "---\nkind: reply\n---\n")
        while again.resolve() not in seen:
            seen |= bursts.get(timeout=10)
    finally:
        watcher.stop()


# -- the pure parts ---------------------------------------------------------------

A = Diagnostic("content/stories/a.md", 5, "unknown key 'tag'", Severity.WARNING)
B = Diagnostic("commsite.yaml", 9, "unknown key 'timzone'", Severity.WARNING)
ERROR = Diagnostic("content/stories/b.md", 2, "invalid YAML")


def test_warning_news_speaks_only_when_the_set_changes() -> None:
    assert warning_news((), ()) == []
    assert warning_news((A,), (A,)) == []
    assert warning_news((A,), (B, A)) == [
        "commsite.yaml:9: warning: unknown key 'timzone'",
        "2 warnings (1 new); the pages show them until fixed",
    ]
    assert warning_news((A, B), (B,)) == ["1 warning (1 fixed); the pages show them until fixed"]
    assert warning_news((A, B), ()) == ["warnings cleared: the build has none now"]
    assert warnings_of((ERROR, A, A)) == (A,)


def test_the_banner_is_empty_when_there_is_nothing_to_say() -> None:
    url = "http://127.0.0.1:8000/"
    assert banner_html((), live_url=url, preview_url=url) == b""
    assert banner_html((), live_url=None, preview_url=url) == b""
    mark = banner_html((), live_url="https://fixers.example/", preview_url=url).decode()
    assert "this site will live at <code>https://fixers.example/</code>" in mark
    assert 'id="commsite-warnings"' not in mark
    both = banner_html((A,), live_url=url, preview_url=url).decode()
    assert 'class="commsite-preview__mark"' not in both
    assert "<code>content/stories/a.md:5: warning: unknown key &#x27;tag&#x27;</code>" in both
    assert f'data-warnings="{warnings_key((A,))}"' in both
    assert warnings_key((A, B)) == warnings_key((B, A)) != warnings_key((A,))


def test_the_banner_goes_right_after_the_body_tag() -> None:
    html = b'<html><head></head><BODY class="a"><p>x</p></body></html>'
    assert inject_banner(html, b"<aside></aside>") == (
        b'<html><head></head><BODY class="a">\n<aside></aside><p>x</p></body></html>'
    )
    assert inject_banner(html, b"") == html
    assert inject_banner(b"<p>no body</p>", b"<aside></aside>") == b"<aside></aside><p>no body</p>"
