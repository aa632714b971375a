"""Generated documents (feeds, calendars, the sitemap, federation objects and
outbox pages) that record what they read, as pages do (render/pages/reads.py).

A `Document` is a path and a function from a `DocumentReads` (the pages' view of
the site, with the documents' queries) to bytes. What it read is its record:
in the build record as the reads with a digest of their values (exactly a
page's, build/pagekeys.py), in a long-lived builder's `DocumentMemo` as the
reads with their values. A document is made again only when a read answers
differently (or the config, or commsite's code, differs); otherwise its last
Output is kept (serve) or its recorded fingerprint holds and it is made only
if its file must be written again (a new process). Nothing is declared: a
document function that starts reading something new is kept fresh with no
other change (tests/test_document_reads.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from commsite.build.cache import RecordEntry
from commsite.build.document_queries import DocumentReads, Embeds
from commsite.build.fingerprint import digest_bytes
from commsite.build.memo import DocumentMemo
from commsite.build.page_outputs import Output, Seal
from commsite.build.pagekeys import KeyDigests, recorded_digest, recorded_reads
from commsite.build.parallel import Background, submit
from commsite.build.read_index import ReadCheck
from commsite.render.pages.reads import Read, ReadValues, Recorded

__all__ = ["Document", "DocumentMemo", "Documents", "make_document"]

# From this weight (about a millisecond each) on, the documents to make are
# made in a forked worker while the build fingerprints its pages.
PARALLEL_WEIGHT = 100


@dataclass(frozen=True, slots=True)
class Document:
    path: str
    make: Callable[[DocumentReads], bytes]
    # Plain inputs besides its reads (the sitemap's page paths): in its digest.
    options: tuple[str, ...] = ()
    # About how many milliseconds making it takes (see PARALLEL_WEIGHT).
    weight: int = 0
    # For a document whose made value is kept packed and stored (a federation
    # object's JSON, which outbox pages embed): what makes its file from that
    # value. None: `make` makes the file's bytes.
    file: Callable[[bytes], bytes] | None = None
    # Whether to keep its bytes once made; False for a big document that is cheap
    # to make again (an outbox page, 340 KB: its 20 objects' JSON, from the store):
    # it is made to know its digest and reads, and again when it is written.
    keep: bool = True
    # The documents it embeds (an outbox page's objects): a cold build makes them
    # in one batch with it (build/document_batches.py).
    embeds: tuple[str, ...] = ()


class ReadIndex(Protocol):
    """Which outputs read what (render/pages/spec.py's PageMemo): `changed` names
    those with a read that answers otherwise this plan (None: any may)."""

    changed: set[str] | None

    def index(self, path: str, recorded: Recorded) -> None: ...


class Store(Protocol):
    """Where packed values are kept by their digest (build/objects.py's ObjectStore)."""

    def get(self, fingerprint: bytes) -> bytes | None: ...

    def add(self, fingerprint: bytes, packed: bytes) -> None: ...


# What making a document gives: the digest of its value (its fingerprint), the
# value (packed, for a document with a `file`), and what it read.
_Made = tuple[bytes, bytes, Recorded]


def _made(document: Document, values: ReadValues, documents: Embeds | None) -> _Made:
    fingerprint, value, recorded = make_document(document, values, documents)
    payload = zlib.compress(value, 1) if document.file is not None else value
    return fingerprint, payload, recorded


def make_document(document: Document, values: ReadValues, documents: Embeds | None) -> _Made:
    """Make `document`: the digest of its value (its fingerprint), the value as
    made (not packed) and what it read."""
    reads = DocumentReads(values, documents)
    value = document.make(reads)
    return digest_bytes(b"data", value), value, reads.record()


def _made_in_worker(
    documents: list[Document], values: ReadValues
) -> list[tuple[bytes, bytes, tuple[Read, ...]]]:
    """Made in a forked worker: the digest, the payload, and which reads (their
    values are this process's too: the parent asks them again, cheaply, rather
    than unpickling them)."""
    found = []
    for document in documents:
        fingerprint, payload, recorded = _made(document, values, None)
        found.append((fingerprint, payload, tuple(read for read, _ in recorded)))
    return found


def _file(document: Document, payload: bytes) -> bytes:
    if document.file is None:
        return payload
    return document.file(zlib.decompress(payload))


class Documents:
    """The documents of one plan: `start` (the ones to make are made in a forked
    worker when they weigh enough), then `outputs`; `start` again for documents
    that embed those (outbox pages), then `outputs`; `finish`.

    `later` (a cold build's: no record to compare with, workers forked): the
    documents to make are not made here but where the pages are rendered
    (build/document_batches.py), the workers sharing them with the pages; their
    outputs are unsealed (no fingerprint) until `sealed` takes what was found."""

    def __init__(
        self,
        values: ReadValues,
        keys: KeyDigests,
        config: object,
        memo: DocumentMemo | None,
        record: Mapping[str, RecordEntry] | None,
        store: Store | None = None,
        *,
        later: bool = False,
        index: ReadIndex | None = None,
        check: ReadCheck | None = None,
    ) -> None:
        self._values = values
        self._index = index
        self._check = check
        self._keys = keys
        self._config = config
        self._memo = memo
        self._record = record if record is not None else {}
        self._store = store
        self._shared: dict[tuple[str, ...], bytes] = {}
        if memo is not None and memo.config != config:
            memo.config, memo.last = config, {}
        self._documents: dict[str, Document] = {}
        self._outputs: dict[str, Output] = {}
        # (None: a document the read index found fresh; its reads are asked if needed)
        self._recorded: dict[str, Recorded | None] = {}
        self._payloads: dict[str, bytes] = {}  # what was made, by path (packed or the file)
        self._to_make: list[Document] = []
        self._later: list[str] | None = [] if later else None  # (paths)
        self._background: Background[list[tuple[bytes, bytes, tuple[Read, ...]]]] | None = None

    @property
    def values(self) -> ReadValues:
        return self._values

    def document_at(self, path: str) -> Document:
        return self._documents[path]

    def shared(self, options: tuple[str, ...]) -> bytes:
        """The digest of what a document with `options` is made from besides its
        reads: commsite's code, the config and the options."""
        found = self._shared.get(options)
        if found is None:
            key = (self._config, options) if options else (self._config,)
            found = self._shared[options] = self._keys.digest(key, b"document")
        return found

    def start(self, documents: Iterable[Document]) -> None:
        """Plan `documents`: each is kept (its reads answer as they did), vouched for
        by the record, or to make (started in a worker when they weigh enough)."""
        values, memo, index = self._values, self._memo, self._index
        last = memo.last if memo is not None else {}
        # The index names the documents whose reads may answer otherwise now: the
        # others are kept without asking (None: ask each, and index what it read).
        changed = index.changed if index is not None else None
        for document in documents:
            path = document.path
            self._documents[path] = document
            found = last.get(path)
            if (
                found is not None
                and found[0] == document.options
                and ((changed is not None and path not in changed) or values.hold(found[1]))
            ):
                self._outputs[path], self._recorded[path] = found[2], found[1]
                if found[3] is not None:
                    self._payloads[path] = found[3]
                if changed is None and index is not None:
                    index.index(path, found[1])
                continue
            if self._later is not None:
                self._later.append(path)
                self._outputs[path] = Output(path, b"", ("*",), documents=self)
            elif not self._fresh(document) and not self._vouched(document):
                self._to_make.append(document)
        if sum(d.weight for d in self._to_make) >= PARALLEL_WEIGHT:
            self._background = submit(_made_in_worker, self._to_make, values)

    def _fresh(self, document: Document) -> bool:
        """Whether the last build's read index vouches for `document`'s entry."""
        path, entry, check = document.path, self._record.get(document.path), self._check
        if (
            entry is None
            or not check
            or not check.holds(path, entry.inputs, self.shared(document.options))
        ):
            return False
        make = partial(self._file_later, path)
        output = Output(path, entry.fingerprint, ("*",), make=make, inputs=entry.inputs)
        self._outputs[path], self._recorded[path] = output, None
        return True

    def _vouched(self, document: Document) -> bool:
        entry = self._record.get(document.path)
        reads = recorded_reads(entry.inputs) if entry is not None else None
        if entry is None or reads is None:
            return False
        value = self._values.value
        found = tuple((read, value(read)) for read in reads)
        shared = self.shared(document.options)
        if self._keys.reads_digest(shared, found) != recorded_digest(entry.inputs):
            return False
        make = partial(self._file_later, document.path)
        output = Output(document.path, entry.fingerprint, ("*",), make=make, inputs=entry.inputs)
        self._keep(document, found, output, None)
        return True

    def outputs(self) -> dict[str, Output]:
        """Every planned document's Output, by path (making the ones to make)."""
        made: list[_Made]
        if self._background is not None:
            value = self._values.value
            made = [
                (fingerprint, payload, tuple((read, value(read)) for read in reads))
                for fingerprint, payload, reads in self._background.result()
            ]
        else:  # (one by one: a document may embed one made before it)
            made = []
            for document in self._to_make:
                made.append(_made(document, self._values, self))
                self._recorded[document.path] = made[-1][2]
                if document.keep:
                    self._payloads[document.path] = made[-1][1]
        for document, (fingerprint, payload, recorded) in zip(self._to_make, made, strict=True):
            inputs = self._keys.reads_inputs(self.shared(document.options), recorded)
            if not document.keep:
                make = partial(self._file_later, document.path)
                output = Output(document.path, fingerprint, ("*",), make=make, inputs=inputs)
                self._keep(document, recorded, output, None)
                continue
            self._payloads[document.path] = payload
            if document.file is None:
                output = Output(document.path, fingerprint, ("*",), data=payload, inputs=inputs)
            else:
                make = partial(_file, document, payload)
                output = Output(document.path, fingerprint, ("*",), make=make, inputs=inputs)
                if self._store is not None:
                    self._store.add(fingerprint, payload)
            self._keep(document, recorded, output, payload)
        self._to_make, self._background = [], None
        return self._outputs

    def read_digests(self, recorded: Recorded) -> bytes:
        """The digests of what `recorded`'s reads gave (for the read index)."""
        return self._keys.read_digests(recorded)

    def inputs(self, document: Document, recorded: Recorded) -> bytes:
        """What the record keeps of what `document` read (as `outputs` records it)."""
        return self._keys.reads_inputs(self.shared(document.options), recorded)

    def sealed(self, found: Mapping[str, Seal]) -> dict[str, Output]:
        """The outputs of the documents planned `later`, with the fingerprint and
        inputs their batches found (by path), by path; what they read is asked
        of this plan's values (for a long-lived builder's next plan)."""
        done: dict[str, Output] = {}
        value = self._values.value
        for path in self._later or ():
            if path not in found:
                continue
            fingerprint, inputs, digests = found[path]
            reads = recorded_reads(inputs) or ()
            if self._check is not None:
                self._check.learn(reads, digests)
            recorded = tuple((read, value(read)) for read in reads)
            make = partial(self._file_later, path)
            output = Output(path, fingerprint, ("*",), make=make, inputs=inputs)
            self._keep(self._documents[path], recorded, output, None)
            done[path] = output
        self._later = []
        return done

    def embedded(self, path: str) -> tuple[bytes, Recorded]:
        """What the document at `path` made (made again if it is not at hand), and
        what it read."""
        document = self._documents[path]
        payload = self._payloads.get(path)
        if payload is None and document.file is not None and self._store is not None:
            payload = self._store.get(self._outputs[path].fingerprint)
        if payload is None:
            fingerprint, payload, _ = _made(document, self._values, self)
            if document.file is not None and self._store is not None:
                self._store.add(fingerprint, payload)
        if document.keep:
            self._payloads[path] = payload
        value = zlib.decompress(payload) if document.file is not None else payload
        recorded = self._recorded[path]
        if recorded is None:  # (found fresh: its reads answer as recorded)
            reads = recorded_reads(self._outputs[path].inputs) or ()
            recorded = self._recorded[path] = tuple((r, self._values.value(r)) for r in reads)
        return value, recorded

    def _file_later(self, path: str) -> bytes:
        """The file of a document the record vouched for, once it must be written."""
        value, _ = self.embedded(path)
        file = self._documents[path].file
        return value if file is None else file(value)

    def fingerprints(self, paths: Iterable[str]) -> set[bytes]:
        """The fingerprints of the documents at `paths` (what a store keeps)."""
        outputs = self._outputs
        return {outputs[path].fingerprint for path in paths}

    def _keep(
        self, document: Document, recorded: Recorded, output: Output, payload: bytes | None
    ) -> None:
        self._outputs[document.path], self._recorded[document.path] = output, recorded
        if self._check is not None:
            self._check.note(document.path, (read for read, _ in recorded))
        if self._memo is not None:
            self._memo.last[document.path] = (document.options, recorded, output, payload)
        if self._index is not None:
            self._index.index(document.path, recorded)

    def finish(self) -> None:
        """Forget the documents this plan did not have (a long-lived builder's)."""
        if self._memo is not None:
            last = self._memo.last
            for path in last.keys() - self._outputs.keys():
                del last[path]
