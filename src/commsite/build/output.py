"""The one module that writes the output tree.

Everything a build produces is first written into a staging directory beside
the output (in `.NAME.commsite/`, on the same file system, so renames are
atomic). Only when the whole build has succeeded does `Staging.commit` touch the
output:

* no output yet (or an empty directory): the staging directory is renamed into
  place in one step;
* an existing output (`commsite build`): the new site is made beside it, every
  unchanged file a hard link to the output's, and put in its place in one step
  (build.switch): a reader sees the old site or the new one, never a mix;
* an existing output the builder owns (`commsite serve`'s preview, whose server
  holds a lock while the build writes, so it never serves a half tree): each
  staged file whose bytes differ from the file on disk replaces it atomically
  (`os.replace`), and files that are no longer produced are deleted.

Either way unchanged files are left alone (their mtime too). `Staging.abort`
(on any error) removes the staging directory and leaves the previous output
byte-identical.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from commsite.build.place import Place
from commsite.build.switch import Copy, switch_output
from commsite.errors import CommsiteError
from commsite.processes import process_alive

__all__ = [
    "NO_SPACE",
    "CommitResult",
    "DiskFull",
    "FileState",
    "Staging",
    "file_digest",
    "scan_output",
    "write_staged",
]

# No room to write: the disk is full, or the user's quota is used up.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})

# A directory we are about to replace or prune must look like a site we built.
_SITE_MARKERS = ("index.html", "404.html")


def file_digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass(frozen=True, slots=True)
class FileState:
    """What we know of an output file on disk: enough to notice it changed."""

    digest: bytes
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class CommitResult:
    written: tuple[str, ...]  # files whose bytes changed on disk (sorted)
    removed: tuple[str, ...]  # files deleted because no longer produced (sorted)
    states: dict[str, FileState]  # the state of every file written this run


def write_staged(target: Path, data: bytes) -> FileState:
    """Write a new file into a staging directory (any process may): its state, with
    the mtime it was written with, which it keeps when a commit renames it into
    the output (so the commit need not stat thousands of files again)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        mtime_ns = os.fstat(fd).st_mtime_ns
    except OSError as exc:  # (os.write's error names no file: say which)
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    finally:
        os.close(fd)
    return FileState(file_digest(data), len(data), mtime_ns)


