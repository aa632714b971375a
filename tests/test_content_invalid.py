"""Invalid sites: each case in tests/fixtures/invalid/ gives exactly its expected lines.

A case is the shared valid site tests/fixtures/valid_min/ with the files under
CASE/site/ laid over it and the paths listed in CASE/remove.txt deleted.
CASE/expected.txt holds every diagnostic line `load_site` must report, in order.

To rewrite the expected files after a deliberate change of messages, run
`COMMSITE_REGENERATE=1 pytest tests/test_content_invalid.py` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commsite.content.loader import load_site

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "valid_min"
CASES = sorted(p for p in (FIXTURES / "invalid").iterdir() if p.is_dir())
NOW = datetime(2026, 6, 1, tzinfo=UTC)
REGENERATE = os.environ.get("COMMSITE_REGENERATE") == "1"


def make_site(case: Path, into: Path) -> Path:
    site = into / "site"
    shutil.copytree(VALID, site)
    removals = case / "remove.txt"
    if removals.exists():
        for rel in removals.read_text(encoding="utf-8").split():
            (site / rel).unlink()
    overlay = case / "site"
    if overlay.exists():
        shutil.copytree(overlay, site, dirs_exist_ok=True)
    return site


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_invalid_case_reports_exactly_the_expected_lines(case: Path, tmp_path: Path) -> None:
    site_dir = make_site(case, tmp_path)
    site, diagnostics = load_site(site_dir, now=NOW)
    got = [d.format() for d in diagnostics]
    expected_file = case / "expected.txt"
    if REGENERATE:
        expected_file.write_text("".join(line + "\n" for line in got), encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    assert got == expected
    assert got, "an invalid case must report something"
    has_error = any(d.is_error for d in diagnostics)
    assert (site is None) == has_error


def test_the_base_site_is_valid() -> None:
    site, diagnostics = load_site(VALID, now=NOW)
    assert diagnostics == []
    assert site is not None


def test_errors_in_several_files_are_all_reported_in_one_run(tmp_path: Path) -> None:
    site_dir = make_site(FIXTURES / "invalid" / "several_files", tmp_path)
    site, diagnostics = load_site(site_dir, now=NOW)
    assert site is None
    assert sorted({d.path for d in diagnostics if d.is_error}) == [
        "commsite.yaml",
        "content/events/2026-05-01-two.md",
        "content/members/cleo.md",
        "content/stories/2026-04-01-one.md",
    ]
