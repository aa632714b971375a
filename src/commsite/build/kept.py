"""What a `Builder` keeps from one build to the next: the build cache and its
record, the last input scan, and the last full build's memos (parsed files,
federation objects, the model and pages, images). The build's steps read and
update it; nothing else does."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commsite.build.cache import BuildCache, RecordEntry
from commsite.build.inputs import InputScan

if TYPE_CHECKING:
    from commsite.build.images import ImageStore
    from commsite.build.memo import BuildMemo
    from commsite.build.objects import ObjectStore
    from commsite.build.sources import Sources
    from commsite.content.safe_files import Fence

__all__ = ["TEMPLATE_DEPS", "Kept"]

TEMPLATE_DEPS = "template-deps"  # the build cache's name for the templates' dependencies


@dataclass(slots=True)
class Kept:
    output: Path  # the output folder (the cache's record paths stay inside it)
    sources: Sources | None = None  # parsed content files; made by the first full build
    cache: BuildCache | None = None
    cache_dir: Path | None = None
    record: dict[str, RecordEntry] | None = None
    record_loaded: bool = False
    record_total: int = 0
    stats: dict[str, tuple[int, int, int, bytes]] | None = None  # of the last scan
    scan: InputScan | None = None  # the input scan the last build used
    fence: Fence | None = None  # where the site's links may lead (its data dir)
    objects: ObjectStore | None = None  # federation objects' JSON, made by a build
    memo: BuildMemo | None = None  # the last full build's model, pages, fingerprints
    images: ImageStore | None = None  # images' sizes and variants (build/images.py)
    output_known: bool = False  # every output file was checked or written (owned_output)
    # What a watcher reported to builds that stopped before their input scan
    # (commsite.yaml did not read, the theme was not found): the next build is
    # told of it too, or a trusted one would take those files as unchanged.
    unscanned: set[Path] = field(default_factory=set)
    # Beside other threads (build/run.py, _collector): the objects frozen, counted at
    # the first freeze since they were last given back, and what each build since added.
    frozen: int = 0
    since: list[int] = field(default_factory=list)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
            self.cache = None

    def open_cache_at(self, directory: Path) -> BuildCache:
        if self.cache is None or self.cache_dir != directory:
            self.close()
            self.cache = BuildCache.open(directory, self.output)
            self.cache_dir = directory
            self.record, self.record_loaded = None, False
            self.stats = None  # (they were another cache's: put_stats writes differences)
            self.scan = None
            self.output_known = False
        return self.cache

    def load_record(self, cache: BuildCache | None) -> dict[str, RecordEntry] | None:
        if cache is None:
            return None
        if not self.record_loaded:
            self.record = cache.get_record()
            self.record_loaded = True
        return self.record

    def keep_stats(self, cache: BuildCache | None, scan: InputScan) -> None:
        """Keep the scan's file stats for the next scan, when they changed."""
        if cache is None or scan.stats is None or scan.stats == self.stats:
            return
        cache.put_stats(scan.stats, self.stats)
        self.stats = scan.stats

    def forget(self) -> None:
        """Drop every memo and what was read from the cache (which may be at fault)."""
        self.sources = self.objects = self.memo = None
        self.record, self.record_loaded, self.stats, self.scan = None, False, None, None
        self.output_known = False

    def refill(self, template_deps: dict[str, Any], ok: bool, fast: tuple[str, Any] | None) -> None:
        """When the build found the cache damaged, start a new one and store in it
        what this builder knows, so that the next build is as quick as it would
        have been (`ok`: the build succeeded; `fast`: the no-change check's entry)."""
        cache = self.cache
        if cache is None or not cache.damaged or not cache.reopen():
            return
        if self.sources is not None:
            self.sources.save_all(cache)
        if self.objects is not None:
            self.objects.save_all()
        if self.images is not None:
            self.images.save_all(cache)
        if self.stats is not None:
            cache.put_stats(self.stats)
        if template_deps:
            cache.set_json(TEMPLATE_DEPS, template_deps)
        if ok:
            if self.record is not None:
                cache.update_record(self.record, (), replace=True)
            if fast is not None:
                cache.set_json(*fast)
