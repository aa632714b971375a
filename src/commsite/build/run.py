"""A build: scan -> parse -> assemble -> plan -> render -> write, in one direction.

Nothing is written to the output until everything before succeeded; on any
error (or any warning with `strict`) the previous output stays byte-identical.

`Builder.build` runs one build: the no-change check (`build/unchanged.py`),
then, unless that settles it, the full build's steps (`build/pipeline.py`), each
named and timed by `Run.step`. A `Builder` keeps what the next build starts from
(`build/kept.py`: the cache, the record, the memos) between builds, for
`commsite serve`; `build_site` is one build with a fresh Builder.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from commsite.build.clock import build_now
from commsite.build.inputs import scan_inputs
from commsite.build.kept import Kept
from commsite.build.output import NO_SPACE, DiskFull
from commsite.build.state import BuildOptions, BuildResult, Progress, Run, fast_key
from commsite.build.unchanged import quick_check
from commsite.errors import CommsiteError

__all__ = ["BuildOptions", "BuildResult", "Builder", "Progress", "Run", "build_site"]

# Failures that say what is wrong, or come from the machine (a full disk), not
# from what the cache held.
_NOT_THE_CACHE = (CommsiteError, OSError, MemoryError)


class Builder:
    """Builds one site again and again, doing only the work its changes need."""

    def __init__(self, options: BuildOptions) -> None:
        root = options.root.absolute()
        output = (options.output if options.output is not None else root / "public").absolute()
        self.options = replace(options, root=root, output=output)
        self.kept = Kept(output)

    def close(self) -> None:
        self.kept.close()

    def __enter__(self) -> Builder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def build(
        self,
        changed: Iterable[Path] | None = None,
        *,
        trusted: bool = False,
        full: bool = False,
        now: datetime | None = None,
        progress: Progress | None = None,
        exiting: bool = False,
    ) -> BuildResult:
        """Build the site, doing only the work that changes since the last build need.

        Parsed files, the build record and template dependencies are kept in
        memory between builds. Every build hashes all input files (about 0.06 s
        for 10,000 stories), which also catches changes a watcher missed, unless
        `trusted`: then `changed` (the files a watcher saw change, absolute) is
        taken to be every change since the last build, when it names only edited
        files. A caller that trusts its watcher so must call `missed_changes()`
        soon after, to catch what the watcher did not report.

        `full`: no no-change shortcut; load and plan everything (writing only
        what is out of date), which leaves the memos `warm` for the next build.
        `exiting`: the process ends after this build (the `commsite` program).
        """
        start = time.perf_counter()
        if now is None:
            now = build_now(os.environ)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        kept = self.kept
        hint = None
        if trusted and changed is not None:
            hint = (*kept.unscanned, *changed)
        run = Run(self.options, start, now, progress, hint, full=full)
        try:
            with _collector(kept, exiting):
                try:
                    _execute(run, kept)
                except Exception as exc:
                    if not self._cache_may_be_at_fault(exc):
                        raise
                    run = Run(self.options, start, now, progress, None, full=True)
                    _execute(run, kept)
                ok = run.result is not None and run.result.ok
                kept.refill(run.template_deps, ok, run.remembered)
                return run.warn_of_damage(kept.cache)
        except OSError as exc:
            # A full disk stops the build before the output changes: everything
            # that can fail so is written before the switch (build.switch).
            if exc.errno not in NO_SPACE:
                raise
            path = Path(exc.filename) if isinstance(exc.filename, str) else None
            raise DiskFull(path) from None
        finally:
            if run.scanned:
                kept.unscanned = set()
            elif hint is not None:
                kept.unscanned = set(hint)
            run.write_summary()

    @property
    def warm(self) -> bool:
        """Whether a build of this builder went through the full pipeline, so the
        next one after an edit starts from its memos (the model, page specs and
        fingerprints); a build that found nothing changed loads none of them."""
        return self.kept.memo is not None

    def outside_dirs(self) -> tuple[Path, ...]:
        """The folders outside the site's input folders that the last build read (the
        template and asset folders of a theme kept elsewhere, or in a folder of the
        site's own): a watcher should watch them too."""
        return self.kept.scan.extra if self.kept.scan is not None else ()

    def missed_changes(self) -> list[Path]:
        """The input files (absolute paths) a full scan finds changed, added or
        removed since the input scan the last build used: what a watcher trusted
        by `build(changed, trusted=True)` did not report (the content folder when
        a folder in it appeared or went). Empty before any build. What it reported
        to a build that stopped before its scan is not missed: the next build
        is told of it."""
        kept = self.kept
        last = kept.scan
        if last is None:
            return []
        root = self.options.root
        scan = scan_inputs(root, fast_key(self.options), last.extra, kept.stats, kept.fence)
        kept.keep_stats(kept.cache, scan)
        content = root / "content"
        pending = kept.unscanned
        folders = []
        if scan.listing != last.listing and not any(p.is_relative_to(content) for p in pending):
            folders.append(content)
        if scan.files == last.files:
            return folders
        keys = {
            k
            for k in scan.files.keys() | last.files.keys()
            if scan.files.get(k) != last.files.get(k)
        }
        changed = (Path(k) if Path(k).is_absolute() else root / k for k in keys)
        return sorted([*(p for p in changed if p not in pending), *folders])

    def _cache_may_be_at_fault(self, exc: Exception) -> bool:
        """After a build failed with an unexpected error while it used the cache:
        whether to build again with the cache made anew (and every memo dropped,
        since they may hold what it held). Entries that pass every check can still
        be inconsistent (someone else wrote them): a cache must never make every
        build fail until someone deletes it. A second failure is commsite's own."""
        cache = self.kept.cache
        if cache is None or not cache.usable or isinstance(exc, _NOT_THE_CACHE):
            return False
        cache.note_damage(f"the build failed with it: {type(exc).__name__}: {exc}")
        cache.reopen()
        self.kept.forget()
        return True


