"""Outputs do not embed the build clock.

The build's `now` decides which events are upcoming and which stories are out
yet; nothing else. Two builds of the same site at two different times on the
same side of every boundary give the same bytes, file for file, so a build where
nothing changed rewrites nothing and an incremental deploy uploads nothing.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from commsite.build.run import BuildOptions, build_site
from commsite.feeds import atom_feed, events_calendar, json_feed
from golden.regenerate import SITE, golden_now
from handmade_site import site


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_two_builds_at_different_times_give_identical_outputs(tmp_path: Path) -> None:
    # The golden site at 2026-10-01T12:00Z: events 2026-03-14 (past), 2027-05-08
    # and 2027-06-12 (upcoming); the story dated 2027-01-01 is not out yet; the
    # newest story (2026-05-01) is within half a year (NodeInfo activeHalfyear)
    # but not a month. 19 hours and a few seconds later all of that still holds.
    first_now = golden_now()
    later_now = first_now + timedelta(hours=19, minutes=7, seconds=3)
    builds = {}
    for name, now in (("first", first_now), ("later", later_now)):
        out = tmp_path / name
        result = build_site(BuildOptions(root=SITE, output=out, cache=False, jobs=1), now=now)
        assert result.ok, [d.format() for d in result.diagnostics]
        builds[name] = _files(out)
    first, later = builds["first"], builds["later"]
    assert first.keys() == later.keys()
    assert {"events.ics", "feed.xml", "feed.json", "sitemap.xml"} <= first.keys()
    assert any(name.startswith("events/") for name in first)
    changed = sorted(name for name in first if first[name] != later[name])
    assert changed == []


def test_feeds_of_a_site_without_stories_or_events_ignore_the_clock() -> None:
    empty = dataclasses.replace(site(), stories=(), events=())
    later = dataclasses.replace(empty, now=empty.now + timedelta(days=3, seconds=1))
    for make in (atom_feed, json_feed, events_calendar):
        assert make(empty) == make(later), make.__name__
