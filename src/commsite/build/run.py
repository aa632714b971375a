"""A build: load -> validate -> model -> plan -> render -> write, in one direction.

Nothing is written to the output until everything before succeeded; on any
error (or any warning with `strict`) the previous output stays byte-identical.

`Builder` keeps the parsed files and the build record in memory between builds
(for `commsite serve`); `build_site` is one build with a fresh Builder.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from commsite.build.cache import BuildCache, RecordEntry, write_last_build
from commsite.build.clock import build_now
from commsite.build.output import FileState, Staging, current_state
from commsite.build.parallel import available_cpus
from commsite.build.plan import Output, make_plan
from commsite.build.render import render_pages
from commsite.build.sources import Sources
from commsite.config import SiteConfig
from commsite.content.config_loader import load_config
from commsite.content.interactions import load_interactions
from commsite.content.loader import assemble_site
from commsite.datadir import PUBLIC_KEY_PATH, DataDir
from commsite.errors import CommsiteError, Diagnostic
from commsite.render.renderer import Renderer
from commsite.render.theme import resolve_theme

__all__ = ["BuildOptions", "BuildResult", "Builder", "Progress", "build_site"]

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total), stage being "parsing", "planning" or "rendering"."""


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


class Builder:
    """Builds one site again and again, doing only the work its changes need."""

    def __init__(self, options: BuildOptions) -> None:
        root = options.root.absolute()
        output = (options.output if options.output is not None else root / "public").absolute()
        self.options = replace(options, root=root, output=output)
        self._sources = Sources(root)
        self._cache: BuildCache | None = None
        self._cache_dir: Path | None = None
        self._record: dict[str, RecordEntry] | None = None
        self._record_loaded = False

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
        now: datetime | None = None,
        progress: Progress | None = None,
    ) -> BuildResult:
        """Build the site. `changed`: the files known to have changed since the last
        build of this Builder (others are not re-read); None re-reads everything."""
        start = time.perf_counter()
        if now is None:
            now = build_now(os.environ)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        run = _Run(self, start, now, progress)
        try:
            return run.execute(self._relative(changed))
        finally:
            run.write_summary()

    def _relative(self, changed: Iterable[Path] | None) -> set[str] | None:
        if changed is None or not self._sources.files:
            return None
        root = self.options.root
        found: set[str] = set()
        for path in changed:
            p = Path(path)
            if not p.is_absolute():
                p = root / p
            try:
                found.add(p.absolute().relative_to(root).as_posix())
            except ValueError:
                continue
        return found

    def _open_cache(self, config: SiteConfig) -> BuildCache | None:
        if not self.options.cache:
            return None
        directory = DataDir.for_site(self.options.root, config.sidecar.data_dir).build_cache
        if self._cache is None or self._cache_dir != directory:
            self.close()
            self._cache = BuildCache.open(directory, self.options.output_dir)
            self._cache_dir = directory
            self._record, self._record_loaded = None, False
        return self._cache

    def _load_record(self, cache: BuildCache | None) -> dict[str, RecordEntry] | None:
        if cache is None:
            return None
        if not self._record_loaded:
            self._record = cache.get_record()
            self._record_loaded = True
        return self._record


