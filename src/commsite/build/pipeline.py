"""The full build, as flat steps: load -> parse -> assemble -> plan -> render -> write.

`full_build` runs them in order, each named and timed by `Run.step`; each step
takes what the steps before it made (`build/stages.py`: frozen records) and
returns its own, or None when the build fails (its problems are in
`run.problems`). What the next build starts from is in `Kept`. The first four
steps are here; rendering, writing and recording the output are in
`build/writing.py`. Only imported when the no-change check did not settle the
build, so a build with nothing to do never imports Jinja2, Markdown or the feeds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from commsite.build import cache_data
from commsite.build.cache import BuildCache, RecordEntry
from commsite.build.images import ImageStore
from commsite.build.inputs import InputScan
from commsite.build.kept import TEMPLATE_DEPS, Kept
from commsite.build.memo import BuildMemo
from commsite.build.objects import ObjectStore
from commsite.build.parallel import available_cpus
from commsite.build.place import Place
from commsite.build.plan import Output, make_plan
from commsite.build.read_index import ReadCheck, decode_index
from commsite.build.search import SEARCH_SOURCES, SearchPlan, plan_search
from commsite.build.sources import Sources
from commsite.build.state import BuildResult, Run
from commsite.build.switch import Copy
from commsite.build.template_cache import SignedBytecodeCache, cache_key
from commsite.build.unchanged import check_disk
from commsite.build.writing import (
    aborted_on_failure,
    bundle_outputs,
    dirty_outputs,
    open_staging,
    record,
    relative,
    render,
    save_caches,
    up_to_date,
    write,
)
from commsite.config import SiteConfig
from commsite.content.config_loader import load_config
from commsite.content.interactions import load_interactions
from commsite.content.loader import assemble_site, read_public_key
from commsite.content.model import Site
from commsite.content.parse import ParsedFile
from commsite.content.safe_files import INPUT_DIRS, Fence, site_fence
from commsite.datadir import DataDir
from commsite.errors import CommsiteError, Diagnostic
from commsite.image_table import ImageInfo, Variant
from commsite.images.wanted import wanted_images
from commsite.links.check import check_links
from commsite.render.renderer import Renderer
from commsite.render.theme import Theme, resolve_theme

__all__ = ["full_build"]


def full_build(run: Run, kept: Kept) -> BuildResult:
    # Without a trusted previous site beside the output, the switch will need a
    # copy of the output: it is made meanwhile, in another process.
    copy = None if run.options.owned_output else Copy.start(Place.of(run.options.output_dir))
    try:
        loaded = run.step("scanning", load, run, kept)
        if loaded is None:
            return run.failed()
        parsed = run.step("parsing", parse, run, kept, loaded)
        site = run.step("assembling", assemble, run, kept, loaded, parsed)
        if site is None:
            return run.failed()
        planned = run.step("planning", plan, run, kept, loaded, site)
        if planned is None:
            return run.failed()
        if planned.up_to_date:
            return up_to_date(run, kept, loaded, site, planned)
        staging = open_staging(run.options.output_dir, switch=not run.options.owned_output)
        with aborted_on_failure(staging, kept):
            rendered = run.step("rendering", render, run, kept, loaded, planned, staging)
            if rendered is None:
                staging.abort()
                return run.failed()
            committed = run.step("writing", write, run, rendered, staging, copy)
        return record(run, kept, loaded, site, rendered, staging, committed)
    finally:
        save_caches(kept, run.cache)
        if copy is not None:
            copy.settle()


# --- what the steps make (frozen: each step says what it reads) ---------------


@dataclass(frozen=True, slots=True)
class Loaded:
    config: SiteConfig
    theme: Theme
    cache: BuildCache | None
    scan: InputScan
    fence: Fence
    jobs: int  # worker processes
    sources: Sources
    objects: ObjectStore
    memo: BuildMemo


@dataclass(frozen=True, slots=True)
class Parsed:
    files: list[ParsedFile]
    interactions: Any  # (content.interactions.Interactions)
    public_key: str | None


@dataclass(frozen=True, slots=True)
class Assembled:
    site: Site
    parsed: list[ParsedFile]
    variants: dict[str, tuple[bytes, str]]  # image variants to write: path -> (bytes, image)


@dataclass(frozen=True, slots=True)
class Planned:
    renderer: Renderer
    record: dict[str, RecordEntry] | None
    outputs: dict[str, Output]  # everything the site is made of
    to_make: list[Output]  # what is out of date (the search bundle apart)
    gone: list[str]  # recorded outputs no longer made
    search: SearchPlan | None
    reindex: bool  # the search index is to be made again
    reads: ReadCheck | None = None  # makes the read index kept with the record

    @property
    def up_to_date(self) -> bool:
        """Nothing to make, remove or index: the output stays as it is."""
        return self.record is not None and not (self.to_make or self.gone or self.reindex)


# --- the steps ---------------------------------------------------------------


def load(run: Run, kept: Kept) -> Loaded | None:
    """commsite.yaml, the theme, the build cache, and the input scan (again only
    when the no-change check's does not fit: another theme, another fence)."""
    options = run.options
    root = options.root
    config, more = load_config(root)
    run.problems += more
    if config is None:
        return None
    if options.base_url is not None:
        local = options.base_url.rstrip("/") + "/"
        config = replace(config, base_url=local, live_url=config.base_url)
    run.summary_dir = DataDir.for_site(root, config.sidecar.data_dir).build_cache
    cache = run.cache = kept.open_cache_at(run.summary_dir) if options.cache else None
    try:
        theme = resolve_theme(root, config)
    except CommsiteError as exc:
        run.problems += _diagnostics(exc)
        return None
    extra = _unscanned(theme, root)
    fence = site_fence(root, config.sidecar.data_dir, options.output_dir)
    scan = run.scan
    if scan is None or scan.extra != tuple(extra) or kept.fence != fence:
        kept.fence = fence
        scan = run.scan_inputs(kept, cache, extra)
    run.problems += scan.problems  # links refused, FIFOs skipped: never read below
    kept.sources = kept.sources or Sources(root)
    kept.objects = kept.objects or ObjectStore()
    kept.memo = kept.memo or BuildMemo()
    kept.memo.assemble.begin([p for p in scan.files if p.startswith("static/")])
    jobs = options.jobs or available_cpus()
    return Loaded(config, theme, cache, scan, fence, jobs, kept.sources, kept.objects, kept.memo)


def parse(run: Run, kept: Kept, loaded: Loaded) -> Parsed:
    """The content files (through the parse cache), interactions/ and the public key."""
    scan = loaded.scan
    since = (scan.base, scan.rehashed) if scan.base is not None else None
    files, more = loaded.sources.refresh(
        loaded.cache, scan.files, since=since, jobs=loaded.jobs, progress=run.progress
    )
    run.problems += more
    interactions, more = load_interactions(run.options.root, scan.files.keys())
    run.problems += more
    return Parsed(files, interactions, read_public_key(run.options.root, scan.files.keys()))


def assemble(run: Run, kept: Kept, loaded: Loaded, parsed: Parsed) -> Assembled | None:
    """The Site (cross-file validation), with its images' table and variants."""
    options = run.options
    site, more = assemble_site(
        options.root,
        loaded.config,
        parsed.files,
        now=run.now,
        drafts=options.drafts,
        future=options.future,
        interactions=parsed.interactions,
        public_key_pem=parsed.public_key,
        memo=loaded.memo.assemble,
    )
    run.problems += more
    if site is not None:
        run.left_out = site.left_out
    if site is None or run.failing():
        return None
    kept.images = kept.images or ImageStore()
    table, files, problems = kept.images.prepare(
        site, options.root, wanted_images(site, loaded.memo.body_images), loaded.scan.files,
        loaded.cache, run.progress,
        loaded.jobs,
    )  # fmt: skip
    run.problems += problems
    run.images = kept.images.counts
    if run.failing():
        return None
    sources = {v.path: i.source for i in table.images for v in _all_variants(i)}
    variants = {path: (data, sources[path]) for path, data in files.items()}
    if table.images or site.config.images.images:
        site = replace(site, config=replace(site.config, images=table))
    return Assembled(site, parsed.files, variants)


def plan(run: Run, kept: Kept, loaded: Loaded, assembled: Assembled) -> Planned | None:
    """Every output and its fingerprint; the links checked; what is out of date."""
    options, cache, site = run.options, loaded.cache, assembled.site
    template_deps = cache_data.template_deps(
        cache.get_json(TEMPLATE_DEPS) if cache is not None else None
    )
    run.template_deps = template_deps  # (for a cache started afresh: Kept.refill)
    saved_deps = json.dumps(template_deps, sort_keys=True)
    record = kept.load_record(cache)
    # A build that keeps no memos for a next one checks the last build's read index
    # and keeps one for the next (build/read_index.py); serve's builder has its own.
    reads = None
    if cache is not None and not options.owned_output:
        reads = ReadCheck(decode_index(cache.get_reads()) if record is not None else None)
    renderer = Renderer(loaded.theme)
    key = cache_key(cache.directory.parent) if cache is not None and cache.usable else None
    if cache is not None and key is not None:  # (signed: see template_cache.py)
        renderer.env.bytecode_cache = SignedBytecodeCache(cache.directory, key)
    try:
        outputs, more = make_plan(
            site,
            loaded.theme,
            renderer,
            options.root,
            loaded.scan.files,
            template_deps=template_deps,
            progress=run.progress,
            objects=loaded.objects,
            cache=cache,
            record=record,
            memo=loaded.memo,
            parse_keys={path: f.key for path, f in loaded.sources.files.items()},
            fence=loaded.fence,
            variants=assembled.variants,
            jobs=loaded.jobs,
            reads=reads,
        )
    except CommsiteError as exc:
        run.problems += [relative(d, options.root) for d in _diagnostics(exc)]
        return None
    run.problems += more
    links = {f.path: f.links for f in assembled.parsed if f.links}
    run.problems += check_links(site, links, outputs.keys(), external=False).broken
    if run.failing():
        return None
    if cache is not None and json.dumps(template_deps, sort_keys=True) != saved_deps:
        cache.set_json(TEMPLATE_DEPS, template_deps)

    search, more = plan_search(
        loaded.config.search,
        _html_pages(outputs) if loaded.config.search else {},
        record,
        keep_stale=options.owned_output and kept.output_known,  # (serve, after its first)
    )
    run.problems += more
    if more and run.failing():
        return None
    if search is not None and search.known:
        outputs = {**outputs, **bundle_outputs(search, search.known)}
    dirty = dirty_outputs(outputs, record, options.output_dir, check_disk(options, kept))
    gone = sorted(record.keys() - outputs.keys()) if record is not None else []
    reindex = search is not None and (
        search.stale or any(o.sources == SEARCH_SOURCES for o in dirty)
    )
    if reindex:  # (the bundle is made by make_index below, not rendered)
        dirty = [o for o in dirty if o.sources != SEARCH_SOURCES]
    return Planned(renderer, record, outputs, dirty, gone, search, reindex, reads)


# --- helpers -----------------------------------------------------------------


def _all_variants(image: ImageInfo) -> tuple[Variant, ...]:
    extra = tuple(v for v in (image.square, image.banner) if v is not None)
    return image.variants + extra


def _html_pages(outputs: Mapping[str, Output]) -> dict[str, tuple[str, bytes]]:
    """The pages among the outputs: file -> (template, fingerprint)."""
    return {
        path: (o.page.template, o.fingerprint) for path, o in outputs.items() if o.page is not None
    }


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


def _diagnostics(exc: CommsiteError) -> list[Diagnostic]:
    """What an exception that stopped a step says, as diagnostics (a `SiteError`
    carries them; any other is said about commsite.yaml)."""
    return list(exc.diagnostics) or [Diagnostic("commsite.yaml", None, str(exc))]
