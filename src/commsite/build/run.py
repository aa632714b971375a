"""A build: load -> validate -> model -> plan -> render -> write, in one direction.

Nothing is written to the output until everything before succeeded; on any
error (or any warning with `strict`) the previous output stays byte-identical.

`Builder` keeps the parsed files and the build record in memory between builds
(for `commsite serve`); `build_site` is one build with a fresh Builder.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commsite.build.cache import BuildCache, RecordEntry, write_last_build
from commsite.build.clock import build_now
from commsite.build.inputs import InputScan, NowWindow, rescan_inputs, scan_inputs
from commsite.build.output import NO_SPACE, DiskFull, FileState
from commsite.content.left_out import LeftOut  # (not .model: the no-change check needs none)
from commsite.content.safe_files import Fence, read_input, site_fence
from commsite.datadir import DataDir
from commsite.errors import CommsiteError, Diagnostic, Severity

if TYPE_CHECKING:
    from commsite.build.images import ImageStore
    from commsite.build.memo import BuildMemo
    from commsite.build.objects import ObjectStore
    from commsite.build.sources import Sources

__all__ = ["BuildOptions", "BuildResult", "Builder", "Progress", "build_site"]

Progress = Callable[[str, int, int], None]  # the same as commsite.progress.Progress
# Failures that say what is wrong, or come from the machine (a full disk), not
# from what the cache held.
_NOT_THE_CACHE = (CommsiteError, OSError, MemoryError)
TEMPLATE_DEPS = "template-deps"  # the build cache's name for plan.py's template dependencies
"""progress(stage, done, total), stage being "scanning", "parsing", "assembling",
"planning", "rendering" or "writing" (see commsite.progress)."""


@dataclass(frozen=True, slots=True)
class BuildOptions:
    root: Path
    output: Path | None = None  # default: ROOT/public
    drafts: bool = False
    future: bool = False
    strict: bool = False  # warnings fail the build
    jobs: int | None = None  # worker processes; None: one per available CPU
    cache: bool = True  # use and update the build cache in the data directory
    base_url: str | None = None  # instead of commsite.yaml's (the preview server's address)
    # The output folder belongs to the Builder (commsite serve's preview): after a
    # build has checked or written every file, the next builds of the same Builder
    # do not stat the unchanged ones again (24,000 stats for 10,000 stories).
    owned_output: bool = False

    @property
    def output_dir(self) -> Path:
        return self.output if self.output is not None else self.root / "public"


@dataclass(frozen=True, slots=True)
class BuildResult:
    ok: bool
    diagnostics: tuple[Diagnostic, ...]
    rendered: tuple[str, ...]  # output files made this run (their inputs changed)
    written: tuple[str, ...]  # output files whose bytes changed on disk
    removed: tuple[str, ...]  # output files deleted (no longer produced)
    total: int  # files in the output
    seconds: float
    output: Path | None = None
    # The stories the site left out (drafts, future ones), as the build's Site says;
    # empty when the build failed before it had a Site.
    left_out: LeftOut = field(default_factory=LeftOut)
    # The build cache's folder, when the cache was dropped because the disk was
    # full (the site was built without it).
    cache_full: Path | None = None
    # Images whose variants were made with Pillow, and reused (build/images.py).
    images_made: int = 0
    images_reused: int = 0
    # (pages, seconds) when this build made the search index (build.search).
    indexed: tuple[int, float] | None = None


class Builder:
    """Builds one site again and again, doing only the work its changes need."""

    def __init__(self, options: BuildOptions) -> None:
        root = options.root.absolute()
        output = (options.output if options.output is not None else root / "public").absolute()
        self.options = replace(options, root=root, output=output)
        self._sources: Sources | None = None  # made by the first full build
        self._cache: BuildCache | None = None
        self._cache_dir: Path | None = None
        self._record: dict[str, RecordEntry] | None = None
        self._record_loaded = False
        self._record_total = 0
        self._stats: dict[str, tuple[int, int, int, bytes]] | None = None  # of the last scan
        self._scan: InputScan | None = None  # the input scan the last build used
        self._fence: Fence | None = None  # where the site's links may lead (its data dir)
        self._objects: ObjectStore | None = None  # federation objects' JSON, made by a build
        self._memo: BuildMemo | None = None  # the last build's model, pages, fingerprints
        self._images: ImageStore | None = None  # images' sizes and variants (build/images.py)
        self._output_known = False  # every output file was checked or written (owned_output)
        # What a watcher reported to builds that stopped before their input scan
        # (commsite.yaml did not read, the theme was not found): the next build is
        # told of it too, or a trusted one would take those files as unchanged.
        self._unscanned: set[Path] = set()

    # --- lifetime -------------------------------------------------------------

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def __enter__(self) -> Builder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- building -------------------------------------------------------------

    def build(
        self,
        changed: Iterable[Path] | None = None,
        *,
        trusted: bool = False,
        full: bool = False,
        now: datetime | None = None,
        progress: Progress | None = None,
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
        """
        start = time.perf_counter()
        if now is None:
            now = build_now(os.environ)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        hint = None
        if trusted and changed is not None:
            hint = (*self._unscanned, *changed)
        run = _Run(self, start, now, progress, hint, full=full)
        # A build makes millions of small objects that live until it ends; the
        # cycle collector walked them again and again (a third of a one-story
        # rebuild of 10,000 stories, measured). Reference counting frees what a
        # build drops; cycles, if any, are collected once it is over.
        collecting = gc.isenabled()
        gc.disable()
        try:
            try:
                try:
                    run.execute()
                except Exception as exc:
                    if not self._cache_may_be_at_fault(exc):
                        raise
                    run = _Run(self, start, now, progress, None, full=True)
                    run.execute()
                self._refill_cache(run)
                return run.warn_of_damage(self._cache)
            except OSError as exc:
                # A full disk stops the build before the output changes: everything
                # that can fail so is written before the switch (build.switch).
                if exc.errno not in NO_SPACE:
                    raise
                path = Path(exc.filename) if isinstance(exc.filename, str) else None
                raise DiskFull(path) from None
        finally:
            if collecting:
                gc.enable()
            if run.scanned:
                self._unscanned = set()
            elif hint is not None:
                self._unscanned = set(hint)
            run.write_summary()

    @property
    def warm(self) -> bool:
        """Whether a build of this builder went through the full pipeline, so the
        next one after an edit starts from its memos (the model, page specs and
        fingerprints); a build that found nothing changed loads none of them."""
        return self._memo is not None

    def outside_dirs(self) -> tuple[Path, ...]:
        """The folders outside the site's input folders that the last build read (the
        template and asset folders of a theme kept elsewhere, or in a folder of the
        site's own): a watcher should watch them too."""
        return self._scan.extra if self._scan is not None else ()

    def missed_changes(self) -> list[Path]:
        """The input files (absolute paths) a full scan finds changed, added or
        removed since the input scan the last build used: what a watcher trusted
        by `build(changed, trusted=True)` did not report (the content folder when
        a folder in it appeared or went). Empty before any build. What it reported
        to a build that stopped before its scan is not missed: the next build
        is told of it."""
        last = self._scan
        if last is None:
            return []
        root = self.options.root
        scan = scan_inputs(root, _fast_key(self.options), last.extra, self._stats, self._fence)
        self._keep_stats(self._cache, scan)
        content = root / "content"
        pending = self._unscanned
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

    def _keep_stats(self, cache: BuildCache | None, scan: InputScan) -> None:
        """Keep the scan's file stats for the next scan, when they changed."""
        if cache is None or scan.stats is None or scan.stats == self._stats:
            return
        cache.put_stats(scan.stats, self._stats)
        self._stats = scan.stats

    def _open_cache_at(self, directory: Path) -> BuildCache:
        if self._cache is None or self._cache_dir != directory:
            self.close()
            self._cache = BuildCache.open(directory, self.options.output_dir)
            self._cache_dir = directory
            self._record, self._record_loaded = None, False
            self._stats = None  # (they were another cache's: put_stats writes differences)
            self._scan = None
            self._output_known = False
        return self._cache

    def _cache_may_be_at_fault(self, exc: Exception) -> bool:
        """After a build failed with an unexpected error while it used the cache:
        whether to build again with the cache made anew (and every memo dropped,
        since they may hold what it held). Entries that pass every check can still
        be inconsistent (someone else wrote them): a cache must never make every
        build fail until someone deletes it. A second failure is commsite's own."""
        cache = self._cache
        if cache is None or not cache.usable or isinstance(exc, _NOT_THE_CACHE):
            return False
        cache.note_damage(f"the build failed with it: {type(exc).__name__}: {exc}")
        cache.reopen()
        self._sources = self._objects = self._memo = None
        self._record, self._record_loaded, self._stats, self._scan = None, False, None, None
        self._output_known = False
        return True

    def _refill_cache(self, run: _Run) -> None:
        """When the build found the cache damaged, start a new one and store in it
        what this builder knows, so that the next build is as quick as it would
        have been."""
        cache = self._cache
        if cache is None or not cache.damaged or not cache.reopen():
            return
        if self._sources is not None:
            self._sources.save_all(cache)
        if self._objects is not None:
            self._objects.save_all()
        if self._images is not None:
            self._images.save_all(cache)
        if self._stats is not None:
            cache.put_stats(self._stats)
        if run.template_deps:
            cache.set_json(TEMPLATE_DEPS, run.template_deps)
        if run.result is not None and run.result.ok:
            if self._record is not None:
                cache.update_record(self._record, (), replace=True)
            if run.remembered is not None:
                cache.set_json(run.fast_name(), run.remembered)

    def _load_record(self, cache: BuildCache | None) -> dict[str, RecordEntry] | None:
        if cache is None:
            return None
        if not self._record_loaded:
            self._record = cache.get_record()
            self._record_loaded = True
        return self._record


