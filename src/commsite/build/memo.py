"""What a long-lived Builder keeps from one build to the next, besides the parsed
files: the model objects (AssembleMemo), the pages' specs with the reads each
recorded (PageMemo), their outputs, the generated documents with their reads
(DocumentMemo), and the digests of the last plan (KeyDigests). An output is
kept while what it read answers as it did; after a one-story edit on a
10,000-story site only the reads whose source changed are asked again, and only
the outputs that read the story are made and digested.

A fresh process (`commsite build`) starts with empty memos and gains nothing
from them; the build record in the cache on disk serves it instead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast

from commsite.activitypub.poll import PollMemo
from commsite.build.document_queries import BUILD_QUERIES
from commsite.build.pagekeys import KeyDigests
from commsite.content.loader import AssembleMemo
from commsite.images.wanted import BodyImages
from commsite.render.pages import PageMemo

if TYPE_CHECKING:
    from commsite.build.document_reads import Document
    from commsite.build.page_outputs import Output
    from commsite.render.pages.reads import Recorded

__all__ = ["BuildMemo", "DocumentMemo"]

T = TypeVar("T")


@dataclass(slots=True)
class DocumentMemo:
    """A long-lived builder's generated documents of the last plan (see
    document_reads.py): path -> (its options, its reads with their values, its
    Output, what it made if at hand), for the config `config`."""

    config: object = None
    last: dict[str, tuple[tuple[str, ...], Recorded, Output, bytes | None]] = field(
        default_factory=dict
    )


@dataclass(slots=True)
class BuildMemo:
    assemble: AssembleMemo = field(default_factory=AssembleMemo)
    pages: PageMemo = field(default_factory=lambda: PageMemo(BUILD_QUERIES))
    # id(PageSpec) -> (the spec, its template digest, its Output in build.plan)
    outputs: dict[int, tuple[object, bytes, object]] = field(default_factory=dict)
    # what else was made from the whole site, by name: (what from, the result)
    made: dict[str, tuple[tuple[object, ...], object]] = field(default_factory=dict)
    # the generated documents that record their reads (build/document_reads.py)
    documents: DocumentMemo = field(default_factory=DocumentMemo)
    keys: KeyDigests | None = None  # the last plan's key digests (see KeyDigests)
    polls: PollMemo = field(default_factory=PollMemo)  # (activitypub/poll.py)
    # the federation object documents by path (build/objects.py)
    objects: dict[str, Document] = field(default_factory=dict)
    # the images each body shows (images/wanted.py)
    body_images: BodyImages = field(default_factory=BodyImages)

    def get(self, name: str, key: tuple[object, ...], make: Callable[[], T]) -> T:
        """What `name` was made from `key` last time, if the key is equal (model
        objects compare by identity first, so equal keys are cheap to tell), else
        made now and kept."""
        found = self.made.get(name)
        if found is not None and found[0] == key:
            return cast(T, found[1])
        value = make()
        self.made[name] = (key, value)
        return value
