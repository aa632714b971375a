"""A build: load -> validate -> model -> plan -> render -> write, in one direction.

Nothing is written to the output until everything before succeeded; on any
error (or any warning with `strict`) the previous output stays byte-identical.

`Builder` keeps the parsed files and the build record in memory between builds
(for `commsite serve`); `build_site` is one build with a fresh Builder.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from commsite.build.cache import BuildCache, RecordEntry, write_last_build
from commsite.build.clock import build_now
from commsite.build.inputs import NowWindow, now_window, scan_inputs
from commsite.build.output import FileState, Staging, current_state
from commsite.build.parallel import available_cpus
from commsite.build.plan import Output, make_plan
from commsite.build.render import render_pages
from commsite.build.sources import Sources
from commsite.config import SiteConfig
from commsite.content.config_loader import load_config
from commsite.content.interactions import load_interactions
from commsite.content.loader import assemble_site
from commsite.content.model import Site
from commsite.content.parse import ParsedFile
from commsite.datadir import PUBLIC_KEY_PATH, DataDir
from commsite.errors import CommsiteError, Diagnostic, Severity
from commsite.render.renderer import Renderer
from commsite.render.theme import Theme, resolve_theme

__all__ = ["BuildOptions", "BuildResult", "Builder", "Progress", "build_site"]

TEMPLATE_DEPS = "template-deps"

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
        self._record_total = 0

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
        """Build the site, doing only the work that changes since the last build need.

        `changed` (the files a watcher saw change) is accepted for callers' clarity
        but not needed: every build hashes all input files (about 0.1 s for 10,000
        stories), which also catches changes a watcher missed; parsed files, the
        build record and template dependencies are kept in memory between builds.
        """
        del changed
        start = time.perf_counter()
        if now is None:
            now = build_now(os.environ)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        run = _Run(self, start, now, progress)
        try:
            return run.execute()
        finally:
            run.write_summary()

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

    def execute(self) -> BuildResult:
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

        try:
            theme = resolve_theme(root, config)
        except CommsiteError as exc:
            self.problems.append(_from_error(str(exc), root))
            return self.failed()
        scan = scan_inputs(root, self.fast_key(), _outside(theme, root))
        if cache is not None and self.unchanged(cache, scan.digest):
            return self.finished((), (), (), self.builder._record_total)

        parsed, more = self.builder._sources.refresh(
            cache, scan.files, jobs=jobs, progress=self.progress
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

        template_deps = cache.get_json(TEMPLATE_DEPS) if cache is not None else None
        template_deps = template_deps if isinstance(template_deps, dict) else {}
        saved_deps = json.dumps(template_deps, sort_keys=True)
        try:
            renderer = Renderer(theme)
            plan, more = make_plan(
                site,
                theme,
                renderer,
                root,
                scan.files,
                template_deps=template_deps,
                progress=self.progress,
            )
        except CommsiteError as exc:
            self.problems.append(_from_error(str(exc), root))
            return self.failed()
        self.problems += more
        if self.failing():
            return self.failed()
        if cache is not None and json.dumps(template_deps, sort_keys=True) != saved_deps:
            cache.set_json(TEMPLATE_DEPS, template_deps)

        record = self.builder._load_record(cache)
        output = options.output_dir
        dirty = [o for o in plan.outputs.values() if not _up_to_date(o, record, output)]
        gone = sorted(record.keys() - plan.outputs.keys()) if record is not None else []
        if record is not None and not dirty and not gone:
            self.remember(cache, scan.digest, site, parsed, len(plan.outputs))
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
                if o.page is None:
                    staging.write(o.path, o.content())
            if more:
                self.problems += [_relative_diagnostic(d, root) for d in more]
                staging.abort()
                return self.failed()
            if cache is not None:
                cache.invalidate_record()
                cache.set_json(self.fast_name(), None)
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
        self.remember(cache, scan.digest, site, parsed, len(plan.outputs))
        return self.finished(
            tuple(o.path for o in dirty),
            committed.written,
            committed.removed,
            len(plan.outputs),
        )

    # --- the no-change check -----------------------------------------------

    def fast_key(self) -> tuple[object, ...]:
        """The options that change what is built (and where)."""
        o = self.options
        return (o.drafts, o.future, o.strict, o.base_url, str(o.output_dir))

    def fast_name(self) -> str:
        return f"unchanged:{self.options.output_dir}"

    def unchanged(self, cache: BuildCache, inputs: bytes) -> bool:
        """Whether the last successful build had these inputs, `now` is still in the
        same window, and the output is on disk as it was written."""
        fast = cache.get_json(self.fast_name())
        if not isinstance(fast, dict) or fast.get("inputs") != inputs.hex():
            return False
        try:
            window = NowWindow(float(fast["after"]), float(fast["before"]))
            total = int(fast["total"])
            diagnostics = [
                Diagnostic(d[0], d[1], d[2], Severity(d[3]), d[4]) for d in fast["diagnostics"]
            ]
        except (KeyError, TypeError, ValueError, IndexError):
            return False
        if not window.contains(self.now):
            return False
        record = self.builder._load_record(cache)
        if record is None or len(record) != total:
            return False
        output = str(self.options.output_dir)
        for path, entry in record.items():
            if not _on_disk(output, path, entry.state):
                return False
        self.problems += diagnostics
        self.builder._record_total = total
        return True

    def remember(
        self,
        cache: BuildCache | None,
        inputs: bytes,
        site: Site,
        parsed: list[ParsedFile],
        total: int,
    ) -> None:
        if cache is None:
            return
        window = now_window(site, parsed)
        cache.set_json(
            self.fast_name(),
            {
                "inputs": inputs.hex(),
                "after": window.after,
                "before": window.before,
                "total": total,
                "diagnostics": [
                    [d.path, d.line, d.message, d.severity.value, d.hint]
                    for d in sorted(set(self.problems), key=Diagnostic.sort_key)
                ],
            },
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
                },
            )


def _up_to_date(o: Output, record: Mapping[str, RecordEntry] | None, output: Path) -> bool:
    if record is None:
        return False
    entry = record.get(o.path)
    if entry is None or entry.fingerprint != o.fingerprint:
        return False
    return _on_disk(output, o.path, entry.state)


def _on_disk(output: str | Path, path: str, state: FileState) -> bool:
    try:
        st = os.stat(os.path.join(output, path))
    except OSError:
        return False
    return st.st_size == state.size and st.st_mtime_ns == state.mtime_ns


def _outside(theme: Theme, root: Path) -> list[Path]:
    """The theme's directories outside the site and outside commsite's own themes
    (those are covered by the code fingerprint)."""
    import commsite.themes

    bundled = Path(commsite.themes.__file__).resolve().parent
    found = []
    for directory in (*theme.template_dirs, *theme.asset_dirs):
        resolved = directory.resolve()
        if not (resolved.is_relative_to(root.resolve()) or resolved.is_relative_to(bundled)):
            found.append(directory)
    return found


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
