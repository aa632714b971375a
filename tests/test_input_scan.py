"""The input scan behind the no-change check, and its trusted shortcut for serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from commsite.build.inputs import rescan_inputs, scan_inputs

OPTIONS = ("drafts", False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "content" / "stories").mkdir(parents=True)
    (site / "static").mkdir()
    (site / "commsite.yaml").write_text("title: T\n")
    for n in range(3):
        (site / "content" / "stories" / f"2026-01-0{n + 1}-s{n}.md").write_text(f"story {n}\n")
    (site / "static" / "a.css").write_text("p {}\n")
    return site


def test_a_rescan_of_an_edit_equals_a_full_scan(root: Path) -> None:
    before = scan_inputs(root, OPTIONS)
    story = root / "content" / "stories" / "2026-01-02-s1.md"
    story.write_text("story 1, edited\n")
    (root / "static" / "a.css").write_text("p { color: red }\n")
    full = scan_inputs(root, OPTIONS)
    quick = rescan_inputs(before, root, OPTIONS, [story, root / "static" / "a.css"])
    assert quick is not None
    assert quick.files == full.files and list(quick.files) == list(full.files)
    assert quick.digest == full.digest != before.digest
    assert quick.stats is not None and full.stats is not None
    assert (
        quick.stats[f"content/stories/{story.name}"] == full.stats[f"content/stories/{story.name}"]
    )


def test_a_rescan_trusts_the_report(root: Path) -> None:
    """Files left out of the report are taken as unchanged: the caller checks later."""
    before = scan_inputs(root, OPTIONS)
    (root / "static" / "a.css").write_text("p { color: red }\n")
    quick = rescan_inputs(before, root, OPTIONS, [])
    assert quick is not None and quick.files == before.files


@pytest.mark.parametrize(
    "what",
    ["a new file", "a removed file", "a folder", "a file outside the site", "a renamed file"],
)
def test_anything_but_an_edit_needs_a_full_scan(root: Path, tmp_path: Path, what: str) -> None:
    before = scan_inputs(root, OPTIONS)
    stories = root / "content" / "stories"
    changed: list[Path]
    if what == "a new file":
        changed = [stories / "2026-01-09-new.md"]
        changed[0].write_text("new\n")
    elif what == "a removed file":
        changed = [stories / "2026-01-01-s0.md"]
        changed[0].unlink()
    elif what == "a folder":
        changed = [stories]
    elif what == "a file outside the site":
        changed = [tmp_path / "elsewhere.md"]
        changed[0].write_text("x\n")
    else:
        old, new = stories / "2026-01-01-s0.md", stories / "2026-01-01-renamed.md"
        old.rename(new)
        changed = [new]
    assert rescan_inputs(before, root, OPTIONS, changed) is None
