"""One build: its options, what it finds along the way, its result.

`Run` is the state of one build, passed to each step explicitly (`build/run.py`
makes it, `build/unchanged.py` and `build/pipeline.py` are its steps); `Run.step`
names and times a step. `BuildResult` is what a build answers.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from commsite.build.cache import BuildCache, write_last_build
from commsite.build.inputs import InputScan, rescan_inputs, scan_inputs
from commsite.content.left_out import LeftOut  # (not .model: the no-change check needs none)
from commsite.errors import Diagnostic, Severity

if TYPE_CHECKING:
    from commsite.build.kept import Kept

__all__ = ["BuildOptions", "BuildResult", "Progress", "Run", "fast_key", "left_out_json"]

Progress = Callable[[str, int, int], None]  # the same as commsite.progress.Progress
"""progress(stage, done, total), stage being "scanning", "parsing", "assembling",
"planning", "rendering" or "writing" (see commsite.progress)."""
P = ParamSpec("P")
T = TypeVar("T")


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
    # Each step the build ran, in order, with its seconds (last-build.json's "steps").
    steps: tuple[tuple[str, float], ...] = ()


class Run:
    """One build: its options and clock, and what it found along the way (the
    problems, what the site left out, the steps' times) until its result."""

    def __init__(
        self,
        options: BuildOptions,
        start: float,
        now: datetime,
        progress: Progress | None,
        hint: tuple[Path, ...] | None = None,
        *,
        full: bool = False,
    ) -> None:
        self.options = options
        self.full = full  # no no-change shortcut
        self.start = start
        self.now = now
        self.progress = progress
        self.hint = hint  # the changed files, when the caller vouches they are all
        self.problems: list[Diagnostic] = []
        self.summary_dir: Path | None = None
        self.result: BuildResult | None = None
        self.scan: InputScan | None = None  # this build's input scan, once made
        self.scanned = False  # whether this run scanned the input files
        self.cache: BuildCache | None = None  # the build cache this run uses, once open
        self.left_out = LeftOut()  # the Site's, once the build has one
        # What this build stored for the next one (stored again by Kept.refill
        # into a cache started afresh).
        self.template_deps: dict[str, Any] = {}
        self.remembered: tuple[str, Any] | None = None
        # Images made with Pillow and reused by this build (build/images.py); none
        # when the no-change check settled it.
        self.images: dict[str, int] = {"made": 0, "reused": 0}
        self.indexed: tuple[int, float] | None = None  # the search index made (pages, s)
        self.steps: list[tuple[str, float]] = []

    def step(self, name: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one step of the build: reported to `progress` as it starts (whose
        summary line says how long each took) and timed into the result."""
        if self.progress is not None:
            self.progress(name, 0, 0)
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.steps.append((name, time.perf_counter() - started))
            if self.result is not None:  # (made by this step: its time too)
                self.result = replace(self.result, steps=tuple(self.steps))

    def scan_inputs(self, kept: Kept, cache: BuildCache | None, extra: list[Path]) -> InputScan:
        """The input scan of this build: the last one with the changed files hashed
        again when the caller vouches for them and they are edits, else a full one."""
        root = self.options.root
        scan = None
        last = kept.scan
        if self.hint is not None and last is not None and last.extra == tuple(extra):
            scan = rescan_inputs(last, root, fast_key(self.options), self.hint)
        if scan is None:
            scan = scan_inputs(root, fast_key(self.options), extra, kept.stats, kept.fence)
        kept.keep_stats(cache, scan)
        kept.scan = self.scan = scan
        self.scanned = True
        return scan

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
        return self.finished((), (), (), 0, ok=False, diagnostics=diagnostics)

    def finished(
        self,
        rendered: tuple[str, ...],
        written: tuple[str, ...],
        removed: tuple[str, ...],
        total: int,
        *,
        ok: bool = True,
        diagnostics: tuple[Diagnostic, ...] | None = None,
    ) -> BuildResult:
        cache = self.cache
        self.result = BuildResult(
            ok,
            self.diagnostics() if diagnostics is None else diagnostics,
            tuple(sorted(rendered)),
            written,
            removed,
            total,
            time.perf_counter() - self.start,
            self.options.output_dir,
            self.left_out,
            cache.directory if cache is not None and cache.full else None,
            self.images["made"] if ok else 0,
            self.images["reused"] if ok else 0,
            self.indexed if ok else None,
            tuple(self.steps),
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
                    "left_out": left_out_json(result.left_out),
                    "images": self.images,
                    "steps": [[name, round(s, 4)] for name, s in result.steps],
                },
            )


def fast_key(options: BuildOptions) -> tuple[object, ...]:
    """The options that change what is built (and where)."""
    from commsite.search.tool import tool_identity  # (the search index's program)

    o = options
    return (o.drafts, o.future, o.strict, o.base_url, str(o.output_dir), tool_identity())


def left_out_json(left_out: LeftOut) -> dict[str, list[Any]]:
    """LeftOut as JSON: dates as ISO strings with their time zone's name."""
    return {
        "drafts": list(left_out.drafts),
        "future": [[path, due.isoformat(), str(due.tzinfo)] for path, due in left_out.future],
    }


def left_out_from_json(data: Any) -> LeftOut:
    """The LeftOut `left_out_json` wrote (TypeError, ValueError, KeyError or
    ZoneInfoNotFoundError when it is not that)."""
    drafts = tuple(data["drafts"])
    future = tuple(
        (path, datetime.fromisoformat(due).astimezone(ZoneInfo(zone)))
        for path, due, zone in data["future"]
    )
    if not all(isinstance(p, str) for p in (*drafts, *(p for p, _ in future))):
        raise TypeError("left_out: paths must be strings")
    return LeftOut(drafts, future)
