"""Links and images that point nowhere: `commsite check`, `build` and `serve` say so.

Each case in tests/fixtures/links/ is laid over tests/fixtures/valid_min/ as in
test_content_invalid.py; CASE/expected.txt holds every broken-link line the
check reports, in order (empty: the case's links all work). To rewrite them
after a deliberate change of messages, run with COMMSITE_REGENERATE=1.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsite.build.link_targets import planned_files, site_links
from commsite.cli import main
from commsite.content.loader import load_site
from commsite.content.parse import ParsedFile, parse_file
from commsite.markdown import render_markdown
from commsite.render.theme import resolve_theme
from test_content_invalid import NOW, make_site

FIXTURES = Path(__file__).parent / "fixtures" / "links"
CASES = sorted(p for p in FIXTURES.iterdir() if p.is_dir())
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_site"
GOLDEN = ROOT / "tests" / "golden" / "site"
REGENERATE = os.environ.get("COMMSITE_REGENERATE") == "1"
STORY = "content/stories/2026-04-10-links.md"


def _check(site_dir: Path, *, drafts: bool = False, future: bool = False) -> list[str]:
    """The broken-link lines `commsite check` reports for the site."""
    parsed: list[ParsedFile] = []

    def parse(kind: str, rel: str, data: bytes) -> ParsedFile:
        parsed.append(parse_file(kind, rel, data))
        return parsed[-1]

    site, diagnostics = load_site(site_dir, now=NOW, drafts=drafts, future=future, parse=parse)
    assert site is not None, diagnostics
    return [d.format() for d in site_links(site, site_dir, parsed).broken]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_link_case_reports_exactly_the_expected_lines(case: Path, tmp_path: Path) -> None:
    got = _check(make_site(case, tmp_path))
    expected_file = case / "expected.txt"
    if REGENERATE:
        expected_file.write_text("".join(line + "\n" for line in got), encoding="utf-8")
    assert got == expected_file.read_text(encoding="utf-8").splitlines()


def test_the_broken_links_case_names_each_kind_of_target() -> None:
    """The issue's list: stories, rule anchors, members, tags, static files."""
    expected = (FIXTURES / "broken_links" / "expected.txt").read_text(encoding="utf-8")
    for wanted in (
        f"{STORY}:6: warning: broken link '/stories/bouldering-nite/'"
        " (did you mean '/stories/bouldering-night/'?)",
        f"{STORY}:7: warning: broken link '/rulez/' (did you mean '/rules/'?)",
        f"{STORY}:7: warning: broken link '/rules/#rule-9'",
        f"{STORY}:9: warning: broken image '/images/missing.png'",
        f"{STORY}:11: warning: broken link '/members/zoe/'",
        f"{STORY}:11: warning: broken link '/tags/repiar/' (did you mean '/tags/repair/'?)",
    ):
        assert wanted in expected


@pytest.mark.parametrize("site_dir", [EXAMPLE, GOLDEN], ids=["example", "golden"])
def test_the_shipped_sites_have_no_broken_links(site_dir: Path) -> None:
    assert _check(site_dir, drafts=True, future=True) == []


