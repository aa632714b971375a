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
import fcntl
import json
import os
import shutil
import signal
import stat
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from commsite.build.parallel import Background, submit
from commsite.build.tree_ops import exchange, link_tree
from commsite.errors import CommsiteError
from commsite.processes import process_alive

__all__ = ["Copy", "Place", "switch_output"]

_FORMAT = 1
# Folders the build leaves in the hidden folder while it runs, by the pid that owns them.
_WORK = ("staging-", "copy-", "trash-", "journal-", "search-")  # (search-: build.search)


@dataclass(frozen=True, slots=True)
class Place:
    """The output folder and its hidden companion `.NAME.commsite/` beside it
    (same file system, so renames between them are atomic)."""

    output: Path
    hidden: Path

    @classmethod
    def of(cls, output: Path) -> Place:
        return cls(output, output.parent / f".{output.name}.commsite")

    @property
    def previous(self) -> Path:
        return self.hidden / "previous"

    @property
    def journal(self) -> Path:
        return self.hidden / "previous.json"

    @property
    def aside(self) -> Path:
        return self.hidden / "aside"

    def work(self, kind: str) -> Path:
        return self.hidden / f"{kind}{os.getpid()}"

    def prepare(self) -> None:
        """Make the hidden folder, and remove what killed builds left in it."""
        self.hidden.mkdir(parents=True, exist_ok=True)
        ignore = self.hidden / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")
        with os.scandir(self.hidden) as entries:
            for entry in entries:
                kind = next((k for k in _WORK if entry.name.startswith(k)), None)
                if kind is None:
                    continue
                pid = entry.name.removeprefix(kind)
                if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One build at a time changes the output and `previous/`."""
        fd = os.open(self.hidden / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # (closing releases the lock)

    def recover(self) -> None:
        """Undo a switch killed between its two renames (see `_swap`): the output
        is missing and the previous site is aside. Call with the lock held."""
        if self.aside.is_dir() and not os.path.lexists(self.output):
            os.rename(self.aside, self.output)
        elif os.path.lexists(self.aside):
            self._discard(self.aside)

    def forget(self) -> None:
        """`previous/` is no longer what `previous.json` says (or about to change)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.journal)

    def trusted_previous(self) -> set[str] | None:
        """The paths where `previous/` may differ from the output, when
        `previous.json` vouches for both folders; None when it cannot."""
        try:
            data = json.loads(self.journal.read_bytes())
            if not isinstance(data, dict) or data.get("format") != _FORMAT:
                return None
            differs = data["differs"]
            if not (
                data["output"] == _identity(self.output)
                and data["previous"] == _identity(self.previous)
                and isinstance(differs, list)
                and all(isinstance(p, str) and _safe(p) for p in differs)
            ):
                return None
        except (OSError, ValueError, KeyError):
            return None
        return set(differs)

    def remember(self, differs: Iterable[str]) -> None:
        """Write `previous.json` for the output and `previous/` as they are now
        (an error only costs the next build a full `link_tree`)."""
        tmp = self.work("journal-")
        try:
            data = {
                "format": _FORMAT,
                "output": _identity(self.output),
                "previous": _identity(self.previous),
                "differs": sorted(differs),
            }
            tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self.journal)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def discard_previous(self) -> None:
        """Remove an untrusted `previous/` (and its journal)."""
        self.forget()
        if os.path.lexists(self.previous):
            self._discard(self.previous)

    def _discard(self, path: Path) -> None:
        trash = self.work("trash-")
        if os.path.lexists(trash):
            shutil.rmtree(trash, ignore_errors=True)
        os.rename(path, trash)
        shutil.rmtree(trash, ignore_errors=True)


def _identity(path: Path) -> list[int] | None:
    """A folder's device, inode and ctime: a folder made in its place (which may
    well get the inode number just freed) has another ctime, and so does one
    whose entries someone changed."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_ctime_ns] if stat.S_ISDIR(st.st_mode) else None


def _safe(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts)


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
        identity = _identity(place.output)
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
        if _identity(self.place.output) != self._identity:  # another build switched it
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
            if self.place.trusted_previous() is None and _identity(self.place.output) == (
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


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except (FileNotFoundError, NotADirectoryError):
        pass
    except (IsADirectoryError, PermissionError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            raise


def _make_parents(base: Path, rel: str) -> Path:
    """base/rel's folder, made where missing (a file in the way is removed)."""
    target = base / rel
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        folder = base
        for part in rel.split("/")[:-1]:
            folder = folder / part
            if not folder.is_dir() or folder.is_symlink():
                _remove(folder)
                folder.mkdir()
    return target


def _link(output: Path, base: Path, rel: str) -> None:
    target = _make_parents(base, rel)
    if os.path.lexists(target):
        _remove(target)
    try:
        os.link(output / rel, target, follow_symlinks=False)
    except FileNotFoundError:
        if (output / rel).exists():
            raise
        raise CommsiteError(
            f"{output / rel} disappeared while the site was being built; build again"
        ) from None


def _put(staging: Path, base: Path, rel: str) -> None:
    target = _make_parents(base, rel)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    os.replace(staging / rel, target)


def _prune(base: Path, removed: Iterable[str]) -> None:
    parents = {rel.rpartition("/")[0] for rel in removed}
    for parent in sorted(parents, key=lambda p: p.count("/"), reverse=True):
        folder = base / parent
        while parent and folder != base:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


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
        _remove(base / rel)
    _prune(base, gone)
    fresh = set(changed)
    for rel in sorted((differs & produced) - fresh):
        _link(output, base, rel)
    for rel in changed:
        _put(staging, base, rel)


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
        strays = _files(place.output) - produced  # what the output has that the site has not
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


def _files(root: Path) -> set[str]:
    found: set[str] = set()
    base = len(str(root)) + 1
    for dirpath, _dirnames, filenames in os.walk(root):
        prefix = dirpath[base:].replace(os.sep, "/")
        found.update(f"{prefix}/{n}" if prefix else n for n in filenames)
    return found