class _Run:
    """The state of one build."""

    def __init__(
        self,
        builder: Builder,
        start: float,
        now: datetime,
        progress: Progress | None,
        hint: tuple[Path, ...] | None = None,
        *,
        full: bool = False,
    ):
        self.builder = builder
        self.full = full  # no no-change shortcut
        self.options = builder.options
        self.start = start
        self.now = now
        self.progress = progress
        self.problems: list[Diagnostic] = []
        self.summary_dir: Path | None = None
        self.result: BuildResult | None = None
        self.scan: InputScan | None = None  # the input scan of the no-change check
        self.hint = hint  # the changed files, when the caller vouches they are all
        self.cache: BuildCache | None = None  # the build cache this run uses, once open
        self.left_out = LeftOut()  # the Site's, once the build has one
        # What this build stored for the next one (written again by
        # Builder._refill_cache into a cache started afresh).
        self.template_deps: dict[str, Any] = {}
        self.remembered: dict[str, Any] | None = None
        self.scanned = False  # whether this run scanned the input files
        # Images made with Pillow and reused by this build (build/images.py); none
        # when the no-change check settled it.
        self.images: dict[str, int] = {"made": 0, "reused": 0}
        self.indexed: tuple[int, float] | None = None  # the search index made (pages, s)

    # --- the steps ----------------------------------------------------------

    def execute(self) -> BuildResult:
        if self.progress is not None:
            self.progress("scanning", 0, 0)  # the input files, before anything is parsed
        quick = None if self.full else self.quick_check()
        if quick is not None:
            return quick
        from commsite.build.pipeline import full_build  # the heavy imports, only when needed

        return full_build(self)

    # --- the no-change check -----------------------------------------------

    def fast_key(self) -> tuple[object, ...]:
        return _fast_key(self.options)

    def fast_name(self) -> str:
        return f"unchanged:{self.options.output_dir}"

    def quick_check(self) -> BuildResult | None:
        """The finished result if nothing changed since the last build, else None.

        Runs before anything heavy is imported or loaded: finds the cache through a
        plain read of commsite.yaml, hashes the input files and compares.
        """
        if not self.options.cache:
            return None
        data_dir = _quick_data_dir(self.options.root)
        if data_dir is None:
            return None
        self.builder._fence = site_fence(self.options.root, data_dir, self.options.output_dir)
        directory = DataDir.for_site(self.options.root, data_dir).build_cache
        self.summary_dir = directory
        cache = self.builder._open_cache_at(directory)
        fast = cache.get_json(self.fast_name())
        if not isinstance(fast, dict) or not isinstance(fast.get("extra"), list):
            return None
        extra = [Path(p) for p in fast["extra"] if isinstance(p, str)]
        if self.builder._stats is None:
            self.builder._stats = cache.get_stats()
        self.scan = self.scan_inputs(cache, extra)
        if not self.unchanged(cache, self.scan.digest, fast) or cache.damaged:
            return None  # (a damaged cache is made again from what a full build knows)
        return self.finished((), (), (), self.builder._record_total)

    def scan_inputs(self, cache: BuildCache | None, extra: list[Path]) -> InputScan:
        """The input scan of this build: the last one with the changed files hashed
        again when the caller vouches for them and they are edits, else a full one."""
        builder = self.builder
        last = builder._scan
        scan = None
        if self.hint is not None and last is not None and last.extra == tuple(extra):
            scan = rescan_inputs(last, self.options.root, self.fast_key(), self.hint)
        if scan is None:
            scan = scan_inputs(
                self.options.root, self.fast_key(), extra, builder._stats, builder._fence
            )
        builder._keep_stats(cache, scan)
        builder._scan = scan
        self.scanned = True
        return scan

    def unchanged(self, cache: BuildCache, inputs: bytes, fast: dict[str, Any]) -> bool:
        """Whether the last successful build had these inputs, `now` is still in the
        same window, and the output is on disk as it was written."""
        if fast.get("inputs") != inputs.hex():
            return False
        try:
            window = NowWindow(float(fast["after"]), float(fast["before"]))
            total = int(fast["total"])
            diagnostics = [_diagnostic_from_json(d) for d in fast["diagnostics"]]
            left_out = _left_out_from_json(fast["left_out"])
        except (KeyError, TypeError, ValueError, IndexError, ZoneInfoNotFoundError):
            return False
        if not window.contains(self.now):
            return False
        record = self.builder._load_record(cache)
        if record is None or len(record) != total:
            return False
        if self.check_disk():
            output = str(self.options.output_dir)
            for path, entry in record.items():
                if not on_disk(output, path, entry.state):
                    return False
            self.builder._output_known = True
        self.problems += diagnostics
        self.left_out = left_out
        self.builder._record_total = total
        return True

    def check_disk(self) -> bool:
        """Whether unchanged outputs must be checked on disk (see owned_output)."""
        return not (self.options.owned_output and self.builder._output_known)

    def remember(
        self,
        cache: BuildCache | None,
        scan: InputScan,
        window: NowWindow,
        total: int,
    ) -> None:
        """Save what the no-change check of the next build compares with."""
        if cache is None:
            return
        self.remembered = {
            "inputs": scan.digest.hex(),
            "extra": [str(p) for p in scan.extra],
            "after": window.after,
            "before": window.before,
            "total": total,
            "diagnostics": [
                [d.path, d.line, d.message, d.severity.value, d.hint]
                for d in sorted(set(self.problems), key=Diagnostic.sort_key)
            ],
            "left_out": _left_out_json(self.left_out),
        }
        cache.set_json(self.fast_name(), self.remembered)

    # --- outcomes -----------------------------------------------------------

    def diagnostics(self) -> tuple[Diagnostic, ...]:
        found = sorted(set(self.problems), key=Diagnostic.sort_key)
        if self.options.strict:
            found = [d.as_error() for d in found]
        return tuple(found)

    def failing(self) -> bool:
        if self.options.strict:
            return bool(self.problems)
        return any(d.is_error for d in self.problems)

    def failed(self) -> BuildResult:
        diagnostics = self.diagnostics()
        if not any(d.is_error for d in diagnostics):  # never fail without saying why
            diagnostics += (Diagnostic("commsite.yaml", None, "the build failed"),)
        self.result = BuildResult(
            False,
            diagnostics,
            (),
            (),
            (),
            0,
            time.perf_counter() - self.start,
            self.options.output_dir,
            self.left_out,
            self.cache_full(),
        )
        return self.result

    def cache_full(self) -> Path | None:
        cache = self.builder._cache
        return cache.directory if cache is not None and cache.full else None

    def finished(
        self,
        rendered: tuple[str, ...],
        written: tuple[str, ...],
        removed: tuple[str, ...],
        total: int,
    ) -> BuildResult:
        self.result = BuildResult(
            True,
            self.diagnostics(),
            tuple(sorted(rendered)),
            written,
            removed,
            total,
            time.perf_counter() - self.start,
            self.options.output_dir,
            self.left_out,
            self.cache_full(),
            self.images["made"],
            self.images["reused"],
            self.indexed,
        )
        return self.result

    def warn_of_damage(self, cache: BuildCache | None) -> BuildResult:
        """The result, with one warning when the build found the cache damaged. It
        is a warning even with `strict`: the output is whole, and the cache was
        made again."""
        assert self.result is not None
        found = cache.take_damage() if cache is not None else []
        if not found or cache is None:
            return self.result
        what = "; ".join(dict.fromkeys(found))  # (SQLite's messages may quote damaged bytes)
        what = "".join(c if c.isprintable() else "?" for c in what)
        if len(what) > 200:
            what = what[:199] + "…"
        if cache.usable:
            message = f"the build cache was damaged ({what}); it was deleted and made again"
            hint = "nothing to do: the output is complete (if this happens again, check the disk)"
        else:
            message = f"the build cache cannot be used ({what}); this build did without it"
            hint = f"make {cache.directory} a folder commsite can write to, or delete it"
        where = cache.path
        with contextlib.suppress(ValueError):
            where = where.relative_to(self.options.root)
        warning = Diagnostic(where.as_posix(), None, message, Severity.WARNING, hint)
        found_all = sorted((*self.result.diagnostics, warning), key=Diagnostic.sort_key)
        self.result = replace(self.result, diagnostics=tuple(found_all))
        return self.result

    def write_summary(self) -> None:
        """The JSON record of this build, for people and tests (last-build.json)."""
        result = self.result
        if self.summary_dir is None or result is None or not self.options.cache:
            return
        with contextlib.suppress(OSError):  # a read-only data directory must not fail a build
            write_last_build(
                self.summary_dir,
                {
                    "ok": result.ok,
                    "now": self.now.isoformat(),
                    "output": str(result.output),
                    "seconds": round(result.seconds, 4),
                    "total": result.total,
                    "rendered": list(result.rendered),
                    "written": list(result.written),
                    "removed": list(result.removed),
                    "diagnostics": [d.format() for d in result.diagnostics],
                    "left_out": _left_out_json(result.left_out),
                    "images": self.images,
                },
            )


