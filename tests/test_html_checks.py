"""The built HTML passes the Nu HTML Checker and axe-core, in light and dark.

Two outputs are checked: the bundled example site built by the real build
(`commsite.build.run.build_site`), and the hand-made sample site rendered by
the theme directly, which adds what the example lacks (drafts, replies three
deep, odd characters).

Needs Java (vnu-jar), Node's axe-core and Debian's Chromium driven by
playwright: without them the tests skip, except on CI where they fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import needs
import sample_site
from browser import chromium_browser, serve_folder
from commsite import urls
from commsite.build.run import BuildOptions, build_site
from commsite.render.pages import plan_pages
from commsite.render.renderer import Renderer
from commsite.render.theme import generated_assets, resolve_theme, theme_assets

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def example_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("example")
    site = work / "site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("public", ".commsite"))
    out = work / "public"
    result = build_site(BuildOptions(root=site, output=out, cache=False, jobs=1), now=NOW)
    assert result.ok, [d.format() for d in result.diagnostics]
    return out


@pytest.fixture(scope="module")
def sample_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    site = sample_site.site()
    theme = resolve_theme(out / "no-site", site.config)
    renderer = Renderer(theme)
    for spec in plan_pages(site):
        target = out / urls.output_file(spec.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(renderer.render(spec))
    for path, data in generated_assets().items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    for path, source in theme_assets(theme).items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, out / path)
    return out


def html_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.html"))


def test_nu_html_checker_finds_no_errors(example_output: Path, sample_output: Path) -> None:
    java = needs.executable("java")
    jar = needs.node_package("vnu-jar") / "build" / "dist" / "vnu.jar"
    files = html_files(example_output, sample_output)
    assert len(files) > 60
    proc = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(proc.stderr or proc.stdout or '{"messages": []}')
    errors = [
        f"{m.get('url', '?')}:{m.get('lastLine', '?')}: {m.get('message')}"
        for m in report["messages"]
        if m.get("type") in ("error", "non-document-error")
    ]
    assert errors == []


@pytest.fixture(scope="module")
def servers(example_output: Path, sample_output: Path) -> Iterator[dict[str, str]]:
    """Each output over a real HTTP server on loopback: name -> base URL."""
    with serve_folder(example_output) as example, serve_folder(sample_output) as sample:
        yield {"example": example, "sample": sample}


AXE_PAGES = [
    ("example", ""),
    ("example", "stories/spring-repair-day-recap/"),
    ("example", "stories/fixing-a-fan-controller-with-an-arduino/"),  # highlighted code
    ("example", "members/maggie-ford/"),
    ("example", "members/ada-okafor/"),  # what she said on the site
    ("example", "stories/plans-for-the-winter/"),  # members' replies, nested and edited
    ("example", "welcome/"),  # a member's introduction and a newcomer's
    ("example", "events/spring-repair-day/"),
    ("example", "events/spring-repair-day-2027/"),  # who is going, how to answer
    ("example", "events/bike-maintenance-workshop/"),  # full: a waiting list
    ("example", "stories/tea-and-soldering-recap/"),  # who was there, who liked it
    ("example", "events/"),
    ("example", "stories/how-to-true-a-bicycle-wheel/"),  # responsive hero image
    ("example", "members/bea-lindqvist/"),  # a photo avatar with its variants
    ("example", "rules/"),
    ("example", "members/"),  # the interest links and filter (shown by the script)
    ("example", "interests/"),
    ("example", "interests/bicycles/"),
    ("example", "tags/bicycles/"),  # the members into it
    ("sample", ""),  # who is new, the latest conversations, the follow form
    ("sample", "stories/tricky/"),
    ("sample", "stories/draft-idea/"),
    ("sample", "welcome/"),
    ("sample", "members/ada/"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(servers: dict[str, str], scheme: str) -> None:
    axe = needs.node_package("axe-core") / "axe.min.js"
    failures: dict[str, object] = {}
    outside: list[str] = []
    with chromium_browser() as browser:
        page = browser.new_page()
        page.emulate_media(color_scheme=scheme)
        page.on(
            "request",
            lambda r: None if r.url.startswith("http://127.0.0.1:") else outside.append(r.url),
        )
        for site, path in AXE_PAGES:
            response = page.goto(servers[site] + path)
            assert response is not None and response.ok, (site, path)
            page.add_script_tag(path=str(axe))
            result = page.evaluate("async () => await axe.run()")
            if result["violations"]:
                failures[f"{site}:/{path}"] = [
                    (v["id"], v["help"], [n["html"] for n in v["nodes"]][:3])
                    for v in result["violations"]
                ]
    assert failures == {}
    assert outside == []  # no requests to other hosts


RSVP_PAGES = [
    "events/spring-repair-day-2027/",
    "events/bike-maintenance-workshop/",
    "stories/tea-and-soldering-recap/",
    "events/",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_rsvps_fit_a_phone(servers: dict[str, str], scheme: str) -> None:
    """At 360 px the RSVP sections (faces, long addresses to search for) never
    make the page scroll sideways, and every face sits inside the screen."""
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.emulate_media(color_scheme=scheme)
        for path in RSVP_PAGES:
            page.goto(servers["example"] + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
            boxes = [
                e.bounding_box()
                for e in page.query_selector_all(".attendee, .rsvp-how, .event-card__going")
            ]
            assert boxes, path
            assert all(b is not None and b["x"] >= 0 and b["x"] + b["width"] <= 360 for b in boxes)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_in_search_results(servers: dict[str, str], scheme: str) -> None:
    """The search page as a visitor uses it: results shown, filters open, on a
    phone's width (Pagefind's search box, in the theme's colours)."""
    axe = needs.node_package("axe-core") / "axe.min.js"
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.emulate_media(color_scheme=scheme)
        page.goto(servers["example"] + "search/?q=repair")  # (as a link to a search opens it)
        page.wait_for_selector(".pagefind-ui__result-link", timeout=10_000)
        # The filters come from their own chunks, which may load after the results
        # (and their blocks are made afresh then): open them once they are there.
        kind = "input.pagefind-ui__filter-checkbox[name='kind'][value='Event']"
        page.wait_for_selector(kind, state="attached", timeout=30_000)
        for group in page.query_selector_all("details.pagefind-ui__filter-block"):
            group.evaluate("d => { d.open = true; }")
        page.check(kind, timeout=10_000)
        page.wait_for_selector(".pagefind-ui__result-link[href^='/events/']")
        page.add_script_tag(path=str(axe))
        result = page.evaluate("async () => await axe.run()")
        width = page.evaluate("document.documentElement.scrollWidth")
    violations = [
        (v["id"], v["help"], [n["html"] for n in v["nodes"]][:3]) for v in result["violations"]
    ]
    assert violations == []
    assert width <= 360
