"""Watching a site's files with watchdog and turning events into rebuilds."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from commsite.serve.changes import WATCHED, Debouncer, is_relevant

__all__ = ["SiteWatcher"]


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, debouncer: Debouncer) -> None:
        self._root = root
        self._debouncer = debouncer

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            # A folder "changes" whenever a file in it is added, removed or
            # renamed, and that file's own event follows. Counting the folder
            # too could split one save into two rebuilds.
            return
        paths = [event.src_path]
        # An atomic-rename save (write a temp file, rename it over the real one)
        # arrives as a move whose destination is the file that changed.
        dest = getattr(event, "dest_path", "")
        if dest:
            paths.append(dest)
        relevant = [
            Path(p if isinstance(p, str) else p.decode())
            for p in paths
            if is_relevant(self._root, p if isinstance(p, str) else p.decode())
        ]
        if relevant:
            self._debouncer.add(relevant, time.monotonic())


class SiteWatcher:
    """Calls `on_change(paths)` after each burst of relevant changes under `root`."""

    def __init__(self, root: Path, on_change: Callable[[set[Path]], None]) -> None:
        self.root = root.resolve()
        self._debouncer = Debouncer(on_change)
        self._observer = Observer()
        handler = _Handler(self.root, self._debouncer)
        # Watch the root itself (not recursively) for commsite.yaml and folders that
        # appear later, and each watched folder recursively.
        self._observer.schedule(handler, str(self.root), recursive=False)
        for name in WATCHED:
            folder = self.root / name
            if folder.is_dir():
                self._observer.schedule(handler, str(folder), recursive=True)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._debouncer.cancel()
        self._observer.stop()
        self._observer.join(timeout=5)
