"""Search on the built example site, in a real browser.

`commsite serve` builds the example site (running Pagefind after the build)
and serves it on loopback; Debian's Chromium, driven by Playwright, opens
/search/, types a word that only one story's body has, and finds that story;
then the kind filter narrows a broad search to events, also for a search
opened from a link (`/search/?q=`) whichever filter loads last. Without
JavaScript the page still offers the tag and interest indexes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from browser import chromium_browser, commsite_serve, serve_folder
from needs import require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
# In the body of one story only (content/stories/2025-10-04-how-we-run-a-repair-cafe.md).
BODY_WORD = "scenes"  # ("behind the scenes")
STORY_URL = "/stories/how-we-run-a-repair-cafe/"
RESULT = ".pagefind-ui__result-link"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from commsite.search.tool import pagefind_binary

    require(pagefind_binary() is not None, "Pagefind is not installed (pip install pagefind-bin)")
    site = tmp_path_factory.mktemp("search") / "site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("public", ".commsite"))
    return site


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    with commsite_serve(site) as base:  # (its first build ran Pagefind)
        yield base.rstrip("/")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_browser() as launched:
        yield launched


def _search(page: Page, base: str, query: str) -> list[str]:
    """Type `query` in the search box; the result links' paths, once all shown."""
    page.goto(base + "/search/")
    page.wait_for_selector("#search[data-search=ready]", timeout=10_000)
    page.fill(".pagefind-ui__search-input", query)
    return _results(page, query)


def _results(page: Page, query: str) -> list[str]:
    """The result links' paths, once every result shown has loaded (all of
    them: "Load more results" is pressed until it is gone)."""
    settled = """(q) => {
      const m = document.querySelector('.pagefind-ui__message');
      const shown = document.querySelectorAll('.pagefind-ui__result').length;
      if (m === null || !m.textContent.includes(q)) return false;
      const total = /^No results/.test(m.textContent) ? 0 : parseInt(m.textContent, 10);
      const links = document.querySelectorAll('.pagefind-ui__result-link').length;
      return links === shown && (total === 0 ? shown === 0 : shown > 0);
    }"""
    page.wait_for_function(settled, arg=query, timeout=10_000)
    while page.query_selector(".pagefind-ui__button"):  # "Load more results"
        page.click(".pagefind-ui__button")
        page.wait_for_function(settled, arg=query, timeout=10_000)
    hrefs = page.eval_on_selector_all(RESULT, "links => links.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if h]


def test_a_word_from_a_story_body_finds_the_story(server: str, browser: Browser) -> None:
    page = browser.new_page()
    found = _search(page, server, BODY_WORD)
    assert found == [STORY_URL]
    page.click(f"{RESULT}[href='{STORY_URL}']")
    page.wait_for_url(server + STORY_URL)
    assert "How we run a repair café" in page.inner_text("h1")


def test_the_kind_filter_narrows_results_to_events(server: str, browser: Browser) -> None:
    page = browser.new_page()
    everything = _search(page, server, "repair")
    kinds = {href.split("/")[1] for href in everything}
    assert {"stories", "events"} <= kinds, everything
    before = page.inner_text(".pagefind-ui__message")
    # (the filters come from their own chunks, which may load after the results)
    kind = "input.pagefind-ui__filter-checkbox[name='kind'][value='Event']"
    page.wait_for_selector(kind, state="attached", timeout=30_000)
    page.check(kind)
    page.wait_for_function(
        "(b) => document.querySelector('.pagefind-ui__message').textContent !== b",
        arg=before,
        timeout=10_000,
    )
    events = _results(page, "repair")
    assert events, "no events left"
    assert len(events) < len(everything)
    assert all(href.startswith("/events/") for href in events), events
    assert set(events) == {h for h in everything if h.startswith("/events/")}


def test_a_search_opened_from_a_link_shows_the_kind_filter_whichever_filter_loads_last(
    site: Path, server: str, browser: Browser
) -> None:
    """Pagefind UI shows the filters its first search counted, and a search counts
    only the filter chunks loaded by then: `?q=` once searched at once, and with the
    kind filter's chunk slow the kind filter never showed. Each chunk in turn is
    held back by a second."""
    preview = site / ".commsite" / "preview"  # (what serve built, Pagefind's bundle too)
    chunks = sorted((preview / "pagefind" / "filter").glob("*.pf_filter"))
    assert len(chunks) == 3  # kind, tag, interest
    for chunk in chunks:
        slow = {f"/pagefind/filter/{chunk.name}": 1.5}
        with serve_folder(preview, delays=slow) as base:
            context = browser.new_context()
            page = context.new_page()
            page.goto(base + "search/?q=repair")
            page.wait_for_selector(RESULT, timeout=10_000)
            boxes = "input.pagefind-ui__filter-checkbox[name='kind']"
            kinds = page.eval_on_selector_all(boxes, "boxes => boxes.map(b => b.value)")
            context.close()
        assert sorted(kinds) == ["Event", "Member", "Story"], chunk.name


def test_search_page_at_360_px_in_dark_mode(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740}, color_scheme="dark")
    _search(page, server, "bike")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the search page scrolls sideways at 360 px ({width} px wide)"
    background = page.evaluate(
        "getComputedStyle(document.querySelector('.pagefind-ui__search-input')).backgroundColor"
    )
    assert background == "rgb(38, 32, 27)"  # the theme's dark --surface


def test_without_javascript_the_page_offers_the_indexes(server: str, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/search/")
    assert page.is_visible("#search-note")
    assert "needs JavaScript" in page.inner_text("#search-note")
    links = page.eval_on_selector_all(
        ".search__browse a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert links == ["/tags/", "/interests/"]
    context.close()
