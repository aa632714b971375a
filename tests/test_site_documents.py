"""The feeds and the calendars are made from their own parts of the site: a story
edit does not remake the calendars, an event edit does not remake the feeds, and
a long-lived builder remakes only the edited event's own calendar. The output
always equals a clean build's (the whole suite of edits is in test_build_cache)."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

import commsite.build.site_documents as site_documents
from commsite.build.run import Builder, BuildOptions, build_site
from golden.regenerate import SITE, golden_now

STORY = Path("content/stories/2026-05-01-tools-and-things.md")
EVENT = Path("content/events/2027-05-08-sewing-circle.md")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    return root


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """What the build makes, counted: the real document functions run, wrapped."""
    counts: Counter[str] = Counter()

    def counted(name: str, real: Callable[..., bytes]) -> Callable[..., bytes]:
        def wrapper(*arguments: object) -> bytes:
            slug = arguments[0] if name == "event_calendar" else None
            counts[f"{name} {slug}" if slug else name] += 1
            return real(*arguments)

        return wrapper

    for name in ("atom", "events_calendar", "event_calendar", "sitemap"):
        monkeypatch.setattr(site_documents, name, counted(name, getattr(site_documents, name)))
    return counts


def clean(root: Path, tmp: Path) -> dict[str, bytes]:
    out = tmp / "clean"
    result = build_site(BuildOptions(root=root, output=out, cache=False, jobs=1), now=golden_now())
    assert result.ok
    return tree(out)


def test_a_story_edit_does_not_remake_the_calendars(
    site: Path, tmp_path: Path, made: Counter[str]
) -> None:
    now = golden_now()
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        assert made["events_calendar"] == 1 and made["event_calendar sewing-circle"] == 1
        made.clear()
        replace_in(site / STORY, "has a drill", "has a big drill")
        result = builder.build(now=now)
    assert result.ok
    assert made == Counter({"atom": 1})  # the story is in the feeds; the sitemap is kept
    assert "feed.xml" in result.rendered and "events.ics" not in result.rendered
    assert tree(site / "public") == clean(site, tmp_path)


def test_a_fresh_build_after_a_story_edit_does_not_remake_the_calendars(
    site: Path, tmp_path: Path, made: Counter[str]
) -> None:
    now = golden_now()
    assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
    made.clear()
    replace_in(site / STORY, "has a drill", "has a big drill")
    result = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert result.ok
    assert made == Counter({"atom": 1})
    assert tree(site / "public") == clean(site, tmp_path)


def test_an_event_edit_remakes_that_event_s_calendar_and_not_the_feeds(
    site: Path, tmp_path: Path, made: Counter[str]
) -> None:
    now = golden_now()
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        made.clear()
        replace_in(site / EVENT, "T14:00", "T15:00")
        result = builder.build(now=now)
    assert result.ok
    assert made == Counter({"events_calendar": 1, "event_calendar sewing-circle": 1})
    assert {"events.ics", "events/sewing-circle/event.ics"} <= set(result.written)
    assert "events/bike-clinic/event.ics" not in result.rendered
    assert tree(site / "public") == clean(site, tmp_path)


def test_a_deleted_calendar_is_made_again_from_the_record(
    site: Path, tmp_path: Path, made: Counter[str]
) -> None:
    """A fresh build whose record vouches for the calendars makes one only when its
    file must be written again."""
    now = golden_now()
    assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
    made.clear()
    assert build_site(BuildOptions(root=site, jobs=1), now=now).written == ()
    assert made == Counter()
    (site / "public" / "events" / "bike-clinic" / "event.ics").unlink()
    result = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert result.written == ("events/bike-clinic/event.ics",)
    assert made == Counter({"event_calendar bike-clinic": 1})  # that file alone
    assert tree(site / "public") == clean(site, tmp_path)


def test_a_fresh_build_makes_the_sitemap_only_when_what_it_lists_changed(
    site: Path, tmp_path: Path, made: Counter[str]
) -> None:
    now = golden_now()
    assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
    assert made["sitemap"] == 1
    made.clear()
    replace_in(site / STORY, "has a drill", "has a big drill")  # not in the sitemap
    assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
    assert made["sitemap"] == 0
    (site / "public" / "sitemap.xml").unlink()
    result = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert result.written == ("sitemap.xml",) and made["sitemap"] == 1
    replace_in(site / STORY, "date: 2026-05-01", "date: 2026-05-01\nupdated: 2026-05-02")
    result = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert "sitemap.xml" in result.written and made["sitemap"] == 2  # its lastmod
    assert tree(site / "public") == clean(site, tmp_path)