def _fast_key(options: BuildOptions) -> tuple[object, ...]:
    """The options that change what is built (and where)."""
    from commsite.build.search_tool import tool_identity  # (the search index's program)

    o = options
    return (o.drafts, o.future, o.strict, o.base_url, str(o.output_dir), tool_identity())


def _left_out_json(left_out: LeftOut) -> dict[str, list[Any]]:
    """LeftOut as JSON: dates as ISO strings with their time zone's name."""
    return {
        "drafts": list(left_out.drafts),
        "future": [[path, due.isoformat(), str(due.tzinfo)] for path, due in left_out.future],
    }


def _left_out_from_json(data: Any) -> LeftOut:
    """The LeftOut `_left_out_json` wrote (TypeError, ValueError, KeyError or
    ZoneInfoNotFoundError when it is not that)."""
    drafts = tuple(data["drafts"])
    future = tuple(
        (path, datetime.fromisoformat(due).astimezone(ZoneInfo(zone)))
        for path, due, zone in data["future"]
    )
    if not all(isinstance(p, str) for p in (*drafts, *(p for p, _ in future))):
        raise TypeError("left_out: paths must be strings")
    return LeftOut(drafts, future)


def _diagnostic_from_json(d: Any) -> Diagnostic:
    """A diagnostic as `remember` stored it (TypeError when it is not one)."""
    path, line, message, severity, hint = d
    if not (
        type(path) is str
        and (line is None or type(line) is int)
        and type(message) is str
        and (hint is None or type(hint) is str)
    ):
        raise TypeError("not a diagnostic")
    return Diagnostic(path, line, message, Severity(severity), hint)


def _quick_data_dir(root: Path) -> str | None:
    """The data directory commsite.yaml names (".commsite" unless it says), from a
    plain YAML read (the full config loader is not needed to find it). None when
    the file does not read."""
    import yaml

    try:
        data = yaml.load(
            read_input(root / "commsite.yaml"),
            Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
        )
    except (OSError, yaml.YAMLError):
        return None
    sidecar = data.get("sidecar") if isinstance(data, dict) else None
    data_dir = sidecar.get("data_dir") if isinstance(sidecar, dict) else None
    return data_dir if isinstance(data_dir, str) else ".commsite"


def on_disk(output: str | Path, path: str, state: FileState) -> bool:
    """Whether the output file is still as the build record says it was written."""
    try:
        st = os.stat(os.path.join(output, path))
    except OSError:
        return False
    return st.st_size == state.size and st.st_mtime_ns == state.mtime_ns


def build_site(
    options: BuildOptions,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build the site once (with the on-disk cache unless options.cache is False)."""
    with Builder(options) as builder:
        return builder.build(now=now, progress=progress)