def test_check_plans_the_files_the_build_writes(tmp_path: Path) -> None:
    """`commsite check` checks links against the files a build writes, all of them."""
    output = tmp_path / "out"
    epoch = {"SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}
    result = CliRunner(env=epoch).invoke(
        main, ["build", str(EXAMPLE), "-o", str(output), "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    written = {p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file()}
    # Images' variants (build/images.py) are left out: check does not open images,
    # and no content links to them (their names hold their source's hash).
    variants = {p for p in written if re.search(r"\.\d+(x\d+)?\.[0-9a-f]{10}\.\w+$", p)}
    assert variants  # (the example site has images)
    # (The search index's files are named by Pagefind after the pages are written.)
    written = {p for p in written if not p.startswith("pagefind/")}
    site, _ = load_site(EXAMPLE, now=NOW)
    assert site is not None
    assert planned_files(site, resolve_theme(EXAMPLE, site.config), EXAMPLE) == written - variants


def test_check_warns_and_strict_fails(tmp_path: Path) -> None:
    site_dir = make_site(FIXTURES / "broken_links", tmp_path)
    runner = CliRunner()
    relaxed = runner.invoke(main, ["check", str(site_dir)])
    assert relaxed.exit_code == 0
    shown = f"{STORY}:7: warning: broken link '/rulez/' (did you mean '/rules/'?)"
    assert shown in relaxed.output
    strict = runner.invoke(main, ["check", str(site_dir), "--strict"])
    assert strict.exit_code == 1
    assert shown.replace("warning", "error") in strict.output


def test_build_reports_broken_links_and_strict_keeps_the_old_output(tmp_path: Path) -> None:
    site_dir = make_site(FIXTURES / "broken_links", tmp_path)
    story = site_dir / STORY
    text = story.read_text(encoding="utf-8")
    story.write_text(text.replace("/rulez/", "/rules/"), encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(main, ["build", str(site_dir)])
    assert first.exit_code == 0
    assert "broken link '/rulez/'" not in first.output
    assert "broken link '/stories/bouldering-nite/'" in first.output
    story.write_text(text, encoding="utf-8")
    again = runner.invoke(main, ["build", str(site_dir)])
    assert again.exit_code == 0
    before = (site_dir / "public" / "stories" / "links" / "index.html").read_bytes()
    assert f"{STORY}:7: warning: broken link '/rulez/'" in again.output
    # Nothing changed since: the no-change build reports the same warnings.
    unchanged = runner.invoke(main, ["build", str(site_dir)])
    assert f"{STORY}:7: warning: broken link '/rulez/'" in unchanged.output
    story.write_text(text + "\nOne more [link](/nowhere/).\n", encoding="utf-8")
    strict = runner.invoke(main, ["build", str(site_dir), "--strict"])
    assert strict.exit_code == 1
    assert f"{STORY}:7: error: broken link '/rulez/'" in strict.output
    assert "broken link '/nowhere/'" in strict.output
    assert "the previous output was left as it was" in strict.output
    assert (site_dir / "public" / "stories" / "links" / "index.html").read_bytes() == before


def test_links_keep_their_line_in_the_body() -> None:
    body = (
        "Para [a](/a/) and\n"  # 0
        "next ![i](/i.png) <a href='/raw/'>x</a>\n"  # 1
        "\n"
        "| a | b |\n"  # 3
        "|---|---|\n"
        "| [t](/t/) | x |\n"  # 5
        "\n"
        "<div>\n"  # 7
        '<img src="/b.png">\n'  # 8
        "</div>\n"
        "\n"
        "- [ref][r] x[^1]\n"  # 11
        "\n"
        "[r]: /ref/\n"
        "[^1]: note [fn](/fn/)\n"  # 14
    )
    assert render_markdown(body).links == (
        ("/a/", 0, False),
        ("/i.png", 1, True),
        ("/raw/", 1, False),
        ("/t/", 5, False),
        ("/b.png", 8, True),
        ("/ref/", 11, False),
        ("/fn/", 14, False),
    )


def test_serve_prints_the_warnings_of_a_build_that_worked(tmp_path: Path) -> None:
    from commsite.serve.preview import Preview, PreviewOptions

    site_dir = make_site(FIXTURES / "broken_links", tmp_path)
    said: list[str] = []
    preview = Preview(PreviewOptions(root=site_dir, port=0), echo=said.append)
    try:
        assert preview.build_all().ok
        preview.build_all()  # the same warnings again: not printed again
    finally:
        preview.close()  # (its watches too: no thread left behind for the next test)
        preview.builder.close()
    warning = f"{STORY}:7: warning: broken link '/rulez/' (did you mean '/rules/'?)"
    assert said.count(warning) == 1


def test_a_site_under_a_path_checks_links_under_that_path() -> None:
    from commsite.links.check import ExternalLink, check_links
    from sample_site import config as sample_config
    from sample_site import site as sample_site

    site = sample_site(config=sample_config(base_url="https://club.example/fixers/"))
    source = site.members[0].source
    links = {
        source: (
            ("/fixers/rules/?x=1", 1, False),
            ("https://CLUB.example/fixers/members", 2, False),
            ("../../stories/", 3, False),
            ("/fixers/rulez/", 4, False),
            ("/rules/", 5, False),  # on the host, not on the site: an outside link
        )
    }
    files = {"rules/index.html", "members/index.html", "stories/index.html"}
    report = check_links(site, links, files)
    assert [d.format() for d in report.broken] == [
        f"{source}:4: warning: broken link '/fixers/rulez/' (did you mean '/fixers/rules/'?)"
    ]
    assert report.external == (ExternalLink("https://club.example/rules/", source, 5),)
