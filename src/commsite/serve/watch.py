"""Watching a site's files with watchdog and turning events into rebuilds."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from commsite.serve.changes import WATCHED, Debouncer, is_relevant

__all__ = ["SiteWatcher"]


class _Handler(FileSystemEventHandler):
    def __init__(
        self, root: Path, debouncer: Debouncer, appeared: Callable[[], None] = lambda: None
    ) -> None:
        self._root = root
        self._debouncer = debouncer
        self._appeared = appeared
        # watched folders outside the site's watched folders (resolved)
        self.outside: tuple[Path, ...] = ()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type in ("created", "moved", "deleted"):
            # An input folder made (or renamed into place, or removed) while the
            # preview runs, such as interactions/ on the first export: watch it now.
            self._appeared()
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
            if is_relevant(self._root, p if isinstance(p, str) else p.decode(), self.outside)
        ]
        if relevant:
            self._debouncer.add(relevant, time.monotonic())


class SiteWatcher:
    """Calls `on_change(paths)` after each burst of relevant changes under `root`
    (and in the folders outside it given to `watch_outside`)."""

    def __init__(self, root: Path, on_change: Callable[[set[Path]], None]) -> None:
        self.root = root.resolve()
        self._debouncer = Debouncer(on_change)
        self._observer = Observer()
        self._handler = handler = _Handler(self.root, self._debouncer, self.watch_inputs)
        self._outside: dict[Path, ObservedWatch] = {}
        # Each input folder watched recursively, with the identity (device,
        # inode) of the folder the watch was set on.
        self._inputs: dict[str, tuple[tuple[int, int], ObservedWatch]] = {}
        self._inputs_lock = threading.Lock()
        # Watch the root itself (not recursively) for commsite.yaml and folders that
        # appear later, and each watched folder recursively.
        self._observer.schedule(handler, str(self.root), recursive=False)
        self.watch_inputs()

    def watch_inputs(self) -> None:
        """Watch every input folder that exists now: one made after the start, or
        removed and made again (whose old watch ended with it), is watched from
        here on. Called when a folder appears or goes, and after every build
        (whose scan catches files written into a new folder before its watch)."""
        with self._inputs_lock:
            alive = {e.watch for e in self._observer.emitters if e.is_alive()}
            for name in WATCHED:
                folder = self.root / name
                try:
                    st = os.stat(folder)
                except OSError:
                    st = None
                is_dir = st is not None and stat.S_ISDIR(st.st_mode)
                identity = (st.st_dev, st.st_ino) if st is not None else (0, 0)
                known = self._inputs.get(name)
                started = self._observer.is_alive()  # before start, no emitter runs yet
                if known is not None and (
                    not is_dir or known[0] != identity or (started and known[1] not in alive)
                ):
                    del self._inputs[name]  # gone, replaced, or its watch ended
                    with contextlib.suppress(KeyError):
                        self._observer.unschedule(known[1])
                if not is_dir or name in self._inputs:
                    continue
                try:
                    watch = self._observer.schedule(self._handler, str(folder), recursive=True)
                except OSError:  # removed again meanwhile: the next call sees it
                    continue
                self._inputs[name] = (identity, watch)

    def watch_outside(self, folders: Iterable[Path]) -> None:
        """Watch these folders too (the template and asset folders of a theme the
        site uses from elsewhere, or from a folder of its own that is not watched,
        such as `theme: mytheme`), and no longer those it stopped using."""
        watched = [self.root / name for name in WATCHED]
        wanted = {f.resolve() for f in folders}
        wanted = {f for f in wanted if f.is_dir() and not any(f.is_relative_to(w) for w in watched)}
        for folder in self._outside.keys() - wanted:
            self._observer.unschedule(self._outside.pop(folder))
        for folder in sorted(wanted - self._outside.keys()):
            watch = self._observer.schedule(self._handler, str(folder), recursive=True)
            self._outside[folder] = watch
        self._handler.outside = tuple(sorted(self._outside))

    @property
    def outside(self) -> tuple[Path, ...]:
        """The folders outside the site being watched."""
        return self._handler.outside

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        """Stop watching (also a watcher never started: its folders' watches end)."""
        self._debouncer.cancel()
        self._observer.stop()
        if self._observer.is_alive():
            self._observer.join(timeout=5)
