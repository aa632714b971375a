"""The output side of the full build (build/pipeline.py): what is out of date
against the record, rendered into a staging folder, switched in as the new
output, and recorded."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, KeysView, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from commsite.build.cache import BuildCache, RecordEntry
from commsite.build.document_batches import batches
from commsite.build.inputs import NowWindow, instants, window_at
from commsite.build.kept import Kept
from commsite.build.memo import BuildMemo
from commsite.build.output import (
    NO_SPACE,
    CommitResult,
    DiskFull,
    FileState,
    Staging,
    current_state,
)
from commsite.build.page_outputs import sealed
from commsite.build.pagekeys import recorded_shared
from commsite.build.plan import Output
from commsite.build.read_index import ReadCheck
from commsite.build.render import Page, render_pages
from commsite.build.search import SEARCH_DIR, SEARCH_SOURCES, SearchPlan, make_index
from commsite.build.state import BuildResult, Run
from commsite.build.switch import Copy
from commsite.build.unchanged import fast_name, on_disk, remember
from commsite.content.model import Site
from commsite.content.parse import ParsedFile
from commsite.errors import Diagnostic

if TYPE_CHECKING:
    from commsite.build.pipeline import Assembled, Loaded, Planned

__all__ = [
    "RecordedStates",
    "Rendered",
    "aborted_on_failure",
    "bundle_outputs",
    "dirty_outputs",
    "open_staging",
    "record",
    "relative",
    "render",
    "save_caches",
    "up_to_date",
    "write",
]


@dataclass(frozen=True, slots=True)
class Rendered:
    outputs: dict[str, Output]  # the plan's, with the new search bundle's files
    made: list[Output]  # what was rendered (and the new bundle's files)
    gone: list[str]
    record: dict[str, RecordEntry] | None
    search: SearchPlan | None
    reindex: bool
    reads: ReadCheck | None  # makes the read index kept with the record (the plan's)


def render(
    run: Run, kept: Kept, loaded: Loaded, planned: Planned, staging: Staging
) -> Rendered | None:
    """The pages and documents out of date, written into the staging folder (across
    processes for big builds), then the search index when it is to be made again.
    While the workers render, this process stores what was parsed and made."""
    made = list(planned.to_make)
    later = next((o.documents for o in made if o.documents is not None), None)
    done = render_pages(
        planned.renderer,
        [_page(o) for o in made if o.page is not None],
        staging.path,
        jobs=loaded.jobs,
        progress=run.progress,
        documents=[o for o in made if o.page is None and o.documents is None],
        batches=batches(later, (o.path for o in made if o.documents)) if later else (),
        meanwhile=partial(save_caches, kept, loaded.cache),
    )
    states = done.states
    for path, state in states.items():
        staging.add(path, state)
    if done.problems:
        run.problems += [relative(d, run.options.root) for d in done.problems]
        return None
    outputs, gone = planned.outputs, planned.gone
    if done.sealed:  # a cold build's pages and documents, fingerprinted as they were made
        memo = loaded.memo
        now = sealed(made, done.sealed, memo, memo.pages, planned.reads)
        if later is not None:
            now.update(later.sealed(done.sealed))
        made = [now.get(o.path, o) for o in made]
        outputs.update(now)
    if planned.search is not None and planned.reindex:
        outputs, bundle = _index(run, planned.search, staging, states.keys(), outputs)
        made += bundle
        if run.failing():
            return None
        record = planned.record
        gone = sorted(record.keys() - outputs.keys()) if record is not None else []
    return Rendered(
        outputs, made, gone, planned.record, planned.search, planned.reindex, planned.reads
    )


def _page(output: Output) -> Page:
    assert output.page is not None
    return output.page if output.unsealed is None else (output.page, output.unsealed)


def write(run: Run, rendered: Rendered, staging: Staging, copy: Copy | None) -> CommitResult:
    """The staged files switched in as the new output (build/output.py, switch.py)."""
    cache, record = run.cache, rendered.record
    if cache is not None:
        cache.invalidate_record()
        cache.set_json(fast_name(run.options), None)
    known = None
    if record is not None:
        strays = None
        if rendered.search is not None and rendered.reindex:
            strays = bundle_strays(run.options.output_dir, record)
        known = RecordedStates(record, strays)
    if run.progress is not None:
        run.progress("writing", 0, len(rendered.made))
    committed = staging.commit(rendered.outputs.keys(), known, copy)
    if run.progress is not None:
        run.progress("writing", len(rendered.made), len(rendered.made))
    return committed


def record(
    run: Run,
    kept: Kept,
    loaded: Loaded,
    assembled: Assembled,
    rendered: Rendered,
    staging: Staging,
    committed: CommitResult,
) -> BuildResult:
    """The record updated with what was made and written, and the result."""
    output, outputs, record = run.options.output_dir, rendered.outputs, rendered.record
    changed = new_inputs(outputs, record)
    for o in rendered.made:
        state: FileState | None = committed.states.get(o.path)
        if state is None:  # rendered, but the bytes on disk were already right
            # (As they are on disk now, not as recorded: a damaged record's size or
            # time kept would make the page again in every build.)
            state = current_state(output, o.path, staging.staged[o.path].digest)
        if state is not None:
            changed[o.path] = RecordEntry(o.fingerprint, state, o.sources, o.inputs)
    if loaded.cache is not None:
        removed = set(rendered.gone) | set(committed.removed)
        reads = _read_index(rendered.reads, outputs)
        loaded.cache.update_record(changed, removed, replace=record is None, reads=reads)
        # The record in memory follows the one on disk (updated in place: it is
        # this builder's own, and copying 24,000 entries per rebuild showed).
        base = {} if record is None else record
        for path in removed:
            base.pop(path, None)
        base.update(changed)
        kept.record, kept.record_loaded, kept.output_known = base, True, True
    _remember(run, loaded, assembled, rendered.search, len(outputs))
    return run.finished(
        tuple(
            o.path for o in rendered.made if o.sources != SEARCH_SOURCES
        ),  # (the index: `indexed`)
        committed.written,
        committed.removed,
        len(outputs),
    )


def up_to_date(
    run: Run, kept: Kept, loaded: Loaded, assembled: Assembled, planned: Planned
) -> BuildResult:
    """Nothing to write: the record renewed where inputs changed but not what they show."""
    kept.output_known = True
    renewed = new_inputs(planned.outputs, planned.record)
    if renewed and loaded.cache is not None and planned.record is not None:
        reads = _read_index(planned.reads, planned.outputs)
        loaded.cache.update_record(renewed, (), replace=False, reads=reads)
        planned.record.update(renewed)  # (this builder's own record)
    _remember(run, loaded, assembled, planned.search, len(planned.outputs))
    return run.finished((), (), (), len(planned.outputs))


# --- helpers -----------------------------------------------------------------


def _read_index(check: ReadCheck | None, outputs: Mapping[str, Output]) -> bytes | None:
    """The read index to store with the record of `outputs` (build/read_index.py)."""
    if check is None:
        return None
    return check.stored([path for path, o in outputs.items() if recorded_shared(o.inputs)])


def save_caches(kept: Kept, cache: BuildCache | None) -> None:
    """Store what this build parsed and made in the build cache (the render
    workers' time is the time to do it; a build that stops earlier does it here)."""
    if kept.sources is not None:
        kept.sources.save(cache)
    if kept.objects is not None:
        kept.objects.save()


def open_staging(output: Path, *, switch: bool) -> Staging:
    try:
        return Staging(output, switch=switch)
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise DiskFull(output) from None
        raise


@contextlib.contextmanager
def aborted_on_failure(staging: Staging, kept: Kept) -> Iterator[None]:
    """The staging folder dropped when rendering or the commit fails; a full disk
    said as DiskFull."""
    try:
        yield
    except BaseException as exc:
        staging.abort()
        kept.output_known = False  # a commit may have stopped half way: look again
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            raise DiskFull(staging.output_path(exc.filename)) from None
        raise


def _remember(
    run: Run, loaded: Loaded, assembled: Assembled, search: SearchPlan | None, total: int
) -> None:
    """What the next build's no-change check compares with; nothing when the
    preview kept an older search index, so that a fresh `serve` makes it again."""
    if search is None or not search.kept_stale:
        window = _now_window(loaded.memo, assembled.site, assembled.parsed)
        remember(run, loaded.cache, loaded.scan, window, total)


# The last bundle's outputs, by its key and files: serve's rebuilds plan the index
# they keep (search.py, keep_stale) again and again, and making its 11,700
# outputs took 19 ms a rebuild at 10,000 stories. A pure function of the two.
_last_bundle: list[tuple[bytes, tuple[str, ...], Mapping[str, Output]]] = []


def bundle_outputs(search: SearchPlan, files: Iterable[str]) -> Mapping[str, Output]:
    """The search bundle's files as outputs: their fingerprint is the index key."""
    paths = tuple(files)
    if _last_bundle and _last_bundle[0][0] == search.key and _last_bundle[0][1] == paths:
        return _last_bundle[0][2]
    made = {path: Output(path, search.key, SEARCH_SOURCES) for path in paths}
    _last_bundle[:] = [(search.key, paths, made)]
    return made


def _index(
    run: Run,
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
    made = bundle_outputs(search, result.files)
    return {**kept, **made}, list(made.values())


def _now_window(memo: BuildMemo, site: Site, parsed: list[ParsedFile]) -> NowWindow:
    """inputs.now_window, its sorted moments kept while what they come from is unchanged."""
    key = (site.config, site.stories, site.events, site.interactions.replies, tuple(parsed))
    return window_at(memo.get("instants", key, partial(instants, site, parsed)), site.now)


def relative(d: Diagnostic, root: Path) -> Diagnostic:
    """A diagnostic about a file of the site named relative to it (a template's
    errors name its absolute path)."""
    try:
        path = Path(d.path).relative_to(root).as_posix()
    except ValueError:
        return d
    return replace(d, path=path)


# --- the record against the plan ----------------------------------------------


class RecordedStates(Mapping[str, FileState]):
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


def bundle_strays(output: Path, record: Mapping[str, RecordEntry]) -> dict[str, FileState]:
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


def new_inputs(
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


def dirty_outputs(
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
            or (check_disk and not on_disk(output, o.path, entry.state.size, entry.state.mtime_ns))
        ):
            found.append(o)
    return found
