"""A cold build's generated documents, made where its pages are rendered.

A build with no record plans its documents `later` (document_reads.Documents):
none is made while planning. `batches` groups them for the render workers
(build/render.py): an outbox page with the objects it shows, so that each
object is made once and embedded from there, and every other document alone,
the heaviest first. A worker makes a batch (`Batch.made`) and writes its files;
what each document read comes back as its inputs, and `Documents.sealed` puts
them into the outputs and the record.

Made in one forked worker instead, the 10,500 objects of a 10,000-story site
left the other core idle for 7 s while planning waited, and their JSON, sent
back and kept, took the build's peak memory from 265 to 470 MiB.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from commsite.build.document_reads import Document, Documents, make_document
from commsite.build.page_outputs import Seal
from commsite.render.pages.reads import Recorded

__all__ = ["Batch", "batches"]

# A document made in a batch: its path, its file, and its seal (page_outputs.Seal).
Made = tuple[str, bytes, Seal]


@dataclass(frozen=True, slots=True, eq=False)
class Batch:
    """Documents a render worker makes together (an outbox page after the objects
    it embeds)."""

    documents: tuple[Document, ...]
    owner: Documents

    def made(self) -> list[Made]:
        """Each document made, in order: its path, its file, its fingerprint and
        inputs (as `Documents.outputs` would record them)."""
        owner = self.owner
        at_hand = _InBatch(owner)
        found = []
        for document in self.documents:
            fingerprint, value, recorded = make_document(document, owner.values, at_hand)
            at_hand.made[document.path] = value, recorded
            file = value if document.file is None else document.file(value)
            sealed = fingerprint, owner.inputs(document, recorded), owner.read_digests(recorded)
            found.append((document.path, file, sealed))
        return found


def batches(owner: Documents, paths: Iterable[str]) -> list[Batch]:
    """The documents at `paths` (planned `later` by `owner`) in batches: an outbox
    page with the objects it embeds, any other alone; the heaviest first."""
    todo = dict.fromkeys(paths)
    documents = {path: owner.document_at(path) for path in todo}
    found: list[Batch] = []
    for path, document in documents.items():
        if document.embeds and path in todo:
            group = [documents[p] for p in document.embeds if p in todo]
            for member in (*group, document):
                del todo[member.path]
            found.append(Batch((*group, document), owner))
    alone = sorted((documents[path] for path in todo), key=lambda d: -d.weight)
    return found + [Batch((document,), owner) for document in alone]


class _InBatch:
    """What a batch's documents embed: what the batch made before, else made here
    (never from the store: a worker must not read the parent's cache)."""

    def __init__(self, owner: Documents) -> None:
        self.owner = owner
        self.made: dict[str, tuple[bytes, Recorded]] = {}

    def embedded(self, path: str) -> tuple[bytes, Recorded]:
        found = self.made.get(path)
        if found is None:
            document = self.owner.document_at(path)
            _, value, recorded = make_document(document, self.owner.values, self)
            found = self.made[path] = value, recorded
        return found
