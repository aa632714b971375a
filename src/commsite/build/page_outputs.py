"""The pages' outputs: the `Output` of each planned file, and how a page gets
its fingerprint without being made when what it read is unchanged (see "The
engine" in docs/maintainers.md).

A build with no record (a cold one) has nothing to compare fingerprints with
before rendering: its pages are planned `Unsealed` (no fingerprint yet), and
the render workers, which make each page's context anyway, fingerprint it
there (`seal`); `sealed` puts what they found in the outputs before they are
recorded. The planning process then makes no context at all: the 2 cores share
that work instead of one doing it while the other waits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commsite import urls
from commsite.build.cache import RecordEntry
from commsite.build.fingerprint import ReprMemo, code_fingerprint, context_digest, digest_bytes
from commsite.build.memo import BuildMemo
from commsite.build.pagekeys import KeyDigests, recorded_digest, recorded_reads
from commsite.build.parallel import can_fork
from commsite.build.read_index import ReadCheck
from commsite.content.model import Site
from commsite.content.safe_files import Fence, list_files, read_input
from commsite.render.pages import LazyContext, PageMemo, PageSpec
from commsite.render.renderer import Renderer
from commsite.render.theme import Theme
from commsite.render.views import StoryCard

if TYPE_CHECKING:
    from commsite.build.document_reads import Documents

__all__ = ["Output", "Seal", "Unsealed", "page_outputs", "read_tree", "seal", "sealed"]


@dataclass(frozen=True, slots=True)
class Unsealed:
    """What fingerprints a page of a cold build where it is rendered (`seal`):
    its template files' digest and the digest of the shared key its reads are
    recorded under."""

    template: bytes
    shared: bytes
    keys: KeyDigests
    reprs: ReprMemo


@dataclass(frozen=True, slots=True)
class Output:
    path: str  # the file, relative to the output directory
    fingerprint: bytes
    # What it was made from, for people reading the record: a page's own content
    # file (if it is about one item) and its template files; "*" for documents
    # made from the whole site. Fingerprints, not these, decide what is rebuilt.
    sources: tuple[str, ...]
    page: PageSpec | None = None  # rendered later
    data: bytes | None = None  # or its bytes, made already
    copy: Path | None = None  # or the file to copy
    make: Callable[[], bytes] | None = None  # or what makes its bytes, when needed
    # A digest of what it is made from (build.pagekeys): pages with a key and the
    # feeds have one; with the record's equal, the record's fingerprint holds.
    inputs: bytes = b""
    # A cold build's page: fingerprinted where it is rendered (fingerprint and,
    # for a page recording its reads, inputs are empty until `sealed`).
    unsealed: Unsealed | None = None
    # A cold build's generated document: made in a batch where the pages are
    # rendered, by these Documents (document_reads.py), then `sealed` there.
    documents: Documents | None = None

    def content(self) -> bytes:
        """The bytes of a document or copy (not of a page)."""
        if self.data is not None:
            return self.data
        if self.make is not None:
            return self.make()
        assert self.copy is not None
        return read_input(self.copy)


def read_tree(fence: Fence, directory: Path) -> dict[str, Path]:
    """Relative POSIX path -> file, for every file under `directory` that the
    fence admits, sorted (what it refuses, the input scan has reported)."""
    listing = list_files(fence.around(directory), directory, "")
    return {key: Path(path) for key, path in listing.files}


class _TemplateDigests:
    """Per template name: a digest of the files it is made of (itself and what it
    extends, includes or imports), and their paths.

    Finding what a template uses means parsing it; the answer is kept in
    `known` (saved in the build cache) under a digest of every template file,
    so it is reused until any template changes.
    """

    def __init__(
        self, renderer: Renderer, theme: Theme, known: dict[str, Any], fence: Fence
    ) -> None:
        self._renderer = renderer
        self._files: dict[str, bytes] = {}
        for directory in theme.template_dirs:
            for path in read_tree(fence, directory).values():
                self._files.setdefault(str(path), digest_bytes(read_input(path)))
        state = digest_bytes(*(k.encode() + v for k, v in sorted(self._files.items()))).hex()
        if known.get("state") != state:
            known.clear()
            known.update(state=state, deps={})
        self.deps: dict[str, list[str]] = known["deps"]
        self._templates: dict[str, tuple[bytes, tuple[str, ...]]] = {}

    def get(self, name: str) -> tuple[bytes, tuple[str, ...]]:
        found = self._templates.get(name)
        if found is None:
            files = self.deps.get(name)
            if files is None or any(f not in self._files for f in files):
                files = [str(p) for p in self._renderer.template_files(name)]
                self.deps[name] = files
            parts: list[bytes] = []
            for file in files:
                digest = self._files.get(file)
                if digest is None:
                    digest = digest_bytes(read_input(file))
                parts += [file.encode(), digest]
            found = (digest_bytes(*parts), tuple(files))
            self._templates[name] = found
        return found


def page_outputs(
    specs: list[PageSpec],
    site: Site,
    renderer: Renderer,
    theme: Theme,
    template_deps: dict[str, Any] | None,
    progress: Callable[[str, int, int], None] | None,
    memo: BuildMemo | None,
    pages_memo: PageMemo,
    keys: KeyDigests,
    record: Mapping[str, RecordEntry] | None,
    fence: Fence,
    check: ReadCheck | None = None,
) -> list[Output]:
    """Each page's output, fingerprinted by its template files and context; but a
    spec the memo's last plan made too keeps its output, and a page whose recorded
    reads give what they gave (by the record's digest, or by the last build's read
    index: `check`) takes its fingerprint from the record (its context is then
    never made)."""
    templates = _TemplateDigests(
        renderer, theme, {} if template_deps is None else template_deps, fence
    )
    page_keys = pages_memo.keys()
    total = len(specs)
    # Cards are shared between list, tag and home pages: each repr'd once.
    # (the story cards' are kept from plan to plan with the cards)
    values = pages_memo.values
    reprs = ReprMemo(values.reprs if values is not None else None, StoryCard)
    known = memo.outputs if memo is not None else {}
    kept: dict[int, tuple[object, bytes, object]] = {}
    found: list[Output] = []
    by_template: dict[str, tuple[bytes, tuple[str, ...]]] = {}
    shared_digests: dict[tuple[bytes, tuple[object, ...]], bytes] = {}
    # No record: nothing to compare with before rendering (see the module's
    # docstring). Only where the workers are forked: the fork server's get the
    # contexts pickled, made here, and the pages' reads would not come back. Not
    # with search on: the search step's key is made of the pages' fingerprints.
    later = not record and can_fork() and not site.config.search
    unsealed: dict[tuple[bytes, bytes], Unsealed] = {}
    if progress:
        progress("planning", 0, total)
    for n, spec in enumerate(specs, 1):
        if progress and n % 1000 == 0:
            progress("planning", n, total)
        template = by_template.get(spec.template)
        if template is None:
            template = by_template[spec.template] = templates.get(spec.template)
        template_digest, template_files = template
        last = known.get(id(spec))
        if last is not None and last[0] is spec and last[1] == template_digest:
            # The same spec and templates: the same fingerprint (13,000 pages of a
            # 10,000-story site take this way on a rebuild: kept lean).
            kept[id(spec)] = last
            found.append(last[2])  # type: ignore[arg-type]
            continue
        path = urls.output_file(spec.path)
        planned = page_keys.get(spec.path)
        context = spec.context
        assert isinstance(context, LazyContext) and context.recording and planned is not None
        # (its key: the shared key and options, see PageMemo.recorded.) The shared key
        # is the same for every page: digested once per template and options.
        options = (template_digest, planned[0][1:])
        inputs = shared_digests.get(options) or shared_digests.setdefault(
            options, keys.digest(planned[0], template_digest)
        )
        if later:
            output = _unsealed(spec, path, template, inputs, unsealed, keys, reprs)
        else:
            fingerprint, inputs = _recorded_page(
                context, path, template_digest, inputs, keys, pages_memo, record, reprs, check
            )
            item = spec.source
            sources = (item, *template_files) if item else template_files
            output = Output(path, fingerprint, sources, page=spec, inputs=inputs)
        kept[id(spec)] = (spec, template_digest, output)
        found.append(output)
    if memo is not None:
        memo.outputs = kept
    return found


def _unsealed(
    spec: PageSpec,
    path: str,
    template: tuple[bytes, tuple[str, ...]],
    shared: bytes,
    known: dict[tuple[bytes, bytes], Unsealed],
    keys: KeyDigests,
    reprs: ReprMemo,
) -> Output:
    """A cold build's page output, fingerprinted where it is rendered."""
    digest, files = template
    later = known.get((digest, shared))
    if later is None:
        later = known[digest, shared] = Unsealed(digest, shared, keys, reprs)
    item = spec.source
    sources = (item, *files) if item else files
    return Output(path, b"", sources, page=spec, unsealed=later)