class DiskFull(CommsiteError):
    """No space left to write the new site: `path` is where it would have gone in
    the output (or the file the build was writing; None when the system did not
    say); the previous site is unchanged."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        super().__init__(self.message(None if path is None else str(path)))

    @staticmethod
    def message(shown: str | None) -> str:
        where = f" while writing {shown}" if shown is not None else " while building"
        return f"no space left on device{where}; the previous site is unchanged"


def scan_output(output: Path) -> set[str]:
    """Every file under `output`, as relative POSIX paths."""
    found: set[str] = set()
    if not output.is_dir():
        return found
    base = len(str(output)) + 1
    for dirpath, _dirnames, filenames in os.walk(output):
        prefix = dirpath[base:].replace(os.sep, "/")
        for name in filenames:
            found.add(f"{prefix}/{name}" if prefix else name)
    return found


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, from an earlier build of this process: stale
    return process_alive(pid)


def _is_empty_dir(path: Path) -> bool:
    with os.scandir(path) as it:
        return next(it, None) is None


class Staging:
    """A staging directory beside `output` that a build fills before committing.

    `switch`: commit by putting a complete new tree in the output's place (for
    outputs others read: `commsite build`), else by replacing changed files in
    place (`commsite serve`'s preview, read only under its server's lock)."""

    def __init__(self, output: Path, *, switch: bool = True) -> None:
        self.output = output
        self.switch = switch
        self.place = Place.of(output)
        self.place.prepare()
        parent = output.parent
        prefix = f".{output.name}.staging-"  # where builds before 0.9 staged
        for left in parent.glob(prefix + "*"):  # left behind by builds that were killed
            pid = left.name.removeprefix(prefix)
            if pid.isdigit() and not _running(int(pid)):
                shutil.rmtree(left, ignore_errors=True)
        self.path = self.place.work("staging-")
        if os.path.lexists(self.path):  # an earlier build of this process stopped
            shutil.rmtree(self.path)
        self.path.mkdir()
        self.staged: dict[str, FileState] = {}

    # --- filling ------------------------------------------------------------

    def add(self, relpath: str, state: FileState) -> None:
        """Record a file another process wrote into the staging directory."""
        self.staged[relpath] = state

    # --- finishing ----------------------------------------------------------

    def abort(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def commit(
        self,
        produced: Iterable[str],
        known: Mapping[str, FileState] | None,
        copy: Copy | None = None,
    ) -> CommitResult:
        """Move the staged files into the output and delete what is not produced.

        `produced` is every file the output must contain after the commit (staged
        or unchanged). `known` is what the build record says is on disk (None when
        there is no trustworthy record: the output directory is then scanned and
        unrecorded files are compared byte for byte). `copy`: a copy of the output
        started for this build (see build.switch.Copy).
        """
        # (A dict's keys are a set already: copying 24,000 paths per rebuild showed.)
        produced = produced if isinstance(produced, AbstractSet) else set(produced)
        output = self.output
        try:
            with self.place.locked():
                self.place.recover()
                if not output.exists() or (output.is_dir() and _is_empty_dir(output)):
                    return self._commit_fresh(produced)
                if not output.is_dir():
                    raise CommsiteError(
                        f"{output} exists and is not a directory; choose another -o"
                    )
                return self._commit_update(produced, known, copy)
        except OSError as exc:
            if exc.errno in NO_SPACE:
                raise DiskFull(self.output_path(exc.filename)) from None
            raise
        finally:
            self.abort()

    def output_path(self, filename: object) -> Path | None:
        """Where a file this build was writing (in the staging directory, or in
        the new tree beside the output) would be in the output; None for none."""
        if not isinstance(filename, str):
            return None
        path = Path(filename)
        hidden = self.place.hidden
        if path.is_relative_to(hidden):
            parts = path.relative_to(hidden).parts
            return self.output.joinpath(*parts[1:])
        return path

    def _commit_fresh(self, produced: AbstractSet[str]) -> CommitResult:
        missing = produced - self.staged.keys()
        if missing:  # cannot happen: without an output everything is staged
            raise CommsiteError(f"internal error: {len(missing)} outputs were not staged")
        if self.output.exists():
            self.output.rmdir()
        self.place.discard_previous()  # (a previous site of an output since removed)
        os.rename(self.path, self.output)
        states = {rel: self._stat_state(rel, st) for rel, st in self.staged.items()}
        return CommitResult(tuple(sorted(states)), (), states)

    def _commit_update(
        self,
        produced: AbstractSet[str],
        known: Mapping[str, FileState] | None,
        copy: Copy | None = None,
    ) -> CommitResult:
        output = self.output
        on_disk: AbstractSet[str] = known.keys() if known is not None else scan_output(output)
        if known is None and on_disk and not any(m in on_disk for m in _SITE_MARKERS):
            raise CommsiteError(
                f"{output} is not empty and does not look like a site commsite built "
                "(no index.html); refusing to overwrite it. Empty it or choose another -o"
            )
        if self.switch:
            return self._commit_switch(produced, on_disk, known, copy)
        written: list[str] = []
        states: dict[str, FileState] = {}
        for rel in sorted(self.staged):
            staged = self.staged[rel]
            target = output / rel
            if self._unchanged(rel, staged, target, known):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir():  # a directory became a file
                shutil.rmtree(target)
            os.replace(self.path / rel, target)
            written.append(rel)
            states[rel] = self._stat_state(rel, staged)
        removed = sorted(on_disk - produced)
        for rel in removed:
            try:
                (output / rel).unlink()
            except FileNotFoundError:
                pass
            except IsADirectoryError:
                shutil.rmtree(output / rel)
        _prune_empty_dirs(output, removed)
        return CommitResult(tuple(written), tuple(removed), states)

    def _commit_switch(
        self,
        produced: AbstractSet[str],
        on_disk: AbstractSet[str],
        known: Mapping[str, FileState] | None,
        copy: Copy | None,
    ) -> CommitResult:
        changed: list[str] = []
        kept: list[str] = []
        for rel in sorted(self.staged):
            if self._unchanged(rel, self.staged[rel], self.output / rel, known):
                kept.append(rel)
            else:
                changed.append(rel)
        removed = sorted(on_disk - produced)
        if changed or removed:
            switch_output(
                self.place,
                self.path,
                changed=changed,
                kept=kept,
                removed=removed,
                produced=produced,
                copy=copy,
            )
        states = {rel: self._stat_state(rel, self.staged[rel]) for rel in changed}
        return CommitResult(tuple(changed), tuple(removed), states)

    def _unchanged(
        self, rel: str, staged: FileState, target: Path, known: Mapping[str, FileState] | None
    ) -> bool:
        try:
            st = target.stat()
        except OSError:
            return False
        if st.st_size != staged.size:
            return False
        if known is not None:
            k = known.get(rel)
            if k is not None and k.size == st.st_size and k.mtime_ns == st.st_mtime_ns:
                return k.digest == staged.digest
        try:
            return file_digest(target.read_bytes()) == staged.digest
        except OSError:
            return False

    def _stat_state(self, rel: str, staged: FileState) -> FileState:
        if staged.mtime_ns:  # written by write_staged: renaming kept its mtime
            return staged
        st = (self.output / rel).stat()
        return FileState(staged.digest, st.st_size, st.st_mtime_ns)


def _prune_empty_dirs(output: Path, removed: Iterable[str]) -> None:
    parents = {str(Path(rel).parent) for rel in removed}
    for parent in sorted(parents, key=lambda p: p.count("/"), reverse=True):
        d = output / parent
        while d != output:
            try:
                d.rmdir()
            except OSError:
                break
            d = d.parent


def current_state(output: Path, rel: str, digest: bytes) -> FileState | None:
    """The state of an existing output file, given the digest it should have."""
    try:
        st = (output / rel).stat()
    except OSError:
        return None
    return FileState(digest, st.st_size, st.st_mtime_ns)
