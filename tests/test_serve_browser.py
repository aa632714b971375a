"""`commsite serve` in a real browser: edits appear by themselves, errors show in the page.

Runs the real CLI on loopback and drives Debian's Chromium with Playwright.
A tab reloads only when the build changed its page or something every page
loads (a stylesheet, script or image); the other tabs keep their state, which
the tests see through a marker set on `window` (a reload loses it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from browser import chromium_browser, commsite_serve
from editor_save import save
from needs import node_package

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
STORY = "content/stories/2025-09-06-welcome-to-fixers-of-eastfield.md"
STORY_URL = "stories/welcome-to-fixers-of-eastfield/"
# A second story, whose page shows nothing of the first one's body.
OTHER = "content/stories/2025-10-04-how-we-run-a-repair-cafe.md"
OTHER_URL = "stories/how-we-run-a-repair-cafe/"
EVENTS_PATH = "/__commsite/events"
MARKER = "window.__commsiteMarker"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("public", ".commsite"))
    return dest


@pytest.fixture
def server(site: Path) -> Iterator[str]:
    with commsite_serve(site) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright (skips, or fails under CI=true, without it)."""
    with chromium_browser() as launched:
        yield launched


def test_edits_errors_and_recovery_show_up_in_the_open_page(
    site: Path, server: str, browser: Browser
) -> None:
    story = site / STORY
    original = story.read_text(encoding="utf-8")
    page = browser.new_page()
    page.goto(server + STORY_URL)
    page.wait_for_selector("text=Hello, neighbours!")
    page.wait_for_function("document.readyState === 'complete'")
    time.sleep(0.3)  # let the reload stream connect

    # 1. An edit shows up by itself within 2 seconds.
    save(story, original.replace("Hello, neighbours!", "Hello, live preview!"))
    page.wait_for_selector("text=Hello, live preview!", timeout=2000)

    # 2. Broken front matter replaces the page with the error, file and line.
    broken = original.replace("date: 2025-09-06", "date: [unclosed", 1)
    save(story, broken)
    page.wait_for_selector("#commsite-diagnostics", timeout=5000)
    errors = page.inner_text("#commsite-diagnostics")
    assert f"{STORY}:3: error: invalid YAML: '[' is never closed" in errors, errors

    # 3. Fixing the file brings the page back by itself.
    save(story, original)
    page.wait_for_selector("text=Hello, neighbours!", timeout=5000)
    assert page.query_selector("#commsite-diagnostics") is None


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


# -- which tabs reload ----------------------------------------------------------


def _open(browser: Browser, url: str, documents: list[str]) -> Page:
    """A tab on `url` whose reload stream is connected, with the marker set.

    Every document request the tab makes from now on is appended to `documents`.
    """
    page = browser.new_page()
    with page.expect_response(lambda r: EVENTS_PATH in r.url):
        page.goto(url)
    page.wait_for_function("document.readyState === 'complete'")
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    page.evaluate(f"{MARKER} = 1")
    return page


def _last_build(site: Path) -> dict[str, list[str]]:
    path = site / ".commsite" / "build-cache" / "last-build.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_an_edit_reloads_only_the_tab_whose_page_changed(
    site: Path, server: str, browser: Browser
) -> None:
    story, other = site / STORY, site / OTHER
    a_documents: list[str] = []
    b_documents: list[str] = []
    tab_a = _open(browser, server + OTHER_URL, a_documents)
    tab_b = _open(browser, server + STORY_URL, b_documents)

    # A paragraph at the end of story B changes B's page (and its
    # federation object and the feeds), not A's page nor any list.
    # (B's reloaded page connects its stream before the next save: a
    # stream that opens after a build cannot know what it changed.)
    with tab_b.expect_response(lambda r: EVENTS_PATH in r.url):
        save(story, story.read_text(encoding="utf-8") + "\nA closing paragraph, live.\n")
    tab_b.wait_for_selector("text=A closing paragraph, live.", timeout=10000)
    written = _last_build(site)["written"]
    assert "stories/welcome-to-fixers-of-eastfield/index.html" in written, written
    assert "stories/how-we-run-a-repair-cafe/index.html" not in written, written
    assert b_documents == [server + STORY_URL]
    assert tab_b.evaluate(MARKER) is None
    assert tab_a.evaluate(MARKER) == 1

    # A was told of that build too (it comes before the next one on the
    # same stream): when A's own edit arrives, A reloads once, for it.
    text = other.read_text(encoding="utf-8")
    save(other, text.replace("People keep asking", "Folk keep asking", 1))
    tab_a.wait_for_selector("text=Folk keep asking", timeout=10000)
    assert a_documents == [server + OTHER_URL], "tab A reloaded for story B's edit"
    assert tab_a.evaluate(MARKER) is None
    assert b_documents == [server + STORY_URL], "tab B reloaded for story A's edit"


