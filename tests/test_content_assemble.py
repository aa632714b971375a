"""commsite.content.loader: the cross-file checks and the assembled Site."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commsite.content.config_loader import load_config
from commsite.content.loader import assemble_site, discover, load_site
from commsite.content.model import Interactions, Reaction
from commsite.content.parse import ParsedFile, parse_file
from commsite.datadir import PUBLIC_KEY_PATH

VALID = Path(__file__).parent / "fixtures" / "valid_min"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(VALID, tmp_path / "site"))


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def add_story(root: Path, name: str, front: str) -> None:
    write(root, f"content/stories/{name}.md", f"---\n{front}---\nText.\n")


def test_drafts_and_future_stories(site_dir: Path) -> None:
    add_story(site_dir, "draft", "title: D\ndate: 2026-05-01\ndraft: true\n")
    add_story(site_dir, "2026-12-24-later", "title: L\ndate: 2026-12-24T18:00:00\n")
    site, _ = load_site(site_dir, now=NOW)
    assert site is not None
    assert [s.slug for s in site.stories] == ["spring-recap"]
    site, _ = load_site(site_dir, now=NOW, drafts=True, future=True)
    assert site is not None
    assert [(s.slug, s.draft, s.future) for s in site.stories] == [
        ("later", False, True),
        ("draft", True, False),
        ("spring-recap", False, False),
    ]


def test_stories_sorted_newest_first_then_slug(site_dir: Path) -> None:
    add_story(site_dir, "b", "title: B\ndate: 2026-04-01\n")
    add_story(site_dir, "a", "title: A\ndate: 2026-04-01\n")
    add_story(site_dir, "c", "title: C\ndate: 2026-04-01T00:00:00+02:00\n")
    site, _ = load_site(site_dir, now=NOW)
    assert site is not None
    assert [s.slug for s in site.stories] == ["a", "b", "c", "spring-recap"]


def test_aware_datetimes_are_shown_in_the_site_time_zone(site_dir: Path) -> None:
    add_story(site_dir, "x", "title: X\ndate: 2026-04-01T08:00:00Z\n")
    site, _ = load_site(site_dir, now=NOW)
    assert site is not None
    story = next(s for s in site.stories if s.slug == "x")
    assert story.date == datetime(2026, 4, 1, 8, tzinfo=UTC)
    assert story.date.tzinfo == BERLIN and story.date.hour == 10


def test_ambiguous_local_time_is_a_warning(site_dir: Path) -> None:
    write(
        site_dir,
        "content/events/fall-back.md",
        "---\ntitle: F\nstart: 2026-10-25T02:30:00\n---\n",
    )
    site, problems = load_site(site_dir, now=NOW)
    assert site is not None
    assert [d.format() for d in problems] == [
        "content/events/fall-back.md:3: warning: 'start' is 2026-10-25T02:30:00, which happens"
        " twice in Europe/Berlin (the clocks go back then); taking the first; add the UTC offset"
        " to choose: 2026-10-25T02:30:00+02:00 for the first, 2026-10-25T02:30:00+01:00 for"
        " the second"
    ]
    event = next(e for e in site.events if e.slug == "fall-back")
    assert (
        event.start.utcoffset()
        == datetime(2026, 10, 25, 0, tzinfo=UTC).astimezone(BERLIN).utcoffset()
    )


def test_members_sorted_by_name_events_by_start(site_dir: Path) -> None:
    write(site_dir, "content/members/aaron.md", "---\nname: Zed Aaron\n---\n")
    write(site_dir, "content/events/early.md", "---\ntitle: E\nstart: 2026-01-01T10:00:00\n---\n")
    site, _ = load_site(site_dir, now=NOW)
    assert site is not None
    assert [m.id for m in site.members] == ["ada", "bo", "aaron"]
    assert [e.slug for e in site.events] == ["early", "spring-repair-day"]


def test_broken_member_does_not_also_make_references_fail(site_dir: Path) -> None:
    write(site_dir, "content/members/ada.md", "---\nname: [\n---\n")
    _, problems = load_site(site_dir, now=NOW)
    assert [d.path for d in problems] == ["content/members/ada.md"]


def test_public_key_and_interactions_are_carried(site_dir: Path) -> None:
    write(site_dir, PUBLIC_KEY_PATH, "-----BEGIN PUBLIC KEY-----\n...\n")
    site, _ = load_site(site_dir, now=NOW)
    assert site is not None and site.public_key_pem == "-----BEGIN PUBLIC KEY-----\n...\n"

    config, _ = load_config(site_dir)
    assert config is not None
    parsed = [parse_file(k, p, (site_dir / p).read_bytes()) for k, p in discover(site_dir)]
    interactions = Interactions(reactions=(Reaction("stories/spring-recap", likes=3),))
    site, problems = assemble_site(
        site_dir, config, parsed, now=NOW, interactions=interactions, public_key_pem="PEM"
    )
    assert problems == [] and site is not None
    assert site.interactions is interactions and site.public_key_pem == "PEM"
    assert site.root == str(site_dir.resolve())


def test_assemble_reports_the_files_own_diagnostics(site_dir: Path) -> None:
    config, _ = load_config(site_dir)
    assert config is not None
    parsed = [parse_file(k, p, (site_dir / p).read_bytes()) for k, p in discover(site_dir)]
    bad = parse_file("page", "content/pages/x.md", b"---\ntitle: X\nsumary: s\n---\n")
    site, problems = assemble_site(site_dir, config, [*parsed, bad], now=NOW)
    assert site is not None
    assert [d.format() for d in problems] == [
        "content/pages/x.md:3: warning: unknown key 'sumary'; did you mean 'summary'?"
    ]


def test_load_site_uses_the_given_parse_function(site_dir: Path) -> None:
    seen: list[str] = []

    def counting(kind: str, path: str, data: bytes) -> ParsedFile:
        seen.append(path)
        return parse_file(kind, path, data)

    site, _ = load_site(site_dir, now=NOW, parse=counting)
    assert site is not None
    assert seen == [p for _, p in discover(site_dir)]


def test_event_date_prefix_and_slug_override(site_dir: Path) -> None:
    write(
        site_dir,
        "content/events/2027-01-01-new-year.md",
        "---\ntitle: NY\nstart: 2027-01-01T00:30:00\nslug: nye\n---\n",
    )
    add_story(site_dir, "recap", "title: R\ndate: 2027-01-01\nevent: nye\n")
    site, problems = load_site(site_dir, now=NOW)
    assert problems == [] and site is not None
    assert [e.slug for e in site.events] == ["spring-repair-day", "nye"]


def test_two_members_with_one_handle_is_a_warning(site_dir: Path) -> None:
    write(site_dir, "content/members/cleo.md", "---\nname: C\nhandle: '@Ada@social.example'\n---\n")
    site, problems = load_site(site_dir, now=NOW)
    assert site is not None
    assert [d.format() for d in problems] == [
        "content/members/cleo.md:3: warning: the handle @Ada@social.example is also"
        " content/members/ada.md's; each member should have their own handle; remove one of them"
    ]


def test_folders_inside_content_folders_are_not_read(site_dir: Path) -> None:
    add_story(site_dir, "2026/x", "title: X\ndate: 2026-04-01\n")
    _, problems = load_site(site_dir, now=NOW)
    assert [d.format() for d in problems] == [
        "content/stories/2026: warning: folders in here are not read; move the .md files up"
        " into content/stories/"
    ]


def test_now_must_be_aware(site_dir: Path) -> None:
    with pytest.raises(ValueError, match="aware"):
        load_site(site_dir, now=datetime(2026, 6, 1))


def test_editor_backup_files_are_ignored_quietly(site_dir: Path) -> None:
    stories = site_dir / "content" / "stories"
    (stories / "2026-03-20-spring-recap.md~").write_text("old", encoding="utf-8")
    (stories / "#2026-03-20-spring-recap.md#").write_text("lock", encoding="utf-8")
    (stories / "notes.txt").write_text("x", encoding="utf-8")
    _, problems = load_site(site_dir, now=NOW)
    assert [d.format() for d in problems] == [
        "content/stories/notes.txt: warning: this file is not read (only .md files are);"
        " rename it to .md, or move images and other files to static/"
    ]


def test_an_unknown_member_in_a_long_list_is_reported_on_its_line(site_dir: Path) -> None:
    add_story(site_dir, "team", "title: T\ndate: 2026-04-01\nauthors:\n  - ada\n  - zed\n")
    _, problems = load_site(site_dir, now=NOW)
    assert [d.format() for d in problems] == [
        "content/stories/team.md:6: error: 'authors' names unknown member 'zed';"
        " the members are ada, bo; or add content/members/zed.md"
    ]
