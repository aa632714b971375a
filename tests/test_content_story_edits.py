"""A long-lived AssembleMemo swaps an edited story into the last Site when the
edit keeps every story in its place; whatever the edit, the Site and the
diagnostics equal those of an assemble without a memo."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from commsite.content.config_loader import load_config
from commsite.content.loader import AssembleMemo, assemble_site, discover
from commsite.content.model import Site
from commsite.content.parse import ParsedFile, parse_file
from commsite.errors import Diagnostic
from golden.regenerate import SITE, golden_now

WELCOME = "content/stories/2025-09-06-welcome.md"
TOOLS = "content/stories/2026-05-01-tools-and-things.md"


class Files:
    """The site's parsed files, as a build's Sources keeps them: an unchanged
    file keeps its ParsedFile object."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._known: dict[str, tuple[bytes, ParsedFile]] = {}

    def parsed(self) -> list[ParsedFile]:
        found = []
        for kind, rel in discover(self.root):
            data = (self.root / rel).read_bytes()
            known = self._known.get(rel)
            if known is None or known[0] != data:
                known = (data, parse_file(kind, rel, data))
                self._known[rel] = known
            found.append(known[1])
        return sorted(found, key=lambda p: p.path)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SITE, tmp_path / "site"))


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def assemble(
    root: Path, files: list[ParsedFile], now: datetime, memo: AssembleMemo | None
) -> tuple[Site | None, list[Diagnostic]]:
    config, problems = load_config(root)
    assert config is not None, problems
    return assemble_site(root, config, files, now=now, memo=memo)


def check(root: Path, files: Files, memo: AssembleMemo, now: datetime) -> Site | None:
    """Assemble with the memo and without; both must agree. The memo's Site."""
    parsed = files.parsed()
    with_memo = assemble(root, parsed, now, memo)
    assert with_memo == assemble(root, parsed, now, None)
    return with_memo[0]


def test_an_edit_that_keeps_the_order_swaps_the_story_in(root: Path) -> None:
    files, memo, now = Files(root), AssembleMemo(), golden_now()
    first = check(root, files, memo, now)
    assert first is not None
    edit(root, TOOLS, 'title: Tools <&> "things"', "title: Tools and things")
    edit(root, TOOLS, "has a drill", "has a big drill")
    second = check(root, files, memo, now)
    assert second is not None
    # The swap keeps everything else: the same tuples, the same other stories.
    assert second.members is first.members and second.events is first.events
    changed = [
        n for n, (a, b) in enumerate(zip(first.stories, second.stories, strict=True)) if a is not b
    ]
    assert [second.stories[n].title for n in changed] == ["Tools and things you can borrow"]


EDITS: dict[str, Callable[[Path], None]] = {
    "date": lambda root: edit(root, TOOLS, "date: 2026-05-01", "date: 2025-01-01"),
    # 'tool+library' shares /tags/tool-library/ with 'tool-library': a warning
    "tags": lambda root: edit(root, TOOLS, "news]", 'news, "tool+library"]'),
    "slug": lambda root: edit(root, TOOLS, "author: gus", "author: gus\nslug: tools"),
    "draft": lambda root: edit(root, TOOLS, "author: gus", "author: gus\ndraft: true"),
    "unknown author": lambda root: edit(root, TOOLS, "author: gus", "author: gsu"),
    "a recap dated before its event": lambda root: edit(
        root, WELCOME, "author: ada", "author: ada\nevent: sewing-circle"
    ),
    "a bad front matter key": lambda root: edit(root, TOOLS, "author: gus", "author: gus\nsize: 3"),
}


@pytest.mark.parametrize("change", EDITS.values(), ids=EDITS.keys())
def test_any_other_edit_assembles_the_site_again(
    root: Path, change: Callable[[Path], None]
) -> None:
    files, memo, now = Files(root), AssembleMemo(), golden_now()
    first = check(root, files, memo, now)
    assert first is not None
    original = {rel: (root / rel).read_bytes() for rel in (TOOLS, WELCOME)}
    change(root)
    second = check(root, files, memo, now)
    assert second is None or second.members is not first.members
    # A further edit of the title only: a file with problems is never swapped in.
    edit(root, TOOLS, 'title: Tools <&> "things"', "title: Tools")
    check(root, files, memo, now)
    edit(root, TOOLS, "title: Tools", "title: Tools again")
    check(root, files, memo, now)
    # Undone: a file's problems from before are not kept.
    for rel, data in original.items():
        (root / rel).write_bytes(data)
    check(root, files, memo, now)


def test_time_passing_a_story_s_date_assembles_again(root: Path) -> None:
    """The new-year story (2027-01-01) is left out until its date, then shown."""
    files, memo, now = Files(root), AssembleMemo(), golden_now()
    before = check(root, files, memo, now)
    assert before is not None and "new-year" not in [s.slug for s in before.stories]
    edit(root, WELCOME, "fix things", "mend things")
    check(root, files, memo, now + timedelta(minutes=1))
    later = datetime.fromisoformat("2027-01-02T00:00:00+00:00")
    after = check(root, files, memo, later)
    assert after is not None and "new-year" in [s.slug for s in after.stories]
    edit(root, WELCOME, "mend things", "fix things")
    assert check(root, files, memo, now) is not None  # and back in time