def test_a_new_story_reloads_the_pages_it_appears_on(
    site: Path, server: str, browser: Browser
) -> None:
    new_url = "stories/a-brand-new-story/"
    documents: list[str] = []
    home = _open(browser, server, documents)
    missing = _open(browser, server + new_url, documents)  # not found, for now
    tab_a = _open(browser, server + OTHER_URL, documents)
    assert missing.query_selector("text=Fresh off the press.") is None

    save(
        site / "content" / "stories" / "2026-11-17-a-brand-new-story.md",
        "---\ntitle: A brand new story\ndate: 2026-11-17\nauthor: ada-okafor\n---\n"
        "Fresh off the press.\n",
    )
    missing.wait_for_selector("text=Fresh off the press.", timeout=10000)
    home.wait_for_selector("text=A brand new story", timeout=10000)
    assert missing.evaluate(MARKER) is None and home.evaluate(MARKER) is None
    written = _last_build(site)["written"]
    assert "stories/how-we-run-a-repair-cafe/index.html" not in written, written
    assert tab_a.evaluate(MARKER) == 1
    assert sorted(documents) == sorted([server, server + new_url])


def _served_build(url: str) -> str:
    """The build id the server stamps on the page at `url` now."""
    html = requests.get(url, timeout=5).text
    return str(json.loads(html.split("const served = ", 1)[1].split(";", 1)[0])["id"])


def test_a_page_whose_stream_opens_after_a_build_keeps_itself(
    site: Path, server: str, browser: Browser
) -> None:
    """A page still loading when a build finishes hears what that build changed
    (its stream names the page's build), so it does not reload for nothing."""
    story, other = site / STORY, site / OTHER
    page = browser.new_page()
    documents: list[str] = []
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    held: list[str] = []

    def build_before_the_stream_opens(route: Route) -> None:
        if not held:
            before = _served_build(server + OTHER_URL)
            save(story, story.read_text(encoding="utf-8") + "\nWritten while A loads.\n")
            deadline = time.monotonic() + 10
            while _served_build(server + OTHER_URL) == before:
                assert time.monotonic() < deadline, "the edit to story B was never built"
                time.sleep(0.05)
            held.append(route.request.url)
        route.continue_()

    page.route("**" + EVENTS_PATH + "*", build_before_the_stream_opens)
    with page.expect_response(lambda r: EVENTS_PATH in r.url):
        page.goto(server + OTHER_URL)
    assert held and "?since=" in held[0]
    written = _last_build(site)["written"]
    assert "stories/welcome-to-fixers-of-eastfield/index.html" in written, written

    # A's own edit reaches it on the same stream, after that first event: one
    # reload in all means the first event kept the page.
    text = other.read_text(encoding="utf-8")
    save(other, text.replace("People keep asking", "Folk keep asking", 1))
    page.wait_for_selector("text=Folk keep asking", timeout=10000)
    assert documents == [server + OTHER_URL] * 2


