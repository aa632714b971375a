"""Loading a valid site: the model the rest of the build reads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from commsite.content.loader import discover, load_site
from commsite.content.model import Location

VALID = Path(__file__).parent / "fixtures" / "valid_min"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def test_valid_site_loads_without_diagnostics() -> None:
    site, diagnostics = load_site(VALID, now=NOW)
    assert [d.format() for d in diagnostics] == []
    assert site is not None
    assert site.now == NOW
    assert site.config.base_url == "https://repair.example/"
    assert site.config.community.handle == "riverside_repair_cafe"
    assert site.config.community.name == "Riverside Repair Café"
    assert site.config.community.summary == "We fix things together."

    (story,) = site.stories
    assert story.slug == "spring-recap"
    assert story.date == datetime(2026, 3, 20, tzinfo=BERLIN)
    assert story.authors == ("ada", "bo")
    assert story.event == "spring-repair-day"
    assert story.image == "images/ada.png"

    (event,) = site.events
    assert event.slug == "spring-repair-day"
    assert event.start == datetime(2026, 3, 14, 10, tzinfo=BERLIN)
    assert event.end == datetime(2026, 3, 14, 16, tzinfo=BERLIN)
    assert event.location == Location("Community hall", "1 River Road")
    assert event.hosts == ("ada",)
    assert event.capacity == 40

    assert [m.id for m in site.members] == ["ada", "bo"]
    ada = site.members[0]
    assert ada.handle == "@ada@social.example"
    assert ada.links == (("Website", "https://ada.example"),)
    assert ada.joined == date(2025, 5, 1)

    assert site.rules.items == (
        "Be kind.",
        "Share tools and knowledge.",
        "Leave the space tidier than you found it.",
    )
    assert '<li id="rule-1">Be kind.</li>' in site.rules.body_html
    assert [p.slug for p in site.pages] == ["about"]


def test_discover_lists_every_content_file_sorted() -> None:
    assert discover(VALID) == [
        ("event", "content/events/2026-03-14-spring-repair-day.md"),
        ("member", "content/members/ada.md"),
        ("member", "content/members/bo.md"),
        ("page", "content/pages/about.md"),
        ("rules", "content/rules.md"),
        ("story", "content/stories/2026-03-20-spring-recap.md"),
    ]


def test_a_folder_that_is_not_a_site_gets_one_error_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# my notes\n", encoding="utf-8")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("hello\n", encoding="utf-8")
    site, diagnostics = load_site(tmp_path, now=NOW)
    assert site is None
    assert [d.format() for d in diagnostics] == [
        "commsite.yaml: error: commsite.yaml is missing; is this a commsite site? "
        "create one with `commsite init DIR`"
    ]


def test_a_site_that_lost_its_config_gets_only_that_error(tmp_path: Path) -> None:
    (tmp_path / "content" / "stories").mkdir(parents=True)  # no rules.md, no members
    (tmp_path / "content" / "stories" / "x.md").write_text("no front matter\n", encoding="utf-8")
    site, diagnostics = load_site(tmp_path, now=NOW)
    assert site is None
    assert [d.format() for d in diagnostics] == [
        "commsite.yaml: error: commsite.yaml is missing; create it with at least 'title:' "
        "and 'base_url:' (or run `commsite init`)"
    ]