def _execute(run: Run, kept: Kept) -> BuildResult:
    """The no-change check, then (unless it settled the build) the full build."""
    quick = None if run.full else run.step("scanning", quick_check, run, kept)
    if quick is not None:
        return quick
    from commsite.build.pipeline import full_build  # the heavy imports, only when needed

    return full_build(run, kept)


# How many builds serve's builder keeps what it froze at most, and how many new
# objects wait for a collection while it builds beside other threads (_collector).
UNFREEZE_AFTER = 64
YOUNG_BESIDE_THREADS = 100_000


@contextlib.contextmanager
def _collector(kept: Kept, exiting: bool = False) -> Iterator[None]:
    """A build makes millions of small objects that live until it ends; the cycle
    collector walked them again and again (a third of a one-story rebuild of
    10,000 stories, measured). Where the build is the process's one thread (the
    CLI), the collector is off while it runs: reference counting frees what it
    drops, and cycles are collected once it is over. Beside other threads (serve's
    server and watcher) it stays on, but collects the youngest objects only once
    `YOUNG_BESIDE_THREADS` more have been made, instead of 700, while the build
    runs: a one-story rebuild at 10,000 stories ran 128 collections of each
    generation that collected 33 objects in all, for 83 ms of a 0.31 s rebuild
    (0.25 s without them, measured). What the builder keeps is frozen after
    each build (`gc.freeze`), so later collections skip the memos; when the frozen
    objects have doubled since, they are given back (`gc.unfreeze`), so that cycles
    among what the builder dropped are collected after all. They are counted
    once (`gc.get_freeze_count` walks them all: 35-100 ms at 10,000 stories);
    what each later build adds is the objects made since the last collection,
    which, with so few collections, is about what it froze. After
    `UNFREEZE_AFTER` builds they are given back whatever the sum. When the process ends
    after the build (`exiting`), what the build made is frozen before the collector
    is back on: the first collection would walk all of it, only young so far, to
    free next to nothing (0.09 s of a one-story edit at 2,000 stories)."""
    alone = threading.active_count() == 1
    collecting = gc.isenabled()
    threshold = gc.get_threshold()
    if alone:
        gc.disable()
    else:
        gc.set_threshold(max(threshold[0], YOUNG_BESIDE_THREADS), *threshold[1:])
    try:
        yield
    finally:
        if alone:
            if exiting:
                gc.freeze()
            if collecting:
                gc.enable()
        else:
            made = gc.get_count()[0]  # (the objects made since the last collection)
            gc.set_threshold(*threshold)
            gc.freeze()
            if not kept.frozen:
                kept.frozen, kept.since = gc.get_freeze_count(), []
            else:
                kept.since.append(made)
                if sum(kept.since) > kept.frozen or len(kept.since) >= UNFREEZE_AFTER:
                    gc.unfreeze()
                    kept.frozen = 0


def build_site(
    options: BuildOptions,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    exiting: bool = False,
) -> BuildResult:
    """Build the site once (with the on-disk cache unless options.cache is False);
    `exiting`: the process ends after it (see Builder.build)."""
    with Builder(options) as builder:
        return builder.build(now=now, progress=progress, exiting=exiting)
