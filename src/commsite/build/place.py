"""The output folder and its hidden companion, where the build keeps its work.

Beside the output, `.NAME.commsite/` (one hidden folder that git ignores, by a
.gitignore of its own, on the same file system so renames between them are
atomic) holds the previous site, `previous/` (hard links: see build.switch),
`previous.json` (what differs between it and the output, and which folders
they are), the lock one build at a time holds, and the folders a running
build works in, named by its pid (removed when a killed build left them).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from commsite.processes import process_alive

__all__ = ["Place", "folder_identity"]

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
        """Undo a switch killed between its two renames (build.switch._swap): the
        output is missing and the previous site is aside. Call with the lock held."""
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
                data["output"] == folder_identity(self.output)
                and data["previous"] == folder_identity(self.previous)
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
                "output": folder_identity(self.output),
                "previous": folder_identity(self.previous),
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


def folder_identity(path: Path) -> list[int] | None:
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
