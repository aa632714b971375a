"""public/ is switched, not patched: a `commsite build` killed at any moment, or a
reader looking while it runs, finds the previous site or the new one, never a
mix; a full disk is one line and leaves the previous site as it was."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from commsite.build import switch
from commsite.build.run import Builder, BuildOptions
from golden.regenerate import SITE, SOURCE_DATE_EPOCH, golden_now
from needs import require

Tree = dict[str, bytes]

STORY = """---
title: Story number {n}
date: 2025-{month:02d}-{day:02d}
author: ada
tags: [news, n{tag}]
---
Paragraph {n} about mending *things*, with a [link](https://example.org/{n}).

- one
- two
"""


def tree(root: Path) -> Tree:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def without_search_numbering(files: Tree) -> Tree:
    """`files` without the search index's files whose bytes depend on the order
    its pages were numbered in (all but the page fragments), which must be
    there all the same."""
    kept = {
        p: data
        for p, data in files.items()
        if not p.startswith("pagefind/")
        or p.startswith("pagefind/fragment/")
        or p.endswith((".js", ".css"))
    }
    numbered = [p for p in files.keys() - kept.keys() if p.endswith((".pf_meta", ".pf_index"))]
    kept["pagefind/(numbered)"] = b"%d" % len(numbered)
    return kept


def tree_at(dir_fd: int) -> Tree:
    """Every file under an open folder, read relative to it (as a reader that
    opened public/ once does)."""
    found: Tree = {}
    for folder, _dirs, files, fd in os.fwalk(".", dir_fd=dir_fd):
        for name in files:
            file_fd = os.open(name, os.O_RDONLY, dir_fd=fd)
            with os.fdopen(file_fd, "rb") as f:
                found[os.path.normpath(os.path.join(folder, name))] = f.read()
    return found


def make_site(root: Path, stories: int) -> Path:
    shutil.copytree(SITE, root)
    for n in range(stories):
        name = root / "content" / "stories" / f"2025-01-01-story-{n:04d}.md"
        name.write_text(STORY.format(n=n, month=1 + n % 12, day=1 + n % 28, tag=n % 7))
    return root


def retitle(root: Path, title: str) -> None:
    """Change the site's title: every page changes."""
    config = root / "commsite.yaml"
    text = re.sub(r"(?m)^title: .*$", f"title: {title}", config.read_text())
    config.write_text(text)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "commsite", *args]


ENV = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}


def run_build(root: Path, *extra: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli("build", str(root), "--jobs", "1", *extra),
        env=ENV,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def hidden_left(root: Path, output: str = "public") -> list[str]:
    """What a build left in the hidden folder beside the output besides its own
    bookkeeping (the previous site, its journal, the lock, the .gitignore)."""
    hidden = root / f".{output}.commsite"
    keep = {"previous", "previous.json", "lock", ".gitignore"}
    return sorted(p.name for p in hidden.iterdir() if p.name not in keep)


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Tree, Tree]:
    """A site of 80 stories and its two builds: titled "Old" and "New"."""
    root = make_site(tmp_path_factory.mktemp("switch") / "site", 80)
    retitle(root, "New")
    assert run_build(root, "-o", str(root.parent / "new")).returncode == 0
    retitle(root, "Old")
    assert run_build(root, "-o", str(root.parent / "old")).returncode == 0
    return root, tree(root.parent / "old"), tree(root.parent / "new")


