"""The theme's script in real Chromium (issue 16 points 4 and 5): the copy button puts
the handle on the clipboard, the "Follow from your server" form goes to the
visitor's own server's remote-follow page (and nowhere else), the members directory
narrows by interest, and a handle never wraps inside a word on a 360 px phone.

The example site is built by the real build and served on loopback; Debian's
Chromium is driven by Playwright (skips without it, fails under CI=true). Every
request that would leave loopback is caught by a route: the remote-follow target
is answered by the test, anything else fails it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from browser import chromium_browser, serve_folder
from commsite.build.run import BuildOptions, build_site

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Route

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HANDLE = "@fixers@fixers.example"
ACCT = "acct%3Afixers%40fixers.example"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("follow")
    site = work / "site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("public", ".commsite"))
    out = work / "public"
    result = build_site(BuildOptions(root=site, output=out, cache=False, jobs=1), now=NOW)
    assert result.ok, [d.format() for d in result.diagnostics]
    with serve_folder(out) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_browser() as launched:
        yield launched


class Outside:
    """Requests that would leave loopback: `answered` the ones the test expects
    (fulfilled with a small page), `refused` every other one (aborted)."""

    def __init__(self, context: BrowserContext, expected_host: str | None = None) -> None:
        self.answered: list[str] = []
        self.refused: list[str] = []
        self.expected_host = expected_host
        context.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith("http://127.0.0.1:"):
            route.continue_()
        elif self.expected_host is not None and urlsplit(url).netloc == self.expected_host:
            self.answered.append(url)
            route.fulfill(status=200, content_type="text/html", body="<title>remote</title>")
        else:
            self.refused.append(url)
            route.abort()


def _context(browser: Browser, **options: object) -> BrowserContext:
    return browser.new_context(viewport=PHONE, **options)  # type: ignore[arg-type]


# --- copy the handle -------------------------------------------------------------------


def test_the_copy_button_puts_the_handle_on_the_clipboard(base: str, browser: Browser) -> None:
    context = _context(browser, permissions=["clipboard-read", "clipboard-write"])
    outside = Outside(context)
    try:
        page = context.new_page()
        page.goto(base)
        box = page.locator(".follow-box")
        button = box.get_by_role("button", name="Copy the handle")
        button.wait_for(state="visible")
        # Keyboard reachable: focus it and press Enter.
        button.focus()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => [...document.querySelectorAll('[role=status]')]"
            ".some(e => e.textContent === 'Copied')"
        )
        assert page.evaluate("navigator.clipboard.readText()") == HANDLE
        # The footer's button copies the same handle, on every page.
        page.goto(base + "rules/")
        page.evaluate("navigator.clipboard.writeText('something else')")
        page.locator(".site-footer").get_by_role("button", name="Copy the handle").click()
        page.wait_for_function("() => document.querySelector('.copy-button--done') !== null")
        assert page.evaluate("navigator.clipboard.readText()") == HANDLE
    finally:
        context.close()
    assert outside.refused == []


def test_without_a_clipboard_or_javascript_there_is_no_button(base: str, browser: Browser) -> None:
    context = _context(browser)
    context.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    try:
        page = context.new_page()
        page.goto(base)
        page.wait_for_load_state("load")
        assert page.locator("button[data-copy]").count() == 2
        assert page.locator("button[data-copy]:visible").count() == 0
        assert page.locator("form[data-remote-follow]").is_visible()  # (it needs no clipboard)
    finally:
        context.close()
    context = _context(browser, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(base)
        assert page.locator("button[data-copy]:visible").count() == 0
        assert not page.locator("form[data-remote-follow]").is_visible()
        assert page.get_by_text("Search for our handle in your Mastodon app").is_visible()
        assert page.locator(".follow-box code.handle").inner_text() == HANDLE
    finally:
        context.close()


# --- follow from your server -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "host"),
    [
        ("mastodon.social", "mastodon.social"),
        ("  @me@Mastodon.Social ", "mastodon.social"),
        ("https://social.example:8443/@me", "social.example:8443"),
        ("social.example:8443", "social.example:8443"),
    ],
)
def test_the_follow_form_goes_to_the_visitors_server(
    base: str, browser: Browser, typed: str, host: str
) -> None:
    context = _context(browser)
    outside = Outside(context, expected_host=host)
    try:
        page = context.new_page()
        page.goto(base)
        field = page.get_by_label("Your server or your handle")
        field.fill(typed)
        with page.expect_navigation(url=f"https://{host}/**"):
            page.get_by_role("button", name="Follow", exact=True).click()
    finally:
        context.close()
    assert outside.refused == []
    assert len(outside.answered) == 1
    target = urlsplit(outside.answered[0])
    assert (target.scheme, target.netloc, target.path) == ("https", host, "/authorize_interaction")
    assert target.query == f"uri={ACCT}"
    assert parse_qs(target.query) == {"uri": [f"acct:{HANDLE[1:]}"]}


HOSTILE = [
    "",
    "   ",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)//mastodon.social",
    "javascript:alert(1)@mastodon.social",
    "data:text/html,<script>alert(1)</script>",
    "ftp://mastodon.social",
    "https://user:secret@mastodon.social",
    "localhost",
    "localhost:3000",
    "192.168.1.1",
    "[::1]",
    "mastodon..social",
    "-bad-.example",
    "<script>alert(1)</script>",
    "mastodon.social:99999",
    "a" * 64 + ".example",
]


def test_the_follow_form_refuses_what_is_not_a_server(base: str, browser: Browser) -> None:
    context = _context(browser)
    outside = Outside(context)
    try:
        page = context.new_page()
        page.goto(base)
        field = page.get_by_label("Your server or your handle")
        follow = page.get_by_role("button", name="Follow", exact=True)
        for typed in HOSTILE:
            field.fill(typed)
            follow.click()
            error = page.locator("#remote-follow-error")
            assert "does not look like a server" in error.inner_text(), typed
            assert field.get_attribute("aria-invalid") == "true", typed
            assert page.url == base, typed
            field.fill("x")  # typing again clears the error
            assert error.inner_text() == "" and field.get_attribute("aria-invalid") is None
        # The same rules, asked directly: no host for any hostile input, and the URL
        # built only from a checked host.
        hosts = page.evaluate("list => list.map(window.commsiteFollow.instanceHost)", HOSTILE)
        assert hosts == [None] * len(HOSTILE)
        built = page.evaluate(
            "() => [window.commsiteFollow.followUrl('evil.example/x?', '@a@b.example'),"
            " window.commsiteFollow.followUrl('ok.example', '@a@b.example'),"
            " window.commsiteFollow.followUrl('Ok.Example', 'not a handle')]"
        )
        assert built == [
            None,
            "https://ok.example/authorize_interaction?uri=acct%3Aa%40b.example",
            None,
        ]
        # Names in other scripts go out as their ASCII (punycode) form.
        assert page.evaluate("window.commsiteFollow.instanceHost('Bücher.example')") == (
            "xn--bcher-kva.example"
        )
    finally:
        context.close()
    assert outside.refused == []


# --- the members directory's filter ------------------------------------------------------


def _visible_cards(page: Page) -> list[str]:
    return page.locator("#member-cards .member-card:visible .card__title a").all_inner_texts()


def test_the_interest_filter_narrows_the_directory(base: str, browser: Browser) -> None:
    context = _context(browser)
    try:
        page = context.new_page()
        page.goto(base + "members/")
        everyone = _visible_cards(page)
        assert len(everyone) == 13
        choose = page.get_by_label("Show only people into")
        choose.select_option(label="bicycles")
        status = page.locator(".member-filter__count")
        assert status.get_attribute("role") == "status"
        page.wait_for_function(
            "() => document.querySelector('.member-filter__count').textContent !== ''"
        )
        shown = _visible_cards(page)
        # The same people as the interest's own page (what works without the script).
        page2 = context.new_page()
        page2.goto(base + "interests/bicycles/")
        into = page2.locator(".member-card .card__title a").all_inner_texts()
        assert sorted(shown) == sorted(into) and 0 < len(shown) < len(everyone)
        assert status.inner_text() == f"{len(shown)} people into bicycles shown"
        assert page.url.endswith("/members/?interest=bicycles")
        # Fits a 360 px phone, filtered or not.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # The address keeps the choice: a reload (or a shared link) shows the same.
        page.reload()
        assert sorted(_visible_cards(page)) == sorted(into)
        choose = page.get_by_label("Show only people into")
        choose.select_option(label="any interest")
        assert len(_visible_cards(page)) == len(everyone)
        assert status.inner_text() == f"{len(everyone)} people shown"
        assert page.url.endswith("/members/")
    finally:
        context.close()


# --- the handle on a phone -------------------------------------------------------------

PART_LINES = """() => [...document.querySelectorAll('.handle__part')]
  .filter(e => e.getClientRects().length > 0)
  .map(e => {
    const range = document.createRange();
    range.selectNodeContents(e);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    return [e.textContent, lines.size];
  })"""


@pytest.mark.parametrize(
    "path", ["", "members/ada-okafor/", "welcome/", "stories/plans-for-the-winter/"]
)
def test_a_handle_never_wraps_inside_a_word_on_a_phone(
    base: str, browser: Browser, path: str
) -> None:
    context = _context(browser)
    try:
        page = context.new_page()
        page.goto(base + path)
        parts = page.evaluate(PART_LINES)
        assert parts, path
        broken = [text for text, lines in parts if lines != 1]
        assert broken == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    finally:
        context.close()
