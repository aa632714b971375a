"""example_site/interactions/ is exactly what the real export writes.

scripts/example-interactions fills a sidecar database the way the sidecar does
(profiles fetched from actor documents, approved replies and introductions,
reactions, RSVPs read by sidecar/rsvps.py with waiting lists set by
rsvp_places.py) and runs `commsite interactions export`'s code. Here it runs
into a temporary folder and the result must equal the committed files byte
for byte, so the example never drifts from the export again: after changing
either, run `.venv/bin/python scripts/example-interactions` and commit.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

from commsite.content.member_match import MemberMatcher
from commsite.content.model import Site

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_site"
SCRIPT = ROOT / "scripts" / "example-interactions"


@pytest.fixture(scope="module")
def script() -> dict[str, Any]:
    return runpy.run_path(str(SCRIPT), run_name="example_interactions")


@pytest.fixture(scope="module")
def site(script: dict[str, Any]) -> Site:
    loaded: Site = script["load"]()
    return loaded


def files(root: Path) -> dict[str, bytes]:
    base = root / "interactions"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def test_the_committed_interactions_are_what_the_export_writes(
    script: dict[str, Any], site: Site, tmp_path: Path
) -> None:
    result = script["export"](site, tmp_path)
    made, committed = files(tmp_path), files(EXAMPLE)
    assert sorted(made) == sorted(committed)
    assert sorted(result.written) == sorted(f"interactions/{rel}" for rel in made)
    for rel, data in committed.items():
        assert made[rel] == data, f"{rel} differs: run scripts/example-interactions"


def test_a_second_export_over_the_committed_files_changes_nothing(
    script: dict[str, Any], site: Site, tmp_path: Path
) -> None:
    """The export over a copy of the example: nothing written, nothing removed."""
    import shutil

    shutil.copytree(EXAMPLE / "interactions", tmp_path / "interactions")
    result = script["export"](site, tmp_path)
    assert (result.written, result.removed) == ([], [])
    assert result.unchanged == len(files(EXAMPLE))


def test_every_way_of_answering_and_reacting_is_shown(site: Site) -> None:
    """RSVPs by reply, poll, Join, Accept, TentativeAccept and Reject, a waiting
    list, public and not; likes and boosts with who gave them, members among them."""
    rsvps = [
        entry
        for path in sorted((EXAMPLE / "interactions" / "rsvps").glob("*.yaml"))
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]
    assert {(e["answer"], e["via"]) for e in rsvps} >= {
        ("going", "reply"),
        ("going", "poll"),
        ("maybe", "poll"),
        ("going", "join"),
        ("going", "accept"),
        ("maybe", "tentative"),
        ("not_going", "reject"),
        ("not_going", "reply"),
    }
    assert any(e["waiting"] for e in rsvps)
    assert {e["public"] for e in rsvps} == {True, False}
    assert all(e.get("reply_url") for e in rsvps if e["via"] == "reply")

    match = MemberMatcher.of(site.members).match
    answered_by = {
        match(r.author_handle, webfinger=r.author_webfinger, actor=r.author_actor)
        for r in site.interactions.rsvps
    }
    assert {"ada-okafor", "dev-patel", "priya-raman", "kwame-mensah", None} <= answered_by
    reactors = {
        match(r.author_handle, webfinger=r.author_webfinger, actor=r.author_actor)
        for reaction in site.interactions.reactions
        for r in reaction.by
    }
    assert {"ada-okafor", "dev-patel", "nell-porter", "gus-mcallister", None} <= reactors
