"""The full build: load -> validate -> model -> plan -> render -> write.

Only imported when the no-change check in run.py did not settle the build, so a
build with nothing to do never imports Jinja2, Markdown or the feeds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, KeysView, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from commsite.build import cache_data
from commsite.build.cache import BuildCache, RecordEntry
from commsite.build.images import ImageStore, wanted_images
from commsite.build.inputs import InputScan, NowWindow, instants, window_at
from commsite.build.linkcheck import check_links
from commsite.build.memo import BuildMemo
from commsite.build.objects import ObjectStore
from commsite.build.output import NO_SPACE, DiskFull, FileState, Staging, current_state
from commsite.build.parallel import available_cpus
from commsite.build.plan import Output, make_plan
from commsite.build.render import render_pages
from commsite.build.run import TEMPLATE_DEPS, on_disk
from commsite.build.search import SEARCH_DIR, SEARCH_SOURCES, SearchPlan, make_index, plan_search
from commsite.build.sources import Sources
from commsite.build.switch import Copy, Place
from commsite.build.template_cache import SignedBytecodeCache, cache_key
from commsite.content.config_loader import load_config
from commsite.content.interactions import load_interactions
from commsite.content.loader import assemble_site, read_public_key
from commsite.content.model import Site
from commsite.content.parse import ParsedFile
from commsite.content.safe_files import INPUT_DIRS, site_fence
from commsite.datadir import DataDir
from commsite.errors import CommsiteError, Diagnostic
from commsite.image_table import ImageInfo, Variant
from commsite.render.renderer import Renderer
from commsite.render.theme import Theme, resolve_theme

if TYPE_CHECKING:
    from commsite.build.run import BuildResult, _Run

__all__ = ["full_build"]


def full_build(run: _Run) -> BuildResult:
    # Without a trusted previous site beside the output, the switch will need a
    # copy of the output: it is made meanwhile, in another process.
    copy = None if run.options.owned_output else Copy.start(Place.of(run.options.output_dir))
    try:
        return _full_build(run, copy)
    finally:
        _save_caches(run)
        if copy is not None:
            copy.settle()


def _save_caches(run: _Run) -> None:
    """Store what this build parsed and made in the build cache (the render
    workers' time is the time to do it; a build that stops earlier does it here)."""
    builder = run.builder
    if builder._sources is not None:
        builder._sources.save(run.cache)
    if builder._objects is not None:
        builder._objects.save()


def _full_build(run: _Run, copy: Copy | None) -> BuildResult:
    builder = run.builder
    options = run.options
    root = options.root
    jobs = options.jobs or available_cpus()

    config, more = load_config(root)
    run.problems += more
    if config is None:
        return run.failed()
    if options.base_url is not None:
        local = options.base_url.rstrip("/") + "/"
        config = replace(config, base_url=local, live_url=config.base_url)
    run.summary_dir = DataDir.for_site(root, config.sidecar.data_dir).build_cache
    cache = builder._open_cache_at(run.summary_dir) if options.cache else None
    run.cache = cache

    try:
        theme = resolve_theme(root, config)
    except CommsiteError as exc:
        run.problems.append(_from_error(str(exc), root))
        return run.failed()
    extra = _unscanned(theme, root)
    fence = site_fence(root, config.sidecar.data_dir, options.output_dir)
    scan = run.scan
    if scan is None or scan.extra != tuple(extra) or builder._fence != fence:
        builder._fence = fence
        scan = run.scan_inputs(cache, extra)
    run.problems += scan.problems  # links refused, FIFOs skipped: never read below
    if builder._sources is None:
        builder._sources = Sources(root)
    if builder._objects is None:
        builder._objects = ObjectStore()
    if builder._memo is None:
        builder._memo = BuildMemo()
    memo = builder._memo
    memo.assemble.begin([p for p in scan.files if p.startswith("static/")])

    since = (scan.base, scan.rehashed) if scan.base is not None else None
    parsed, more = builder._sources.refresh(
        cache, scan.files, since=since, jobs=jobs, progress=run.progress
    )
    run.problems += more
    interactions, more = load_interactions(root, scan.files.keys())
    run.problems += more
    public_key = read_public_key(root, scan.files.keys())
    if run.progress is not None:
        run.progress("assembling", 0, 0)
    site, more = assemble_site(
        root,
        config,
        parsed,
        now=run.now,
        drafts=options.drafts,
        future=options.future,
        interactions=interactions,
        public_key_pem=public_key,
        memo=memo.assemble,
    )
    run.problems += more
    if site is not None:
        run.left_out = site.left_out
    if site is None or run.failing():
        return run.failed()
    site, variants = _images(run, site, scan.files, cache)
    if run.failing():
        return run.failed()

    template_deps = cache_data.template_deps(
        cache.get_json(TEMPLATE_DEPS) if cache is not None else None
    )
    run.template_deps = template_deps  # (for a cache started afresh: run.py's _refill_cache)
    saved_deps = json.dumps(template_deps, sort_keys=True)
    record = builder._load_record(cache)
    try:
        renderer = Renderer(theme)
        key = cache_key(cache.directory.parent) if cache is not None and cache.usable else None
        if cache is not None and key is not None:  # (signed: see template_cache.py)
            renderer.env.bytecode_cache = SignedBytecodeCache(cache.directory, key)
        outputs, more = make_plan(
            site,
            theme,
            renderer,
            root,
            scan.files,
            template_deps=template_deps,
            progress=run.progress,
            objects=builder._objects,
            cache=cache,
            record=record,
            memo=memo,
            parse_keys={path: f.key for path, f in builder._sources.files.items()},
            fence=fence,
            variants=variants,
        )
    except CommsiteError as exc:
        run.problems.append(_from_error(str(exc), root))
        return run.failed()
    run.problems += more
    links = {f.path: f.links for f in parsed if f.links}
    run.problems += check_links(site, links, outputs.keys(), external=False).broken
    if run.failing():
        return run.failed()
    if cache is not None and json.dumps(template_deps, sort_keys=True) != saved_deps:
        cache.set_json(TEMPLATE_DEPS, template_deps)

    search, more = plan_search(
        config.search,
        _html_pages(outputs) if config.search else {},
        record,
        keep_stale=options.owned_output and builder._output_known,  # (serve, after its first)
    )
    run.problems += more
    if more and run.failing():
        return run.failed()
    if search is not None and search.known:
        outputs = {**outputs, **_bundle_outputs(search, search.known)}
    output = options.output_dir
    check = run.check_disk()
    dirty = _dirty(outputs, record, output, check)
    gone = sorted(record.keys() - outputs.keys()) if record is not None else []
    reindex = search is not None and (
        search.stale or any(o.sources == SEARCH_SOURCES for o in dirty)
    )
    if reindex:  # (the bundle is made by make_index below, not rendered)
        dirty = [o for o in dirty if o.sources != SEARCH_SOURCES]
    if record is not None and not dirty and not gone and not reindex:
        builder._output_known = True
        renewed = _new_inputs(outputs, record)
        if renewed and cache is not None:
            cache.update_record(renewed, (), replace=False)
            record.update(renewed)  # (this builder's own record: see below)
        _remember(run, search, scan, _now_window(memo, site, parsed), len(outputs))
        return run.finished((), (), (), len(outputs))

    try:
        staging = Staging(output, switch=not options.owned_output)
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise DiskFull(output) from None
        raise
    try:
        pages = [o.page for o in dirty if o.page is not None]
        states, more = render_pages(
            renderer,
            pages,
            staging.path,
            jobs=jobs,
            progress=run.progress,
            documents=[o for o in dirty if o.page is None],
            meanwhile=partial(_save_caches, run),
        )
        for path, rendered in states.items():
            staging.add(path, rendered)
        if more:
            run.problems += [_relative_diagnostic(d, root) for d in more]
            staging.abort()
            return run.failed()
        if search is not None and reindex:
            outputs, made = _index(run, search, staging, states.keys(), outputs)
            dirty += made
            if run.failing():
                staging.abort()
                return run.failed()
            gone = sorted(record.keys() - outputs.keys()) if record is not None else []
        if cache is not None:
            cache.invalidate_record()
            cache.set_json(run.fast_name(), None)
        known = None
        if record is not None:
            strays = _bundle_strays(output, record) if search is not None and reindex else None
            known = _RecordedStates(record, strays)
        if run.progress is not None:
            run.progress("writing", 0, len(dirty))
        committed = staging.commit(outputs.keys(), known, copy)
        if run.progress is not None:
            run.progress("writing", len(dirty), len(dirty))
    except BaseException as exc:
        staging.abort()
        builder._output_known = False  # a commit may have stopped half way: look again
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            raise DiskFull(staging.output_path(exc.filename)) from None
        raise

    changed_entries = _new_inputs(outputs, record)
    for o in dirty:
        state: FileState | None = committed.states.get(o.path)
        if state is None:  # rendered, but the bytes on disk were already right
            # (As they are on disk now, not as recorded: a damaged record's size or
            # time kept would make the page again in every build.)
            state = current_state(output, o.path, staging.staged[o.path].digest)
        if state is not None:
            changed_entries[o.path] = RecordEntry(o.fingerprint, state, o.sources, o.inputs)
    if cache is not None:
        removed = set(gone) | set(committed.removed)
        cache.update_record(changed_entries, removed, replace=record is None)
        # The record in memory follows the one on disk (updated in place: it is
        # this builder's own, and copying 24,000 entries per rebuild showed).
        base = {} if record is None else record
        for path in removed:
            base.pop(path, None)
        base.update(changed_entries)
        builder._record = base
        builder._record_loaded = True
        builder._output_known = True
    _remember(run, search, scan, _now_window(memo, site, parsed), len(outputs))
    return run.finished(
        tuple(o.path for o in dirty if o.sources != SEARCH_SOURCES),  # (the index: `indexed`)
        committed.written,
        committed.removed,
        len(outputs),
    )


def _remember(
    run: _Run, search: SearchPlan | None, scan: InputScan, window: NowWindow, total: int
) -> None:
    """What the next build's no-change check compares with; nothing when the
    preview kept an older search index, so that a fresh `serve` makes it again."""
    if search is None or not search.kept_stale:
        run.remember(run.cache, scan, window, total)


def _images(
    run: _Run,
    site: Site,
    hashes: Mapping[str, bytes],
    cache: BuildCache | None,
) -> tuple[Site, dict[str, tuple[bytes, str]]]:
    """The site with its image table in the config, and the variants to write
    (output path -> (bytes, image)); made, or kept from before (build/images.py)."""
    builder = run.builder
    if builder._images is None:
        builder._images = ImageStore()
    store = builder._images
    wanted = wanted_images(site)
    table, files, problems = store.prepare(
        site,
        run.options.root,
        wanted,
        hashes,
        cache,
        run.progress,
        run.options.jobs or available_cpus(),
    )
    run.problems += problems
    run.images = store.counts
    sources = {v.path: i.source for i in table.images for v in _all_variants(i)}
    variants = {path: (data, sources[path]) for path, data in files.items()}
    if not table.images and not site.config.images.images:
        return site, variants
    return replace(site, config=replace(site.config, images=table)), variants


def _all_variants(image: ImageInfo) -> tuple[Variant, ...]:
    extra = tuple(v for v in (image.square, image.banner) if v is not None)
    return image.variants + extra


def _html_pages(outputs: Mapping[str, Output]) -> dict[str, tuple[str, bytes]]:
    """The pages among the outputs: file -> (template, fingerprint)."""
    return {
        path: (o.page.template, o.fingerprint) for path, o in outputs.items() if o.page is not None
    }


def _bundle_outputs(search: SearchPlan, files: Iterable[str]) -> dict[str, Output]:
    """The search bundle's files as outputs: their fingerprint is the index key."""
    return {path: Output(path, search.key, SEARCH_SOURCES) for path in files}


def _index(
    run: _Run,
    search: SearchPlan,
    staging: Staging,
    rendered: Iterable[str],
    outputs: Mapping[str, Output],
) -> tuple[dict[str, Output], list[Output]]:
    """Make the search index of the new site and stage it: the outputs with the
    new bundle's files in place of the old one's, and those files' outputs. When
    Pagefind fails, a warning, and the site goes without a bundle."""
    result = make_index(search, staging, run.options.output_dir, rendered)
    kept = {path: o for path, o in outputs.items() if o.sources != SEARCH_SOURCES}
    if result.problem is not None:
        run.problems.append(result.problem)
        return kept, []
    run.indexed = (result.pages, result.seconds)
    made = _bundle_outputs(search, result.files)
    return {**kept, **made}, list(made.values())


class _RecordedStates(Mapping[str, FileState]):
    """The record's file states, by output path (a view: no copy of the record),
    and `strays`: files on disk the record lacks (a damaged record's), for the
    commit to remove."""

    def __init__(
        self, record: Mapping[str, RecordEntry], strays: Mapping[str, FileState] | None = None
    ) -> None:
        self._record = record
        self._strays = strays or {}

    def __getitem__(self, path: str) -> FileState:
        if path in self._strays:
            return self._strays[path]
        return self._record[path].state

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def keys(self) -> KeysView[str]:
        if self._strays:
            return dict.fromkeys([*self._record.keys(), *self._strays]).keys()
        return self._record.keys()  # (a dict's: set operations on it run in C)


def _bundle_strays(output: Path, record: Mapping[str, RecordEntry]) -> dict[str, FileState]:
    """Search index files on disk that the record does not list (its files are
    named after their content, so a new index does not write over them)."""
    found: dict[str, FileState] = {}
    folder = output / SEARCH_DIR
    base = len(str(output)) + 1
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            rel = os.path.join(dirpath, name)[base:].replace(os.sep, "/")
            if rel not in record:
                found[rel] = FileState(b"", -1, -1)  # (never taken for unchanged)
    return found


def _now_window(memo: BuildMemo, site: Site, parsed: list[ParsedFile]) -> NowWindow:
    """inputs.now_window, its sorted moments kept while what they come from is unchanged."""
    key = (site.config, site.stories, site.events, site.interactions.replies, tuple(parsed))
    return window_at(memo.get("instants", key, partial(instants, site, parsed)), site.now)


def _new_inputs(
    outputs: Mapping[str, Output], record: Mapping[str, RecordEntry] | None
) -> dict[str, RecordEntry]:
    """Record entries of pages whose inputs digest changed but not what they show."""
    renewed: dict[str, RecordEntry] = {}
    if record is None:
        return renewed
    for o in outputs.values():
        if o.inputs:
            entry = record.get(o.path)
            if entry is not None and entry.inputs != o.inputs:
                renewed[o.path] = replace(entry, inputs=o.inputs)
    return renewed


def _dirty(
    outputs: Mapping[str, Output],
    record: Mapping[str, RecordEntry] | None,
    output: Path,
    check_disk: bool,
) -> list[Output]:
    """The outputs to make: not in the record, fingerprint changed, or (when the
    output is not known to be as written) changed or gone on disk."""
    if record is None:
        return list(outputs.values())
    found: list[Output] = []
    recorded = record.get
    for o in outputs.values():
        entry = recorded(o.path)
        if (
            entry is None
            or entry.fingerprint != o.fingerprint
            or (check_disk and not on_disk(output, o.path, entry.state))
        ):
            found.append(o)
    return found


def _unscanned(theme: Theme, root: Path) -> list[Path]:
    """The theme's directories the input scan must add to the site's input folders:
    all but those inside them (the site's theme/ overrides) and commsite's own
    themes (covered by the code fingerprint). A theme beside the site, or in a
    folder of the site that is not an input folder (`theme: mytheme`), is read by
    the build all the same: its files are inputs."""
    import commsite.themes

    covered = [
        Path(commsite.themes.__file__).resolve().parent,
        *((root / name).resolve() for name in INPUT_DIRS),
    ]
    return [
        directory
        for directory in (*theme.template_dirs, *theme.asset_dirs)
        if not any(directory.resolve().is_relative_to(c) for c in covered)
    ]


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