# What a cold build's worker found for a page or document it made: its fingerprint,
# its inputs, and the digests of what its reads gave (in order, for the read index).
Seal = tuple[bytes, bytes, bytes]


def seal(spec: PageSpec, later: Unsealed) -> Seal:
    """The fingerprint and inputs of a cold build's page (made here if it was not):
    what `page_outputs` gives the same page when it makes its context; and the
    digests of its reads' values, which the read index keeps (build/read_index.py)."""
    path = urls.output_file(spec.path)
    shown = context_digest(spec.context, later.reprs)
    fingerprint = digest_bytes(b"page", code_fingerprint(), path.encode(), later.template, shown)
    context = spec.context
    assert isinstance(context, LazyContext) and context.reads is not None
    keys = later.keys
    return (
        fingerprint,
        keys.reads_inputs(later.shared, context.reads),
        keys.read_digests(context.reads),
    )


def sealed(
    outputs: Iterable[Output],
    found: Mapping[str, Seal],
    memo: BuildMemo | None,
    pages_memo: PageMemo | None,
    check: ReadCheck | None = None,
) -> dict[str, Output]:
    """The unsealed among `outputs` with the fingerprint and inputs `seal` found
    for them (by output path), by path; their pages' contexts vouched for the
    reads their inputs name (as a next plan of a long-lived builder expects of a
    page that was made), the memo's outputs updated, and the reads noted for the
    read index (`check`)."""
    done: dict[str, Output] = {}
    kept = memo.outputs if memo is not None else {}
    values = pages_memo.values if pages_memo is not None else None
    for o in outputs:
        later, spec = o.unsealed, o.page
        if later is None or spec is None or o.path not in found:
            continue
        fingerprint, inputs, digests = found[o.path]
        output = done[o.path] = replace(o, fingerprint=fingerprint, inputs=inputs, unsealed=None)
        last = kept.get(id(spec))
        if last is not None and last[0] is spec:
            kept[id(spec)] = (spec, last[1], output)
        context = spec.context
        reads = recorded_reads(inputs)
        if reads is not None and check is not None:
            check.note(o.path, reads)
            check.learn(reads, digests)
        if values is None or reads is None or not isinstance(context, LazyContext):
            continue
        if context.reads is None:
            context.vouch(tuple((read, values.value(read)) for read in reads))
    return done


