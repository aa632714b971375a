"""Which file-system events matter to a preview, and how bursts are grouped.

Pure functions and a small debouncer, kept apart from watchdog so they can be
tested directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

__all__ = ["WATCHED", "Debouncer", "is_relevant"]

# What a preview watches, relative to the site root.
WATCHED = ("content", "static", "theme", "interactions", "federation", "commsite.yaml")

_TEMP_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".temp", ".bak", "~", ".part", ".crdownload")
_TEMP_NAMES = {"4913", ".DS_Store", "Thumbs.db"}  # 4913: vim's write-permission probe


def is_relevant(root: Path, path: str | Path, outside: Iterable[Path] = ()) -> bool:
    """True for a file under a watched folder, or under one of the `outside`
    folders (resolved: a theme the site uses from elsewhere, or from a folder of
    its own that is not watched), that is not an editor's temporary file."""
    resolved = Path(path).resolve()
    try:
        rel = PurePosixPath(resolved.relative_to(root.resolve()).as_posix())
    except ValueError:
        rel = None
    watched = rel is not None and bool(rel.parts) and rel.parts[0] in WATCHED
    if not watched and not any(resolved.is_relative_to(folder) for folder in outside):
        return False
    return not _temporary(resolved.name)


def _temporary(name: str) -> bool:
    """An editor's temporary, backup or lock file (or a desktop's metadata file)."""
    if name in _TEMP_NAMES or name.endswith(_TEMP_SUFFIXES):
        return True
    if name.startswith((".#", "#")) or name.endswith("#"):  # emacs lock and autosave files
        return True
    if "___jb_" in name:  # JetBrains safe-write temporaries
        return True
    return name.startswith(".") and name.endswith((".swp", ".swx", ".kate-swp"))


class Debouncer:
    """Collects paths and calls `flush(paths)` once the burst has been quiet for `quiet` seconds.

    A steady stream of events still flushes every `longest` seconds, so a tool
    that keeps writing cannot starve the preview.
    """

    def __init__(
        self,
        flush: Callable[[set[Path]], None],
        *,
        quiet: float = 0.08,
        longest: float = 0.5,
    ) -> None:
        self._flush = flush
        self._quiet = quiet
        self._longest = longest
        self._lock = threading.Lock()
        self._pending: set[Path] = set()
        self._timer: threading.Timer | None = None
        self._first: float | None = None

    def add(self, paths: Iterable[Path], now: float) -> None:
        with self._lock:
            self._pending.update(paths)
            if self._first is None:
                self._first = now
            if self._timer is not None:
                self._timer.cancel()
            delay = min(self._quiet, max(0.0, self._first + self._longest - now))
            self._timer = threading.Timer(delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            paths, self._pending = self._pending, set()
            self._first = None
            self._timer = None
        if paths:
            self._flush(paths)

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self._pending.clear()
