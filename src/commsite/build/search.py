"""The search step of a build: when to make the search index, and its bundle
as outputs of the build.

The bundle (`pagefind/`, made by Pagefind: commsite.search) is an output of the
build like any other file: written into the staging folder, listed in the build
record, switched in with the rest of the site (build.switch), removed when no
longer made. Its files' fingerprint is the index key, a digest of the indexed
pages' fingerprints and of the Pagefind program, so the index is made again
only when one of those pages (or the program) changed; otherwise the record's
files stand.

The new site is spread between the output (unchanged pages) and the staging
folder (pages this build rendered): Pagefind is given each indexed page from
where it is, and its bundle is moved into the staging folder.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from commsite import urls
from commsite.build.cache import RecordEntry
from commsite.build.fingerprint import digest_parts
from commsite.build.output import FileState, Staging, file_digest
from commsite.errors import Diagnostic

__all__ = [
    "SEARCH_SOURCES",
    "IndexResult",
    "SearchPlan",
    "make_index",
    "plan_search",
]

SEARCH_DIR = urls.SEARCH_INDEX  # "pagefind/"
SEARCH_SOURCES = ("search",)  # the record's `sources` of the bundle's files


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """What the search step of one build does."""

    binary: Path
    key: bytes  # the index's fingerprint
    pages: tuple[str, ...]  # the indexed pages' files, relative to the output (sorted)
    known: tuple[str, ...]  # the record's bundle files made for this key
    kept_stale: bool = False  # an older index kept (`keep_stale`): not to be remembered

    @property
    def stale(self) -> bool:
        """No bundle for this key in the record: the index must be made."""
        return not self.known


def plan_search(
    enabled: bool,
    pages: Mapping[str, tuple[str, bytes]],
    record: Mapping[str, RecordEntry] | None,
    *,
    keep_stale: bool = False,
) -> tuple[SearchPlan | None, list[Diagnostic]]:
    """The search step for a site whose HTML pages are `pages` (output file ->
    (template, fingerprint)); None when search is off or Pagefind is missing
    (with a warning saying how to get it). `keep_stale` (commsite serve's
    preview): an index the record has stands even when pages changed, since
    Pagefind takes seconds for a few thousand pages (about 20 s for 2,300 on
    two busy cores) and an edit must show at once; the preview's first build
    (a fresh `serve`) and every `commsite build` make it again."""
    if not enabled:
        return None, []
    # (Pagefind's modules only for a site with search on.)
    from commsite.search.pagefind import INDEXED_TEMPLATES, find_pagefind
    from commsite.search.tool import tool_identity

    binary = find_pagefind()
    if isinstance(binary, Diagnostic):
        return None, [binary]
    indexed = sorted(p for p, (template, _) in pages.items() if template in INDEXED_TEMPLATES)
    key = digest_parts(  # (a path holds no NUL, and fingerprints are of one length)
        b"search-2",
        tool_identity().encode(),
        b"".join(p.encode() + b"\0" + pages[p][1] for p in indexed),
    )
    known: tuple[str, ...] = ()
    if record is not None:
        bundle = {p: e.fingerprint for p, e in record.items() if e.sources == SEARCH_SOURCES}
        known = tuple(sorted(p for p, fingerprint in bundle.items() if fingerprint == key))
        if not known and keep_stale and bundle:
            # The preview's edits: the index it has stands (see `keep_stale`).
            key = next(iter(bundle.values()))
            known = tuple(sorted(p for p, fingerprint in bundle.items() if fingerprint == key))
            return SearchPlan(binary, key, tuple(indexed), known, kept_stale=True), []
    return SearchPlan(binary, key, tuple(indexed), known), []


@dataclass(frozen=True, slots=True)
class IndexResult:
    files: tuple[str, ...]  # the bundle's output paths (staged)
    pages: int  # pages Pagefind indexed
    seconds: float
    problem: Diagnostic | None = None  # Pagefind failed: the site goes without the index


def make_index(
    plan: SearchPlan,
    staging: Staging,
    output: Path,
    rendered: Iterable[str],
) -> IndexResult:
    """Run Pagefind over the indexed pages of the new site (those in `rendered`
    from the staging folder, the others from the output) and stage its bundle."""
    from commsite.search.pagefind import index_pages

    start = time.perf_counter()
    scratch = staging.place.work("search-")
    fresh = set(rendered)
    pages = ((p, (staging.path if p in fresh else output) / p) for p in plan.pages)
    try:
        problem = index_pages(plan.binary, pages, scratch)
        if problem is not None:
            return IndexResult((), 0, time.perf_counter() - start, problem)
        files = _stage_bundle(scratch / "bundle", staging)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return IndexResult(files, len(plan.pages), time.perf_counter() - start)


def _stage_bundle(bundle: Path, staging: Staging) -> tuple[str, ...]:
    """Move the bundle's files into the staging folder under pagefind/."""
    files: list[str] = []
    base = len(str(bundle)) + 1
    for dirpath, _dirnames, filenames in os.walk(bundle):
        for name in filenames:
            source = os.path.join(dirpath, name)
            rel = SEARCH_DIR + source[base:].replace(os.sep, "/")
            target = staging.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(source, "rb") as f:
                digest = file_digest(f.read())
            os.replace(source, target)
            st = target.stat()
            staging.add(rel, FileState(digest, st.st_size, st.st_mtime_ns))
            files.append(rel)
    return tuple(sorted(files))
