"""What a build leaves out (drafts, stories dated in the future) is told after
the summary line, from the Site through BuildResult, and changes nothing built."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commsite.build.run import Builder, BuildOptions, build_site
from commsite.content.model import LeftOut
from golden.regenerate import SITE, SOURCE_DATE_EPOCH, golden_now

STORIES = "content/stories"
DRAFT = f"{STORIES}/2026-06-01-draft-plans.md"  # draft: true
NEW_YEAR = f"{STORIES}/2027-01-01-new-year.md"  # 2027-01-01, after the golden build time
LONDON = ZoneInfo("Europe/London")  # the golden site's time zone
PYTHONPATH = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The golden site (a draft and a story dated after golden_now()), in tmp_path/site."""
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    return root


def add_story(root: Path, name: str, front: str) -> str:
    path = f"{STORIES}/{name}"
    (root / path).write_text(f"---\ntitle: {name}\nauthor: ada\n{front}---\nSoon.\n")
    return path


def commsite(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m commsite ARGS` in `cwd` at the golden site's build time."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    done = subprocess.run(
        [sys.executable, "-m", "commsite", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # (Without the search index's progress line: these tests are about the summary.)
    lines = done.stderr.splitlines(keepends=True)
    done.stderr = "".join(line for line in lines if not line.startswith("Indexed "))
    return done


# --- what the build tells ------------------------------------------------------------


def test_build_tells_the_draft_and_when_the_future_story_is_due(site: Path) -> None:
    first = commsite(["build", "site"], site.parent)
    assert first.returncode == 0, first.stderr
    lines = first.stderr.splitlines()
    # (the avatar's WebP copy and its square, and the search index, among them)
    assert len(lines) == 2 and lines[0].startswith("Built 95 files ("), first.stderr
    assert lines[1] == (
        "Left out: 1 draft (--drafts includes it), 1 story dated in the future"
        " (site/content/stories/2027-01-01-new-year.md is due 2027-01-01 00:00 GMT;"
        " build again then, or use --future)"
    )
    # A second build finds nothing changed (the no-change check) and says it again.
    again = commsite(["build", "site"], site.parent)
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines()[1:] == lines[1:]
    record = json.loads((site / ".commsite" / "build-cache" / "last-build.json").read_text())
    assert record["left_out"] == {
        "drafts": [DRAFT],
        "future": [[NEW_YEAR, "2027-01-01T00:00:00+00:00", "Europe/London"]],
    }


def test_several_are_counted_and_the_first_due_is_named_in_the_site_time_zone(
    site: Path,
) -> None:
    add_story(site, "2026-11-02-second-draft.md", "date: 2026-11-02\ndraft: true\n")
    # Due first though named last; 09:00 in UTC+2 is 08:00 in London, still on
    # summer time (BST) on 20 October.
    soon = add_story(site, "soon.md", "date: 2026-10-20T09:00:00+02:00\n")
    result = commsite(["build"], site)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[1] == (
        "Left out: 2 drafts (--drafts includes them), 2 stories dated in the future"
        f" (the first, {soon}, is due 2026-10-20 08:00 BST; build again then, or use --future)"
    )


def test_only_what_is_still_left_out_is_told(site: Path) -> None:
    drafts = commsite(["build", "--drafts"], site)
    assert drafts.returncode == 0, drafts.stderr
    assert drafts.stderr.splitlines()[1] == (
        f"Left out: 1 story dated in the future ({NEW_YEAR} is due 2027-01-01 00:00 GMT;"
        " build again then, or use --future)"
    )
    future = commsite(["build", "--future"], site)
    assert future.returncode == 0, future.stderr
    assert future.stderr.splitlines()[1] == "Left out: 1 draft (--drafts includes it)"


def test_nothing_left_out_adds_no_line(site: Path) -> None:
    both = commsite(["build", "--drafts", "--future"], site)
    assert both.returncode == 0, both.stderr
    assert len(both.stderr.splitlines()) == 1 and both.stderr.startswith("Built ")
    (site / DRAFT).unlink()
    (site / NEW_YEAR).unlink()
    plain = commsite(["build"], site)
    assert plain.returncode == 0, plain.stderr
    assert len(plain.stderr.splitlines()) == 1 and plain.stderr.startswith("Built ")


# --- from the Site to BuildResult ----------------------------------------------------------


def test_build_result_carries_what_the_site_left_out(site: Path, tmp_path: Path) -> None:
    result = build_site(BuildOptions(root=site, jobs=1), now=golden_now())
    assert result.ok
    assert result.left_out == LeftOut(
        drafts=(DRAFT,), future=((NEW_YEAR, datetime(2027, 1, 1, tzinfo=LONDON)),)
    )
    assert result.left_out.future[0][1].tzinfo == LONDON
    both = build_site(
        BuildOptions(root=site, output=tmp_path / "both", drafts=True, future=True, jobs=1),
        now=golden_now(),
    )
    assert both.ok and both.left_out == LeftOut() and not both.left_out
    # A draft dated in the future counts as a draft, or as a future story with --drafts.
    add_story(site, "2027-02-01-far-draft.md", "date: 2027-02-01\ndraft: true\n")
    far = f"{STORIES}/2027-02-01-far-draft.md"
    plain = build_site(BuildOptions(root=site, jobs=1), now=golden_now())
    assert plain.left_out.drafts == (DRAFT, far)
    assert [path for path, _ in plain.left_out.future] == [NEW_YEAR]
    drafts = build_site(BuildOptions(root=site, jobs=1, drafts=True), now=golden_now())
    assert drafts.left_out.drafts == ()
    assert [path for path, _ in drafts.left_out.future] == [NEW_YEAR, far]


def test_a_failed_build_has_nothing_left_out(site: Path) -> None:
    (site / NEW_YEAR).write_text("---\ntitle: x\ndate: tomorrow\n---\n")
    result = build_site(BuildOptions(root=site, jobs=1), now=golden_now())
    assert not result.ok
    assert result.left_out == LeftOut()


def test_the_no_change_check_keeps_what_was_left_out(site: Path) -> None:
    """In a fresh process the second build stops at the no-change check (the
    pipeline is never imported) and still knows what the first one left out."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from commsite.build.run import BuildOptions, build_site\n"
        "from golden.regenerate import golden_now\n"
        "r = build_site(BuildOptions(root=Path(sys.argv[1]), jobs=1), now=golden_now())\n"
        "print('commsite.build.pipeline' in sys.modules)\n"
        "print(r.left_out)\n"
    )
    tests = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tests), *PYTHONPATH]))}

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", script, str(site)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.splitlines()

    full, quick = run(), run()
    assert full[0] == "True" and quick[0] == "False"
    assert quick[1] == full[1]
    assert full[1] == repr(
        LeftOut(drafts=(DRAFT,), future=((NEW_YEAR, datetime(2027, 1, 1, tzinfo=LONDON)),))
    )


# --- and nothing built changes ----------------------------------------------------------


def test_what_is_left_out_changes_no_output_file(site: Path, tmp_path: Path) -> None:
    with_them = tmp_path / "with"
    assert build_site(BuildOptions(root=site, output=with_them, cache=False), now=golden_now()).ok
    (site / DRAFT).unlink()
    (site / NEW_YEAR).unlink()
    without = tmp_path / "without"
    result = build_site(BuildOptions(root=site, output=without, cache=False), now=golden_now())
    assert result.ok and not result.left_out
    assert tree(with_them) == tree(without)


def test_a_new_draft_rebuilds_nothing_and_is_told(site: Path, tmp_path: Path) -> None:
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        first = builder.build(now=golden_now())
        assert first.ok and first.left_out.drafts == (DRAFT,)
        before = tree(site / "public")
        draft = add_story(site, "2026-09-01-another.md", "date: 2026-09-01\ndraft: true\n")
        second = builder.build(now=golden_now())
        assert second.ok
        assert second.left_out.drafts == (DRAFT, draft)
        assert (second.rendered, second.written, second.removed) == ((), (), ())
    assert tree(site / "public") == before
