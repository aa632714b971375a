"""The health report's files: real charts, an accessible page, the command.

Charts are parsed as what they claim to be (the PNG's header, the SVG's root
element) and must be the same bytes for the same input. The page passes the
Nu HTML Checker and axe-core in light and dark, as the site's pages do
(tests/test_html_checks.py). The command runs in-process (CliRunner) and,
once, as a real process, and once with matplotlib missing.
"""

from __future__ import annotations

import html.parser
import json
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import needs
import report_fixture
from browser import chromium_browser, serve_folder
from commsite.cli import main
from commsite.report.charts import Chart, draw_charts
from commsite.report.model import HealthReport
from commsite.report.numbers import health_report
from commsite.report.output import report_json
from commsite.report.page import render_page
from commsite.report.store import read_store
from report_fixture import EPOCH, NOW, PENDING_NAME

CHART_NAMES = [
    "members-per-month",
    "replies-per-post",
    "conversation",
    "commitment",
    "first-timers",
]
ENV = {"SOURCE_DATE_EPOCH": EPOCH}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> HealthReport:
    store = report_fixture.make_store(tmp_path_factory.mktemp("store") / "commsite.sqlite3")
    return health_report(report_fixture.load(), read_store(store), now=NOW)


@pytest.fixture(scope="module")
def charts(report: HealthReport) -> tuple[Chart, ...]:
    return draw_charts(report)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_every_chart_is_a_real_png_and_svg_of_plausible_size(charts: tuple[Chart, ...]) -> None:
    assert [c.name for c in charts] == CHART_NAMES
    for chart in charts:
        assert png_size(chart.png) == (800, 450), chart.name
        assert 5_000 < len(chart.png) < 300_000, (chart.name, len(chart.png))
        root = ET.fromstring(chart.svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg", chart.name
        assert (root.get("width"), root.get("height")) == ("576pt", "324pt")
        assert root.get("viewBox") == "0 0 576 324"
        assert 5_000 < len(chart.svg) < 500_000, (chart.name, len(chart.svg))
        assert b"<script" not in chart.svg


def test_the_same_report_gives_the_same_bytes(
    report: HealthReport, charts: tuple[Chart, ...]
) -> None:
    again = draw_charts(report)
    assert [(c.svg, c.png) for c in again] == [(c.svg, c.png) for c in charts]
    assert b"<dc:date>" not in charts[0].svg  # no date in the metadata
    assert b"Software" not in charts[0].png[:200]


def test_the_alt_texts_state_the_key_numbers(charts: tuple[Chart, ...]) -> None:
    alt = {c.name: c.alt for c in charts}
    assert alt["conversation"] == (
        "Bar chart of 14 replies, 2025-05 to 2026-04: 2 member to member (14%), 5 to the"
        " community's own posts, 6 other, 1 by the community account."
    )
    assert alt["first-timers"] == (
        "Bar chart per past event: 4 people went to an event, and 1 of them came back to"
        " a second one."
    )
    assert alt["commitment"].startswith(
        "Bar chart of distinct people at each step: follow the account: 4; liked or boosted: 3;"
    )
    assert "3 new members and 4 introductions" in alt["members-per-month"]
    assert "the most, 7, to “Welcome to the club”" in alt["replies-per-post"]


class _Structure(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables = self.captions = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.tables += tag == "table"
        self.captions += tag == "caption"


def test_the_page_is_self_contained_and_accessible_by_construction(
    report: HealthReport, charts: tuple[Chart, ...]
) -> None:
    page = render_page(report, charts)
    parsed = _Structure()
    parsed.feed(page)
    assert parsed.tables == parsed.captions >= 6
    assert all(attrs.get("scope") in ("col", "row") for tag, attrs in parsed.tags if tag == "th")
    images = [attrs for tag, attrs in parsed.tags if tag == "img"]
    assert len(images) == 5
    assert all(i["src"] and i["src"].startswith("data:image/svg+xml;base64,") for i in images)
    assert sorted(i["alt"] or "" for i in images) == sorted(c.alt for c in charts)
    assert not [t for t, a in parsed.tags if t in ("script", "link", "iframe")]
    assert "prefers-color-scheme: dark" in page
    assert "Nobody is tracked." in page
    # A name from the network is text, never markup.
    assert PENDING_NAME not in page
    assert "Sam &lt;img src=x onerror=alert(1)&gt;" in page
    assert "commsite moderate approve 1" in page


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env=ENV)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def site_with_store(tmp_path: Path) -> Path:
    site = report_fixture.copy_site(tmp_path / "site")
    report_fixture.make_store(site / ".commsite" / "commsite.sqlite3")
    return site


def _folder(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_command_writes_the_folder_into_the_data_directory(site_with_store: Path) -> None:
    code, _out, err = _run(["report", str(site_with_store)])
    assert code == 0, err
    folder = site_with_store / ".commsite" / "report"
    files = _folder(folder)
    assert sorted(files) == sorted(
        ["index.html", "report.json"]
        + [f"charts/{n}.{s}" for n in CHART_NAMES for s in ("svg", "png")]
    )
    assert "Report written to" in err and "3 newcomers waiting for an answer." in err
    data = json.loads(files["report.json"])
    assert data["conversation"]["member_to_member"] == 2
    assert data["commitment"][0]["people"] == 4  # the store was read
    assert (site_with_store / ".commsite" / ".gitignore").read_text() == "*\n"
    code, _out, err = _run(["report", str(site_with_store)])
    assert code == 0, err
    assert _folder(folder) == files  # the same input, the same bytes


def test_json_prints_the_numbers_and_writes_nothing(
    site_with_store: Path, report: HealthReport
) -> None:
    code, out, err = _run(["report", "--json", str(site_with_store)])
    assert code == 0, err
    assert out == report_json(report)
    assert not (site_with_store / ".commsite" / "report").exists()


@pytest.mark.parametrize(
    "where", ["public", "public/report", "static/report", "content", "interactions/x", "."]
)
def test_the_report_is_never_written_where_it_would_be_published(
    site_with_store: Path, where: str
) -> None:
    target = site_with_store / where
    before = _folder(site_with_store)
    code, _out, err = _run(["report", "--out", str(target), str(site_with_store)])
    assert code == 1
    assert "not writing the report there" in err and "give another --out" in err
    assert _folder(site_with_store) == before


def test_out_elsewhere_and_a_window(site_with_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "march"
    code, _o, err = _run(["report", "--out", str(out), "--since", "2026-03", str(site_with_store)])
    assert code == 0, err
    data = json.loads((out / "report.json").read_text())
    assert (data["since"], data["until"]) == ("2026-03", "2026-04")
    code, _o, err = _run(["report", "--months", "3", "--since", "2026-01", str(site_with_store)])
    assert code == 2 and "give --months or --since, not both" in err


def test_content_errors_stop_the_report(tmp_path: Path) -> None:
    site = report_fixture.copy_site(tmp_path / "site")
    (site / "content" / "stories" / "2026-03-02-broken.md").write_text(
        "---\ntitle: Broken\ndate: tomorrow\n---\nx\n", encoding="utf-8"
    )
    code, _out, err = _run(["report", str(site)])
    assert code == 1
    assert "content/stories/2026-03-02-broken.md:3: error:" in err
    assert "No report: fix the content first" in err
    assert not (site / ".commsite" / "report").exists()


def test_a_broken_store_is_a_message(tmp_path: Path) -> None:
    site = report_fixture.copy_site(tmp_path / "site")
    (site / ".commsite").mkdir()
    (site / ".commsite" / "commsite.sqlite3").write_bytes(b"garbage" * 200)
    code, _out, err = _run(["report", "--json", str(site)])
    assert code == 1
    assert "cannot read the sidecar's store" in err and "Traceback" not in err


def _python(args: list[str], cwd: Path, prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = f"import sys\n{prelude}\nfrom commsite.cli import main\nmain(prog_name='commsite')"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_real_process_in_the_sites_folder(site_with_store: Path) -> None:
    proc = _python(["report"], cwd=site_with_store)
    assert proc.returncode == 0, proc.stderr
    assert "Report written to .commsite/report/ (12 files); open .commsite/report/index.html" in (
        proc.stderr
    )


def test_without_matplotlib_the_command_says_how_to_install_it(site_with_store: Path) -> None:
    hide = "sys.modules['matplotlib'] = None"
    proc = _python(["report", str(site_with_store)], cwd=site_with_store, prelude=hide)
    assert proc.returncode == 1
    assert "pip install 'commsite[report]'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (site_with_store / ".commsite" / "report").exists()
    proc = _python(["report", "--json", str(site_with_store)], cwd=site_with_store, prelude=hide)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["first_timers"]["came_back"] == 1


# --- the Nu HTML Checker and axe-core -------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = report_fixture.copy_site(tmp_path_factory.mktemp("checked") / "site")
    report_fixture.make_store(site / ".commsite" / "commsite.sqlite3")
    code, _out, err = _run(["report", str(site)])
    assert code == 0, err
    return site / ".commsite" / "report"


def test_nu_html_checker_finds_no_errors(written: Path) -> None:
    java = needs.executable("java")
    jar = needs.node_package("vnu-jar") / "build" / "dist" / "vnu.jar"
    proc = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", str(written / "index.html")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found = json.loads(proc.stderr or proc.stdout or '{"messages": []}')
    errors = [
        f"{m.get('lastLine', '?')}: {m.get('message')}"
        for m in found["messages"]
        if m.get("type") in ("error", "non-document-error")
    ]
    assert errors == []


@pytest.fixture(scope="module")
def served(written: Path) -> Iterator[str]:
    with serve_folder(written) as base:
        yield base


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(served: str, scheme: str) -> None:
    axe = needs.node_package("axe-core") / "axe.min.js"
    requests: list[str] = []
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 360, "height": 740})  # a phone
        page.emulate_media(color_scheme=scheme)
        page.on("request", lambda r: requests.append(r.url))
        response = page.goto(served)
        assert response is not None and response.ok
        page.add_script_tag(path=str(axe))
        result = page.evaluate("async () => await axe.run()")
        violations = [
            (v["id"], v["help"], [n["html"][:120] for n in v["nodes"]][:3])
            for v in result["violations"]
        ]
        # Nothing wider than the phone but the tables' own scrolling boxes.
        overflow = page.evaluate("document.documentElement.scrollWidth")
    assert violations == []
    assert overflow <= 360
    assert [r for r in requests if not r.startswith(("data:", served))] == []


def test_a_site_with_nothing_yet_still_gets_a_report(tmp_path: Path) -> None:
    import shutil

    site = tmp_path / "site"
    shutil.copytree(Path(__file__).parent / "fixtures" / "valid_min", site)
    code, _out, err = _run(["report", "--out", str(tmp_path / "r"), str(site)])
    assert code == 0, err
    for name in CHART_NAMES:
        assert png_size((tmp_path / "r" / "charts" / f"{name}.png").read_bytes()) == (800, 450)
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "Every newcomer has had an answer." in page


def test_replies_exported_by_the_sidecar_count_member_to_member(tmp_path: Path) -> None:
    """The acceptance case through the real export: Ada (a member) answers the
    community's story, Ben (a member, named by his actor URL) answers Ada; after
    `commsite interactions export`, Ben's reply is member to member."""
    import shutil

    from commsite.sidecar.store import Store

    site = report_fixture.copy_site(tmp_path / "site")
    shutil.rmtree(site / "interactions")
    store = Store(site / ".commsite" / "commsite.sqlite3")
    try:
        with store.transaction() as conn:
            for actor, handle, name in (
                ("https://social.example/users/ada", "@ada@social.example", "Ada Lovelace"),
                ("https://mastodon.example/users/ben", "@benjamin@mastodon.example", "Ben"),
            ):
                conn.execute(
                    "INSERT INTO inbox_actors (id, handle, name, fetched_at) VALUES (?, ?, ?, 'x')",
                    (actor, handle, name),
                )
            for ap_id, actor, parent in (
                (
                    "https://social.example/users/ada/statuses/1",
                    "https://social.example/users/ada",
                    "https://club.example/ap/stories/welcome",
                ),
                (
                    "https://mastodon.example/users/ben/statuses/2",
                    "https://mastodon.example/users/ben",
                    "https://social.example/users/ada/statuses/1",
                ),
            ):
                conn.execute(
                    "INSERT INTO inbox_items (ap_id, kind, actor, target, in_reply_to,"
                    " content_html, published, status, received_at) VALUES"
                    " (?, 'reply', ?, 'stories/welcome', ?, '<p>hi</p>',"
                    " '2026-03-20T10:00:00+00:00', 'approved', 'x')",
                    (ap_id, actor, parent),
                )
    finally:
        store.close()
    code, _out, err = _run(["interactions", "export", str(site)])
    assert code == 0, err
    code, out, err = _run(["report", "--json", str(site)])
    assert code == 0, err
    conversation = json.loads(out)["conversation"]
    assert (conversation["member_to_member"], conversation["to_community"]) == (1, 1)