class _Run:
    """The state of one build."""

    def __init__(self, builder: Builder, start: float, now: datetime, progress: Progress | None):
        self.builder = builder
        self.options = builder.options
        self.start = start
        self.now = now
        self.progress = progress
        self.problems: list[Diagnostic] = []
        self.summary_dir: Path | None = None
        self.result: BuildResult | None = None

    # --- the steps ----------------------------------------------------------

    def execute(self, changed: set[str] | None) -> BuildResult:
        options = self.options
        root = options.root
        jobs = options.jobs or available_cpus()

        config, more = load_config(root)
        self.problems += more
        if config is None:
            return self.failed()
        if options.base_url is not None:
            config = replace(config, base_url=options.base_url.rstrip("/") + "/")
        self.summary_dir = DataDir.for_site(root, config.sidecar.data_dir).build_cache
        cache = self.builder._open_cache(config)

        parsed, more = self.builder._sources.refresh(
            cache, changed=changed, jobs=jobs, progress=self.progress
        )
        self.problems += more
        interactions, more = load_interactions(root)
        self.problems += more
        key_file = root / PUBLIC_KEY_PATH
        public_key = key_file.read_text(encoding="utf-8") if key_file.is_file() else None
        site, more = assemble_site(
            root,
            config,
            parsed,
            now=self.now,
            drafts=options.drafts,
            future=options.future,
            interactions=interactions,
            public_key_pem=public_key,
        )
        self.problems += more
        if site is None or self.failing():
            return self.failed()

        try:
            theme = resolve_theme(root, config)
            renderer = Renderer(theme)
            plan, more = make_plan(site, theme, renderer, root, progress=self.progress)
        except CommsiteError as exc:
            self.problems.append(_from_error(str(exc), root))
            return self.failed()
        self.problems += more
        if self.failing():
            return self.failed()

        record = self.builder._load_record(cache)
        output = options.output_dir
        dirty = [o for o in plan.outputs.values() if not _up_to_date(o, record, output)]
        gone = sorted(record.keys() - plan.outputs.keys()) if record is not None else []
        if record is not None and not dirty and not gone:
            return self.finished((), (), (), len(plan.outputs))

        staging = Staging(output)
        try:
            pages = [o.page for o in dirty if o.page is not None]
            states, more = render_pages(
                renderer, pages, staging.path, jobs=jobs, progress=self.progress
            )
            for path, rendered in states.items():
                staging.add(path, rendered)
            for o in dirty:
                if o.data is not None:
                    staging.write(o.path, o.data)
            if more:
                self.problems += [_relative_diagnostic(d, root) for d in more]
                staging.abort()
                return self.failed()
            if cache is not None:
                cache.invalidate_record()
            known = {p: e.state for p, e in record.items()} if record is not None else None
            committed = staging.commit(plan.outputs.keys(), known)
        except BaseException:
            staging.abort()
            raise

        changed_entries: dict[str, RecordEntry] = {}
        for o in dirty:
            state: FileState | None = committed.states.get(o.path)
            if state is None:  # rendered, but the bytes on disk were already right
                digest = staging.staged[o.path].digest
                old = record.get(o.path) if record is not None else None
                state = (
                    old.state
                    if old is not None and old.state.digest == digest
                    else current_state(output, o.path, digest)
                )
            if state is not None:
                changed_entries[o.path] = RecordEntry(o.fingerprint, state, o.sources)
        if cache is not None:
            removed = set(gone) | set(committed.removed)
            cache.update_record(changed_entries, removed, replace=record is None)
            base = {} if record is None else {p: e for p, e in record.items() if p not in removed}
            base.update(changed_entries)
            self.builder._record = base
            self.builder._record_loaded = True
        return self.finished(
            tuple(o.path for o in dirty),
            committed.written,
            committed.removed,
            len(plan.outputs),
        )

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
        )
        return self.result

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
        )
        return self.result

    def write_summary(self) -> None:
        """The JSON record of this build, for people and tests (last-build.json)."""
        result = self.result
        if self.summary_dir is None or result is None:
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
                },
            )


def _up_to_date(o: Output, record: Mapping[str, RecordEntry] | None, output: Path) -> bool:
    if record is None:
        return False
    entry = record.get(o.path)
    if entry is None or entry.fingerprint != o.fingerprint:
        return False
    return _on_disk(output, o.path, entry.state)


def _on_disk(output: Path, path: str, state: FileState) -> bool:
    try:
        st = os.stat(os.path.join(output, path))
    except OSError:
        return False
    return st.st_size == state.size and st.st_mtime_ns == state.mtime_ns


def _from_error(message: str, root: Path) -> Diagnostic:
    path, _, rest = message.partition(": ")
    if rest and " " not in path:
        return Diagnostic(path, None, rest.removeprefix("error: "))
    return Diagnostic("commsite.yaml", None, message)


def _relative_diagnostic(d: Diagnostic, root: Path) -> Diagnostic:
    try:
        path = Path(d.path).relative_to(root).as_posix()
    except ValueError:
        return d
    return replace(d, path=path)


def build_site(
    options: BuildOptions,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build the site once (with the on-disk cache unless options.cache is False)."""
    with Builder(options) as builder:
        return builder.build(now=now, progress=progress)