def _start(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli("build", str(root), "--jobs", "1"),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _wait_for(proc: subprocess.Popen[str], what: Callable[[], bool]) -> bool:
    """Poll `what()` until true (True), or until the build ends first (False)."""
    while proc.poll() is None:
        if what():
            return True
    return False


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


# --- kill -9 --------------------------------------------------------------------


def test_a_build_killed_at_any_moment_leaves_the_old_site_or_the_new(
    references: tuple[Path, Tree, Tree],
) -> None:
    """Kill a real `commsite build` (every page changes) at many moments: as soon
    as the first output file changes on disk (patching public/ file by file,
    this was in the middle of a commit: a mix), and at delays after its staging
    folder appears; each time public/ is the old tree or the new one, byte for
    byte, and the next build finishes the new one and leaves nothing behind."""
    root, old, new = references
    public = root / "public"
    first_changed = public / sorted(k for k in old if old[k] != new.get(k))[0]
    hidden = root / ".public.commsite"
    outcomes: list[str] = []

    def staged(pid: int) -> bool:
        return (hidden / f"staging-{pid}").exists() or (root / f".public.staging-{pid}").exists()

    def first_file_changed(inode: int) -> bool:
        try:
            return os.stat(first_changed).st_ino != inode
        except FileNotFoundError:
            return True

    # None: when the first file of the output changes; a number: seconds after staging starts.
    moments: list[float | None] = [None, None, 0.0, 0.1, 0.3, 1.0]
    for moment in moments:
        retitle(root, "Old")
        assert run_build(root).returncode == 0
        assert tree(public) == old
        inode = os.stat(first_changed).st_ino
        retitle(root, "New")
        proc = _start(root)
        if moment is None:
            running = _wait_for(proc, lambda: first_file_changed(inode))  # noqa: B023
        else:
            running = _wait_for(proc, lambda: staged(proc.pid))  # noqa: B023
            time.sleep(moment)  # (a spread of moments, not synchronisation)
        if running and proc.poll() is None:
            _kill(proc)
            outcomes.append("killed")
        else:
            proc.wait()
            outcomes.append("finished")
        now = tree(public)
        assert now in (old, new), f"a mix after a kill at {moment}: {_mix(now, old, new)}"
        outcomes[-1] += " old" if now == old else " new"
        finished = run_build(root)
        assert finished.returncode == 0, finished.stderr
        assert tree(public) == new
        assert hidden_left(root) == []
        assert not [p for p in root.iterdir() if ".staging" in p.name]
    # The kills landed before the switch, and the first-file moments after it.
    assert "killed old" in outcomes and any(o.endswith("new") for o in outcomes), outcomes


def _mix(now: Tree, old: Tree, new: Tree) -> str:
    as_old = sum(1 for k, v in now.items() if old.get(k) == v and new.get(k) != v)
    as_new = sum(1 for k, v in now.items() if new.get(k) == v and old.get(k) != v)
    return f"{as_old} files of the old site, {as_new} of the new"


# --- a reader while builds run --------------------------------------------------------


def test_a_reader_that_opens_public_once_sees_one_whole_site(
    references: tuple[Path, Tree, Tree],
) -> None:
    """One thread reads the whole of public/ again and again, through a folder
    descriptor opened once (os.fwalk), while builds switch it between the two
    sites: every read is the old site or the new one. (The contract, in
    docs/organisers.md: a tree opened once stays whole until the build after
    the next one starts; every single file opened by path is whole.)"""
    root, old, new = references
    retitle(root, "Old")
    assert run_build(root).returncode == 0
    public = root / "public"
    started = finished = 0
    stop = threading.Event()
    seen: list[str] = []
    problems: list[str] = []

    def read() -> None:
        while not stop.is_set():
            done_before = finished
            fd = os.open(public, os.O_RDONLY | os.O_DIRECTORY)
            try:
                snapshot = tree_at(fd)
            finally:
                os.close(fd)
            if started > done_before + 1:
                continue  # opened a site that a later build has since reused
            if snapshot == old:
                seen.append("old")
            elif snapshot == new:
                seen.append("new")
            else:
                problems.append(_mix(snapshot, old, new))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        with Builder(BuildOptions(root=root, jobs=1)) as builder:
            for n in range(6):
                retitle(root, "New" if n % 2 == 0 else "Old")
                started += 1
                assert builder.build(now=golden_now()).ok
                finished += 1
    finally:
        stop.set()
        reader.join()
    assert problems == []
    assert "old" in seen and "new" in seen, seen


def test_without_renameat2_the_switch_renames_twice(
    references: tuple[Path, Tree, Tree], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the exchange is unavailable (not Linux), the output is renamed aside
    and the new tree into its place; a build killed between the two renames
    (the output missing, the old site aside) is put back by the next build."""
    root, old, new = references
    retitle(root, "Old")
    assert run_build(root).returncode == 0
    monkeypatch.setattr(switch, "exchange", lambda a, b: False)
    retitle(root, "New")
    with Builder(BuildOptions(root=root, jobs=1)) as builder:
        assert builder.build(now=golden_now()).ok
    assert tree(root / "public") == new
    assert tree(root / ".public.commsite" / "previous") == old
    # The moment between the two renames, as a kill leaves it.
    os.rename(root / "public", root / ".public.commsite" / "aside")
    retitle(root, "Old")
    with Builder(BuildOptions(root=root, jobs=1)) as builder:
        assert builder.build(now=golden_now()).ok
    assert tree(root / "public") == old
    assert hidden_left(root) == []


def test_unchanged_files_are_the_same_inodes_and_the_previous_site_is_kept(
    tmp_path: Path,
) -> None:
    root = make_site(tmp_path / "site", 3)
    assert run_build(root).returncode == 0
    public, previous = root / "public", root / ".public.commsite" / "previous"
    # (The search index's files are named after their content: an edit replaces some.)
    inodes = {
        p: p.stat().st_ino
        for p in public.rglob("*")
        if p.is_file() and not p.relative_to(public).as_posix().startswith("pagefind/")
    }
    before = tree(public)
    story = root / "content" / "stories" / "2025-01-01-story-0001.md"
    story.write_text(story.read_text() + "\nOne more line.\n")
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    assert tree(previous) == before
    changed = {p for p in inodes if p.read_bytes() != before[p.relative_to(public).as_posix()]}
    assert changed and len(changed) < len(inodes) / 4
    for path, inode in inodes.items():
        assert (path.stat().st_ino == inode) == (path not in changed), path
    # A second edit reuses the previous site: no new tree is linked.
    story.write_text(story.read_text() + "\nAnd another.\n")
    assert run_build(root).returncode == 0
    assert tree(public) == tree(_clean_build(root, tmp_path / "clean"))
    assert hidden_left(root) == []


def _clean_build(root: Path, output: Path) -> Path:
    assert run_build(root, "-o", str(output), "--no-cache").returncode == 0
    return output


def test_a_changed_previous_site_is_not_trusted(tmp_path: Path) -> None:
    """previous.json names the two folders it is about: a previous/ replaced by
    someone else is put aside and made again from the output."""
    root = make_site(tmp_path / "site", 3)
    assert run_build(root).returncode == 0
    story = root / "content" / "stories" / "2025-01-01-story-0002.md"
    story.write_text(story.read_text() + "\nEdited.\n")
    assert run_build(root).returncode == 0
    previous = root / ".public.commsite" / "previous"
    shutil.rmtree(previous)
    shutil.copytree(SITE / "static", previous)  # something else entirely
    story.write_text(story.read_text() + "\nEdited again.\n")
    assert run_build(root).returncode == 0
    assert tree(root / "public") == tree(_clean_build(root, tmp_path / "clean"))
    assert hidden_left(root) == []


# --- a full disk -----------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real, small file system at `where` (tmpfs, mounted as root: CI runs as root)."""
    where.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    require(mounted.returncode == 0, f"cannot mount a small tmpfs: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", "16m") as where:  # (the search index needs about 1.5 MiB)
        yield where


def test_a_full_disk_is_one_line_and_the_previous_site_is_unchanged(
    tmp_path: Path, small_disk: Path
) -> None:
    root = make_site(tmp_path / "site", 40)
    output = small_disk / "www"
    assert run_build(Path("site"), "-o", "disk/www", cwd=tmp_path).returncode == 0
    before = tree(output)
    free = shutil.disk_usage(small_disk).free
    # A picture as large as the room left, so the new site cannot fit.
    (root / "static" / "big.bin").write_bytes(os.urandom(free))
    retitle(root, "New")
    result = run_build(Path("site"), "-o", "disk/www", cwd=tmp_path)
    assert result.returncode == 1
    line = re.escape("error: no space left on device while writing disk/www/") + (
        r"[^ ;]+; the previous site is unchanged\n"
    )
    assert re.fullmatch(line, result.stderr), result.stderr
    assert tree(output) == before
    assert hidden_left(small_disk, "www") == []
    # With room again, the next build makes the new site.
    (root / "static" / "big.bin").unlink()
    assert run_build(Path("site"), "-o", "disk/www", cwd=tmp_path).returncode == 0
    # (Pagefind numbers the pages in the order the file system lists them, so
    # its word index and filters are compared by the pages they index.)
    built, clean = tree(output), tree(_clean_build(root, tmp_path / "clean"))
    assert without_search_numbering(built) == without_search_numbering(clean)


def test_a_full_disk_under_the_build_cache_is_one_line(tmp_path: Path) -> None:
    """The data folder (.commsite/, where the build cache lives) on a disk with no
    room: the build says so in one line, without a traceback. Either the cache
    is dropped and the site built without it (a warning), or the build stops
    before the switch (an error) and the previous site is unchanged."""
    root = make_site(tmp_path / "site", 3)
    assert run_build(Path("site"), cwd=tmp_path).returncode == 0
    before = tree(root / "public")
    with tmpfs(root / ".commsite", "64k"):  # (over the cache: an empty data folder)
        retitle(root, "New")
        result = run_build(Path("site"), cwd=tmp_path)
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        lines = result.stderr.splitlines()
        assert lines[-1] == (
            "warning: no space left on device while writing the build cache in "
            "site/.commsite/build-cache/; the site was built without it, and the next "
            "build starts from scratch"
        ), result.stderr
        assert tree(root / "public") == tree(_clean_build(root, tmp_path / "clean"))
    else:
        assert result.returncode == 1
        assert re.fullmatch(
            r"error: no space left on device while (writing site/\S+|building); "
            r"the previous site is unchanged\n",
            result.stderr,
        ), result.stderr
        assert tree(root / "public") == before


def test_a_full_disk_in_serve_is_a_failed_build_the_page_shows(tmp_path: Path) -> None:
    """commsite serve's preview on a full disk: the rebuild fails with the error
    on the page and in the terminal, and the server goes on (no traceback in the
    watcher's thread)."""
    from commsite.serve.preview import Preview, PreviewOptions

    root = make_site(tmp_path / "site", 3)
    lines: list[str] = []
    with tmpfs(root / ".commsite", "64k"):
        preview = Preview(PreviewOptions(root=root, port=0), echo=lines.append)
        try:
            result = preview.build_all()
        finally:
            preview.server.server_close()
    assert not result.ok
    assert [d.message for d in result.diagnostics] == ["no space left on device"]
    assert any("error: no space left on device; free some room" in line for line in lines)