def _recorded_page(
    context: LazyContext,
    path: str,
    template_digest: bytes,
    shared: bytes,
    keys: KeyDigests,
    pages_memo: PageMemo,
    record: Mapping[str, RecordEntry] | None,
    reprs: ReprMemo,
    check: ReadCheck | None,
) -> tuple[bytes, bytes]:
    """The fingerprint and inputs of a page whose function records what it reads
    (render/pages/reads.py). Its inputs are the shared key's digest (`shared`)
    and the reads with a digest of their values: when the record's reads give the
    values they gave, the record's fingerprint holds and the context is not made;
    else it is made, which records its reads anew. With the last build's read
    index (`check`), a page that read nothing an edit changed is not looked into."""
    entry = record.get(path) if record is not None else None
    recorded = context.reads
    if entry is not None and recorded is None and check and check.holds(path, entry.inputs, shared):
        return entry.fingerprint, entry.inputs
    if recorded is None and entry is not None:
        reads = recorded_reads(entry.inputs)
        values = pages_memo.values
        if reads is not None and values is not None:
            found = tuple((read, values.value(read)) for read in reads)
            if keys.reads_digest(shared, found) == recorded_digest(entry.inputs):
                context.vouch(found)
                if check is not None:
                    check.note(path, reads)
                return entry.fingerprint, entry.inputs
    if (
        recorded is not None
        and entry is not None
        and keys.reads_digest(shared, recorded) == recorded_digest(entry.inputs)
    ):
        if check is not None:
            check.note(path, (read for read, _ in recorded))
        return entry.fingerprint, keys.reads_inputs(shared, recorded)
    shown = context_digest(context, reprs)  # makes the context: its reads are recorded
    assert context.reads is not None
    if check is not None:
        check.note(path, (read for read, _ in context.reads))
    fingerprint = digest_bytes(b"page", code_fingerprint(), path.encode(), template_digest, shown)
    return fingerprint, keys.reads_inputs(shared, context.reads)
