"""The search index: Pagefind run over the built story, event and member pages.

Pagefind (a Rust program, shipped in the `pagefind-bin` wheel) reads HTML and
writes a static search bundle, `pagefind/`, that the browser queries by
fetching small compressed chunks: search works on any static host.

The bundle is an output of the build like any other file: written into the
staging folder, listed in the build record, switched in with the rest of the
site (build.switch), removed when no longer made. Its files' fingerprint is the
index key, a digest of the indexed pages' fingerprints and of the Pagefind
program, so the index is made again only when one of those pages (or the
program) changed; otherwise the record's files stand.

Pagefind needs the pages as files in one folder, but the new site is spread
between the output (unchanged pages) and the staging folder (pages this build
rendered): the indexed pages are hard-linked into a scratch folder beside them
(cheap: no bytes are copied), Pagefind runs on it, and its bundle is moved
into the staging folder.

Pagefind's Python API (the `pagefind` package) is not used: it waits 0.1 s per
reply from the program (200 s for 2,000 pages) and its way of returning files
in memory may deadlock on large sites; the command line does the same work in
one run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from commsite import urls
from commsite.build.cache import RecordEntry
from commsite.build.fingerprint import digest_bytes
from commsite.build.output import FileState, Staging, file_digest
from commsite.build.search_bundle import canonical_bundle
from commsite.build.search_tool import BINARY_ENV, pagefind_binary, tool_identity
from commsite.errors import Diagnostic, Severity

__all__ = [
    "INDEXED_TEMPLATES",
    "SEARCH_SOURCES",
    "IndexResult",
    "SearchPlan",
    "make_index",
    "plan_search",
]

SEARCH_DIR = urls.SEARCH_INDEX  # "pagefind/"
# The pages whose text is searchable; their templates mark the part to index
# (data-pagefind-body) and the filters. Lists and indexes are left out, so each
# result is one story, event or member.
INDEXED_TEMPLATES = frozenset({"story.html", "event.html", "member.html"})
SEARCH_SOURCES = ("search",)  # the record's `sources` of the bundle's files
TIMEOUT = 600  # seconds: Pagefind indexes thousands of pages a second
INSTALL_HINT = (
    "install it with `pip install pagefind-bin` (commsite's install brings it;"
    f" or name the program in {BINARY_ENV}), or set `search: false` in commsite.yaml"
)


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
    binary = pagefind_binary()
    if binary is None or not binary.is_file():
        what = "is not installed" if binary is None else f"is not at {binary}"
        warning = Diagnostic(
            "commsite.yaml",
            None,
            f"search is on but the Pagefind program {what}; the site is built without"
            " its search index",
            Severity.WARNING,
            INSTALL_HINT,
        )
        return None, [warning]
    indexed = sorted(p for p, (template, _) in pages.items() if template in INDEXED_TEMPLATES)
    key = digest_bytes(
        b"search-1",
        tool_identity().encode(),
        *(p.encode() + b"\0" + pages[p][1] for p in indexed),
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
    start = time.perf_counter()
    scratch = staging.place.work("search-")
    if os.path.lexists(scratch):
        shutil.rmtree(scratch)
    site, bundle = scratch / "site", scratch / "bundle"
    fresh = set(rendered)
    try:
        site.mkdir(parents=True)
        for path in plan.pages:
            source = (staging.path if path in fresh else output) / path
            target = site / path
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
        problem = _run_pagefind(plan.binary, site, bundle)
        if problem is not None:
            return IndexResult((), 0, time.perf_counter() - start, problem)
        canonical_bundle(bundle)  # (the same pages give the same bytes)
        files = _stage_bundle(bundle, staging)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return IndexResult(files, len(plan.pages), time.perf_counter() - start)


def _run_pagefind(binary: Path, site: Path, bundle: Path) -> Diagnostic | None:
    """Run Pagefind; a Diagnostic (warning) when it failed."""
    command = [str(binary), "--site", str(site), "--output-path", str(bundle), "--silent"]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _failed(f"it did not finish in {TIMEOUT} s")
    except OSError as exc:
        return _failed(str(exc))
    if done.returncode != 0 or not (bundle / "pagefind.js").is_file():
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        why = said[-1] if said else f"exit status {done.returncode}"
        return _failed("".join(c if c.isprintable() else "?" for c in why)[:300])
    return None


def _failed(why: str) -> Diagnostic:
    return Diagnostic(
        "commsite.yaml",
        None,
        f"the search index could not be made: Pagefind failed ({why}); the site is built"
        " without it",
        Severity.WARNING,
        INSTALL_HINT.replace("install it with", "reinstall Pagefind with"),
    )


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
