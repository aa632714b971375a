"""Federation objects' JSON, made only for the object documents and outbox pages
a build writes.

Each story's or event's `ObjectJson` is a pure function of the item and the
site's config (and commsite's code; an event's also of its RSVP counts), so its
key, a digest of the code, the config and the item (its file's parse key and
future flag, or every field; an event's counts), stands for its bytes: it is
the object document's fingerprint, and outbox pages are fingerprinted by their
items' keys.
Only outputs whose fingerprint changed need JSON; it comes from memory (a
long-lived Builder), from the build cache, or is made.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import fields

from commsite.activitypub.documents import ObjectJson, object_json
from commsite.activitypub.event_rsvp import rsvp_fields
from commsite.build.cache import BuildCache
from commsite.build.encoded import Encoded
from commsite.build.fingerprint import code_fingerprint, digest_bytes, digest_parts
from commsite.content.model import Event, Site, Story

__all__ = ["ObjectStore", "item_digest"]

Item = Story | Event
_SEPARATOR = "\n"  # compact JSON never holds a raw newline
_FIELDS = {kind: tuple(f.name for f in fields(kind)) for kind in (Story, Event)}


def item_digest(config_digest: bytes, item: Item) -> bytes:
    """A digest of the code, the config and every field of `item` (strings by their
    bytes, which is cheaper than repr for bodies; other values by repr)."""
    parts: list[bytes] = [code_fingerprint(), config_digest, type(item).__name__.encode()]
    for name in _FIELDS[type(item)]:
        value = getattr(item, name)
        if type(value) is str:
            parts.append(b"s" + value.encode("utf-8", "surrogatepass"))
        else:
            parts.append(b"r" + repr(value).encode("utf-8", "surrogatepass"))
    return digest_bytes(*parts)


def packed(o: ObjectJson) -> bytes:
    """`o` as the store keeps it in memory: its two pieces, compressed. An object
    document is about 17 KB (the body's HTML twice: content and contentMap);
    10,500 of them at 10,000 stories, held by the build and by every render
    worker it forks, were 170 MB, compressed about 35 MB. A background worker
    makes and packs most of them, and sends back a fifth of the bytes. The build
    cache stores them plain (`_plain`): it holds data to read, checked on reading."""
    return zlib.compress(_encode(o), 1)


def made_packed(site: Site, items: list[Item]) -> list[bytes]:
    """The objects of `items`, packed (what a background worker sends back)."""
    return [packed(object_json(site, item)) for item in items]


def _plain(blob: bytes) -> bytes:
    """What `packed` made, as the build cache stores it (`_encode`)."""
    return zlib.decompress(blob)


def _unpacked(blob: bytes) -> ObjectJson:
    body, _, head = _plain(blob).decode("utf-8", "surrogatepass").partition(_SEPARATOR)
    return ObjectJson(body, head)


def _encode(o: ObjectJson) -> bytes:
    return f"{o.body}{_SEPARATOR}{o.create_head}".encode("utf-8", "surrogatepass")


def _decode(blob: bytes) -> ObjectJson | None:
    """The ObjectJson `_encode` wrote, or None when `blob` is not one."""
    try:
        body, newline, head = blob.decode("utf-8", "surrogatepass").partition(_SEPARATOR)
    except UnicodeDecodeError:
        return None
    try:  # (a build reads only the objects of the items that changed: few)
        whole = json.loads(body), json.loads(head + ',"object":null}')
    except ValueError:
        return None
    if not newline or not all(type(part) is dict for part in whole):
        return None
    return ObjectJson(body, head)


class ObjectStore:
    """Items' keys and JSON for one Builder: `start` a build, ask, then `finish`."""

    def __init__(self) -> None:
        self._config: object = None
        self.config_digest = b""
        # Items' keys by identity (the item is kept, so its id is not reused): the
        # last build's, and this build's. A long-lived builder gets the same model
        # object for an unchanged file (content.assemble_memo.AssembleMemo).
        # (the item, its key, its RSVP fields: an event's key changes with them)
        self._keys: dict[int, tuple[Item, bytes, bytes]] = {}
        self._next_keys: dict[int, tuple[Item, bytes, bytes]] = {}
        self._json: dict[bytes, bytes] = {}  # by key, packed (see `packed`)
        self._new: dict[bytes, bytes] = {}  # made this build, for the cache
        self._unsaved: dict[bytes, bytes] = {}  # for `save`
        self._live: frozenset[bytes] = frozenset()
        self._site: Site | None = None
        self._cache: BuildCache | None = None
        self._parse_keys: Mapping[str, bytes] = {}

    def start(
        self, site: Site, cache: BuildCache | None, parse_keys: Mapping[str, bytes] | None = None
    ) -> None:
        """Begin a build. `parse_keys` (content file -> parse cache key): an item's
        key is then made from its file's parse key, which stands for every field
        of it (cheaper than digesting the fields, see build/pagekeys.py)."""
        self._parse_keys = parse_keys or {}
        if self._config != site.config:
            self._config = site.config
            self.config_digest = digest_bytes(
                code_fingerprint(), repr(site.config).encode("utf-8", "surrogatepass")
            )
            self._keys, self._json = {}, {}
        self._next_keys, self._new = {}, {}
        self._site, self._cache = site, cache

    def key(self, item: Item) -> bytes:
        known = self._next_keys.get(id(item))
        if known is not None:
            return known[1]
        # An Event's object also carries its RSVP counts (activitypub/event_rsvp.py).
        answers = b""
        if type(item) is Event and self._site is not None:
            answers = repr(rsvp_fields(self._site, item)).encode()
        last = self._keys.get(id(item))
        if last is not None and last[0] is item and last[2] == answers:
            found = last[1]
        else:
            parse_key = self._parse_keys.get(item.source)
            if parse_key is None:
                found = item_digest(self.config_digest, item)
                if answers:
                    found = digest_bytes(found, answers)
            else:  # (the parse key stands for the file; a story may be marked future)
                future = b"future" if type(item) is Story and item.future else b""
                found = digest_parts(self.config_digest, parse_key, future, answers)
        self._next_keys[id(item)] = (item, found, answers)
        return found

    def missing(self, items: Iterable[Item]) -> list[Item]:
        """Of `items`, those whose JSON is neither in memory nor in the cache (loading
        the ones in the cache)."""
        wanted = {self.key(i): i for i in items}
        wanted = {k: i for k, i in wanted.items() if k not in self._json}
        if self._cache is not None and wanted:
            for key, blob in self._cache.get_made(wanted).items():
                made = _decode(blob)
                if made is None:
                    self._cache.note_damage("a federation object that does not read")
                    continue
                self._json[key] = packed(made)
                del wanted[key]
        return list(wanted.values())

    def add(self, item: Item, made: ObjectJson | bytes) -> None:
        """Keep `item`'s object (or the bytes `packed` made of it)."""
        key = self.key(item)
        self._json[key] = self._new[key] = made if isinstance(made, bytes) else packed(made)

    def json(self, item: Item) -> ObjectJson:
        key = self.key(item)
        found = self._json.get(key)
        if found is None:
            if self.missing([item]):
                assert self._site is not None
                self.add(item, object_json(self._site, item))
            found = self._json[key]
        return _unpacked(found)

    def finish(self) -> None:
        """Keep this build's items' keys and JSON; what was made goes into the cache
        on `save`."""
        self._keys = self._next_keys
        keys = frozenset(key for _, key, _ in self._keys.values())
        self._json = {k: v for k, v in self._json.items() if k in keys}
        if self._cache is not None:
            self._unsaved.update(self._new)
            self._live = keys
        self._new = {}  # (site and cache stay: an output found missing on disk is made later)

    def save_all(self) -> None:
        """Store the JSON of this build's items (into a cache started afresh)."""
        self._unsaved.update(self._json)
        self.save()

    def save(self) -> None:
        """Store the JSON made since the last save in the cache (a build does it while
        its workers render)."""
        if self._cache is not None and self._unsaved:
            live = self._live
            plain = Encoded(self._unsaved, _plain)  # (one at a time, as SQLite stores them)
            self._cache.put_made(plain, len(live), lambda: live)
        self._unsaved = {}
