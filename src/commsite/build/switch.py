"""Putting a new site in the output's place in one step.

`commsite build` never patches public/ file by file: a reader of public/ (a web
server during a deploy) sees the previous site or the new one, never a mix, and a
build killed at any moment leaves one or the other.

Beside the output, in `.public.commsite/` (one hidden folder that git ignores,
by a .gitignore of its own), the build keeps the previous site, `previous/`, made
of hard links to the output's files (so it takes almost no room). A build that
changed something

1. forgets `previous.json` (from here on, `previous/` is not trusted);
2. makes `previous/` equal to the output, by linking again the files the last
   build changed (`previous.json` listed them), then into the new site: the
   files this build wrote are renamed in, those no longer made are deleted;
3. exchanges `previous/` and the output in one `renameat2(RENAME_EXCHANGE)`;
4. writes `previous.json`: what now differs between the two, and which folders
   they are (device, inode and ctime), for the next build.

So the work is proportional to what changed, and unchanged files are never
rewritten (both trees hold the same inode, mtime and all). Without a trusted
`previous/` (the first build with changes after a clean one, after a kill, after
someone deleted it) it is made first, by linking every file of the output
(`link_tree`, in threads: 12,000 files and 6,300 folders at 5,000 stories).

Where the exchange is not available (not Linux, or a file system that refuses
it), the output is renamed aside and the new tree renamed into its place: for
the moment between the two renames the output folder does not exist (never a
mix), and a build killed right then is undone by the next one (`recover`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING

from commsite.build.place import Place, folder_identity
from commsite.build.tree_ops import (
    exchange,
    link_into,
    link_tree,
    prune_folders,
    put_into,
    remove_path,
    tree_files,
)

if TYPE_CHECKING:
    from commsite.build.parallel import Background

__all__ = ["Copy", "switch_output"]


class Copy:
    """`link_tree(output, copy-PID)` running in a forked process while the build
    loads and plans, for a build that will need a new `previous/` (none is
    trusted): its second core does the file system's waiting meanwhile."""

    def __init__(self, place: Place, job: Background[None], identity: list[int] | None) -> None:
        self.place = place
        self.path = place.work("copy-")
        self._job: Background[None] | None = job
        self._identity = identity  # the output's, when the copy began

    @classmethod
    def start(cls, place: Place) -> Copy | None:
        """Start the copy, unless the output is not a folder, `previous/` is
        trusted, or this process cannot fork (the commit then copies itself)."""
        if not place.output.is_dir() or place.trusted_previous() is not None:
            return None
        place.prepare()
        copy = place.work("copy-")
        if os.path.lexists(copy):
            shutil.rmtree(copy)
        identity = folder_identity(place.output)
        from commsite.build.parallel import submit  # (a build with no change never gets here)

        job = submit(_copy_for, os.getpid(), place.output, copy)
        return None if job is None else cls(place, job, identity)

    def take(self) -> Path | None:
        """The finished copy, if it is still the output's (else None, removed)."""
        job, self._job = self._job, None
        if job is None:
            return None
        try:
            job.result()
        except OSError:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        if folder_identity(self.place.output) != self._identity:  # another build switched it
            shutil.rmtree(self.path, ignore_errors=True)
            return None
        return self.path

    def settle(self) -> None:
        """After a build that did not switch: keep the copy as `previous/` when
        none is trusted (the next build with changes then starts from it)."""
        if self._job is None:
            return
        try:
            path = self.take()
        except OSError:
            return
        if path is None:
            return
        with self.place.locked():
            if self.place.trusted_previous() is None and folder_identity(self.place.output) == (
                self._identity
            ):
                self.place.discard_previous()
                os.rename(path, self.place.previous)
                self.place.remember(())
                return
        shutil.rmtree(path, ignore_errors=True)


def _copy_for(parent: int, source: Path, target: Path) -> None:
    """link_tree in Copy's forked process, which dies with the build (a build
    killed with -9 must not leave it linking into a folder the next one removes)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the build died before prctl
        return
    link_tree(source, target)


# --- the switch ------------------------------------------------------------------


def _swap(place: Place, new: Path) -> None:
    """Put the complete tree `new` in the output's place, and the output at
    `place.previous` (which must be `new` itself or not exist)."""
    if exchange(new, place.output):
        if new != place.previous:
            os.rename(new, place.previous)
        return
    # No exchange: two renames, between which the output is missing (see recover()).
    os.rename(place.output, place.aside)
    os.rename(new, place.output)
    os.rename(place.aside, place.previous)


def _catch_up(
    base: Path,
    place: Place,
    staging: Path,
    differs: AbstractSet[str],
    changed: list[str],
    removed: list[str],
    produced: AbstractSet[str],
) -> None:
    """Turn `base`, equal to the output but at `differs`, into the new site."""
    output = place.output
    gone = sorted((differs | set(removed)) - produced, key=lambda p: -p.count("/"))
    for rel in gone:
        remove_path(base / rel)
    prune_folders(base, gone)
    fresh = set(changed)
    for rel in sorted((differs & produced) - fresh):
        link_into(output, base, rel)
    for rel in changed:
        put_into(staging, base, rel)


def switch_output(
    place: Place,
    staging: Path,
    *,
    changed: list[str],
    kept: list[str],
    removed: list[str],
    produced: AbstractSet[str],
    copy: Copy | None = None,
) -> None:
    """Make the new site and put it in the output's place in one step.

    `staging` holds the files this build wrote: `changed` (new bytes) and `kept`
    (bytes equal to the output's file); `removed` are the output's files no
    longer produced; `produced` every file of the new site; `copy`, one this
    build started. Call with the lock held; the output must be a folder."""
    differs = place.trusted_previous()
    place.forget()  # from here on, previous/ changes
    if differs is not None:
        base = place.previous
        _catch_up(base, place, staging, differs, changed, removed, produced)
        _swap(place, base)
        place.remember([*changed, *removed])
        return
    place.discard_previous()
    made = copy.take() if copy is not None else None
    if made is None and produced <= {*changed, *kept}:
        # Every file was written (no record, or all changed): the staging folder
        # is the new site once the unchanged files are the output's own again.
        for rel in kept:
            os.unlink(staging / rel)
            os.link(place.output / rel, staging / rel, follow_symlinks=False)
        strays = tree_files(place.output) - produced  # what the output has that the site has not
        _swap(place, staging)
        place.remember([*changed, *strays])
        return
    if made is None:
        made = place.work("copy-")
        if os.path.lexists(made):
            shutil.rmtree(made)
        link_tree(place.output, made)
    _catch_up(made, place, staging, set(), changed, removed, produced)
    _swap(place, made)
    place.remember([*changed, *removed])
