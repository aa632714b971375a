"""`commsite check`/`build` print paths an editor can open from the current folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
STORY = "content/stories/2025-09-06-welcome-to-fixers-of-eastfield.md"


def _broken_site(tmp_path: Path) -> Path:
    site = tmp_path / "sites" / "mine"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("public", ".commsite"))
    story = site / STORY
    story.write_text(
        story.read_text(encoding="utf-8").replace("date: 2025-09-06", "date: tomorrow"),
        encoding="utf-8",
    )
    return site


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commsite", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_paths_are_relative_to_where_the_command_runs(tmp_path: Path) -> None:
    _broken_site(tmp_path)
    line = "3: error: 'date' is not a date (got \"tomorrow\")"
    from_above = _run(["check", "sites/mine"], tmp_path)
    assert from_above.returncode == 1
    assert f"sites/mine/{STORY}:{line}" in from_above.stderr
    inside = _run(["check"], tmp_path / "sites" / "mine")
    assert f"\n{STORY}:{line}" in "\n" + inside.stderr


def test_a_failed_first_build_says_nothing_was_written(tmp_path: Path) -> None:
    site = _broken_site(tmp_path)
    result = _run(["build", "sites/mine"], tmp_path)
    assert result.returncode == 1
    assert "Build failed; nothing was written." in result.stderr
    assert not (site / "public").exists()


def test_check_warns_about_a_missing_key_as_build_does(tmp_path: Path) -> None:
    site = tmp_path / "sites" / "mine"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("public", ".commsite"))
    (site / "federation" / "public-key.pem").unlink()
    warning = "commsite.yaml: warning: no federation key"
    check = _run(["check", "sites/mine"], tmp_path)
    assert check.returncode == 0 and warning in check.stderr
    strict_check = _run(["check", "--strict", "sites/mine"], tmp_path)
    strict_build = _run(["build", "--strict", "sites/mine"], tmp_path)
    assert strict_check.returncode == strict_build.returncode == 1
    assert "error: no federation key" in strict_check.stderr