def test_a_stylesheet_change_reloads_every_tab(site: Path, server: str, browser: Browser) -> None:
    documents: list[str] = []
    tabs = [_open(browser, server + url, documents) for url in (OTHER_URL, STORY_URL)]
    save(site / "static" / "extra.css", "p { letter-spacing: 0.01em; }\n")
    for tab in tabs:
        tab.wait_for_function(f"{MARKER} === undefined", timeout=10000)
        tab.wait_for_load_state("load")
    assert sorted(documents) == sorted([server + OTHER_URL, server + STORY_URL])
    assert requests.get(server + "extra.css", timeout=5).text.startswith("p {")


def test_a_failed_build_shows_in_every_tab_and_recovers(
    site: Path, server: str, browser: Browser
) -> None:
    story = site / STORY
    original = story.read_text(encoding="utf-8")
    documents: list[str] = []
    tab_a = _open(browser, server + OTHER_URL, documents)

    # Story B's broken front matter: tab A's page did not change, but
    # the site did not build, so A shows the errors.
    save(story, original.replace("date: 2025-09-06", "date: [unclosed", 1))
    tab_a.wait_for_selector("#commsite-diagnostics", timeout=10000)
    assert f"{STORY}:3: error:" in tab_a.inner_text("#commsite-diagnostics")

    # Fixing B brings A back, though A's page is the same as before.
    save(story, original)
    tab_a.wait_for_selector("text=People keep asking", timeout=10000)
    assert tab_a.query_selector("#commsite-diagnostics") is None


# -- the warnings banner ----------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_warning_shows_as_a_dismissible_banner(
    site: Path, server: str, browser: Browser, scheme: str
) -> None:
    """`tags:` misspelt `tag:` in a story: every open page shows the warning
    `commsite build` gives, in a banner that passes axe-core, covers nothing on
    a phone, and can be dismissed with the keyboard until the warnings change."""
    story = site / STORY
    original = story.read_text(encoding="utf-8")
    axe = node_package("axe-core") / "axe.min.js"
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.emulate_media(color_scheme=scheme)
    with page.expect_response(lambda r: EVENTS_PATH in r.url):
        page.goto(server + OTHER_URL)  # a page the story is not on
    assert page.query_selector("#commsite-warnings") is None

    save(story, original.replace("tags: [news]", "tag: [news]", 1))
    banner = page.wait_for_selector("#commsite-warnings", timeout=10000)
    assert banner is not None
    assert banner.get_attribute("role") == "status"
    assert page.inner_text("#commsite-warnings li") == (
        f"{STORY}:5: warning: unknown key 'tag'; did you mean 'tags'?"
    )
    # In the page's flow, above its header: it pushes the page down, covers nothing.
    header = page.locator(".site-header").bounding_box()
    box = page.locator("#commsite-preview").bounding_box()
    assert header is not None and box is not None
    assert box["y"] + box["height"] <= header["y"] + 0.5
    assert box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # axe-core on the whole page: nothing in the banner, and nothing it could
    # break in the page's structure (landmarks, headings). (On a 360 px screen
    # the story's own wide table is scrollable-region-focusable, with or
    # without the banner; the built-site axe test runs at desktop width.)
    page.add_script_tag(path=str(axe))
    result = page.evaluate("async () => await axe.run()")
    ours = [
        (v["id"], n["html"][:80])
        for v in result["violations"]
        for n in v["nodes"]
        if "commsite" in " ".join(map(str, n["target"]))
        or v["id"].startswith(("landmark", "region", "heading", "page-has"))
    ]
    assert ours == []

    # Dismissed with the keyboard; it stays dismissed on the next page load.
    page.focus("#commsite-warnings button")
    page.keyboard.press("Enter")
    assert not page.is_visible("#commsite-warnings")
    page.reload()
    page.wait_for_selector("#commsite-preview .commsite-preview__mark")
    assert not page.is_visible("#commsite-warnings")

    # Fixing it removes the banner from the open page by itself.
    with page.expect_navigation(timeout=10000):
        save(story, original)
    page.wait_for_load_state("load")
    assert page.query_selector("#commsite-warnings") is None
