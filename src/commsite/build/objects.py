"""The federation object documents and outbox pages, as documents that record
what they read (build/document_reads.py), and the store of the objects' JSON.

An object document reads its story or event (`reads.story`, `reads.event`)
and, for an event, its answering fields (`reads.rsvp`); an outbox page reads
its items (`reads.outbox_page`) and embeds each item's object document, whose
reads count as its own (`reads.document`). So a body edit remakes that
story's object and the one outbox page that shows it, nothing else.

What an object document makes is its `ObjectJson` (the object and its Create
activity as compact JSON, `encode`), from which its file and the outbox pages
are assembled without serialising it again. The `ObjectStore` keeps these,
packed, by their digest (the document's fingerprint): in memory for a
long-lived builder (an object is about 17 KB, the body's HTML twice; 10,500 of
them packed are about 35 MB) and in the build cache for the next process. A
cold build with workers makes its objects there and keeps none: sending
and storing 10,500 objects' JSON cost it more than making an outbox page's
other objects again costs the first edit after it (which stores them).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from functools import partial

from commsite import urls
from commsite.activitypub.documents import FederationPlan, ObjectJson, object_json, outbox_json
from commsite.build.cache import BuildCache
from commsite.build.document_queries import DocumentReads
from commsite.build.document_reads import Document
from commsite.build.encoded import Encoded
from commsite.content.model import Event, Story

__all__ = ["ObjectStore", "federation_documents", "federation_object", "outbox_page"]

_SEPARATOR = "\n"  # compact JSON never holds a raw newline


def federation_object(kind: str, slug: str, reads: DocumentReads) -> bytes:
    """A story's or an event's object, `encode`d."""
    if kind == "story":
        story = reads.story(slug)
        assert story is not None, slug
        return encode(object_json(reads.site, story))
    return encode(object_json(reads.site, reads.event(slug), reads.rsvp(slug)))


def outbox_page(number: int, reads: DocumentReads) -> bytes:
    """Page `number` of the outbox, assembled from its items' object documents."""
    pages, items = reads.outbox_page(number)
    shown = [_decoded(reads.document(object_path(item))) for item in items]
    return outbox_json(reads.site, number, pages, shown)


def object_path(item: Story | Event) -> str:
    return urls.story_object(item.slug) if type(item) is Story else urls.event_object(item.slug)


def federation_documents(
    plan: FederationPlan, kept: dict[str, Document] | None = None
) -> tuple[list[Document], list[Document]]:
    """The object documents, and the outbox pages (to plan once the objects are).
    `kept`: the last plan's object documents by path (a long-lived builder's):
    an object document is a function of its path, so it is kept, and updated."""
    last = kept if kept is not None else {}
    objects = [last.get(path) or _object_document(path, item) for path, item in plan.objects]
    if kept is not None:
        kept.clear()
        kept.update((document.path, document) for document in objects)
    pages = [
        Document(
            page.path,
            partial(_run, "outbox_page", page.number),
            keep=False,
            embeds=tuple(object_path(item) for item in page.items),
        )
        for page in plan.outbox_pages
    ]
    return objects, pages


def _object_document(path: str, item: Story | Event) -> Document:
    make = partial(_run, "federation_object", _kind(item), item.slug)
    return Document(path, make, weight=1, file=_file)


def _kind(item: Story | Event) -> str:
    return "story" if type(item) is Story else "event"


def _run(name: str, *arguments: object) -> bytes:
    """Call the function `name` of this module, looked up when called (so that a
    test, or a maintainer's edit, that replaces it is what runs)."""
    made: bytes = globals()[name](*arguments)
    return made


def encode(o: ObjectJson) -> bytes:
    return f"{o.body}{_SEPARATOR}{o.create_head}".encode("utf-8", "surrogatepass")


def _decoded(value: bytes) -> ObjectJson:
    body, _, head = value.decode("utf-8", "surrogatepass").partition(_SEPARATOR)
    return ObjectJson(body, head)


def _file(value: bytes) -> bytes:
    """An object document's file, from what `federation_object` made."""
    return _decoded(value).document()


def _valid(blob: bytes) -> bool:
    """Whether `blob` is what `encode` wrote (the cache is data anyone may have
    written; a build reads only the objects of the items that changed: few)."""
    try:
        body, newline, head = blob.decode("utf-8", "surrogatepass").partition(_SEPARATOR)
        whole = json.loads(body), json.loads(head + ',"object":null}')
    except (UnicodeDecodeError, ValueError):
        return False
    return bool(newline) and all(type(part) is dict for part in whole)


class ObjectStore:
    """The objects' JSON for one Builder, packed, by digest: `start` a build, `get`
    and `add`, then `finish` with the digests in use."""

    def __init__(self) -> None:
        self._packed: dict[bytes, bytes] = {}
        self._new: dict[bytes, bytes] = {}  # added since the last `finish`
        self._unsaved: dict[bytes, bytes] = {}  # for `save`
        self._live: frozenset[bytes] = frozenset()
        self._cache: BuildCache | None = None

    def start(self, cache: BuildCache | None) -> None:
        self._cache = cache

    def get(self, fingerprint: bytes) -> bytes | None:
        found = self._packed.get(fingerprint)
        if found is None and self._cache is not None:
            blob = self._cache.get_made([fingerprint]).get(fingerprint)
            if blob is not None and not _valid(blob):
                self._cache.note_damage("a federation object that does not read")
            elif blob is not None:
                found = self._packed[fingerprint] = zlib.compress(blob, 1)
        return found

    def add(self, fingerprint: bytes, packed: bytes) -> None:
        self._packed[fingerprint] = self._new[fingerprint] = packed

    def finish(self, live: Iterable[bytes]) -> None:
        """Keep the JSON of the objects in use (`live`); what was made goes into the
        cache on `save`."""
        self._live = frozenset(live)
        self._packed = {k: v for k, v in self._packed.items() if k in self._live}
        if self._cache is not None:
            self._unsaved.update(self._new)
        self._new = {}

    def save_all(self) -> None:
        """Store the JSON of this build's objects (into a cache started afresh)."""
        self._unsaved.update(self._packed)
        self.save()

    def save(self) -> None:
        """Store the JSON made since the last save in the cache (a build does it while
        its workers render)."""
        if self._cache is not None and self._unsaved:
            live = self._live
            plain = Encoded(self._unsaved, zlib.decompress)  # (stored plain, one at a time)
            self._cache.put_made(plain, len(live), lambda: live)
        self._unsaved = {}
