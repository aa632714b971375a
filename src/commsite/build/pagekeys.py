"""Digests of what pages and generated documents read and of the few keys still
written by hand, as bytes a later process can compare (see "The engine" in docs/maintainers.md).

Within one process values compare by identity; across processes they are
digested here. A Story, Member or Event stands as its file's parse key (which
covers the file's bytes and path and commsite's code) and, for a story,
whether it is marked future; a string as its bytes; a tuple as its length and
elements; anything else (views such as the chrome) by its repr, which the
render package keeps deterministic. The build record keeps each recording
page's digest and reads; a later build whose digest comes out equal takes the
page's fingerprint from the record instead of making its context.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Mapping

from commsite.build.document_queries import BUILD_QUERIES
from commsite.build.fingerprint import digest_bytes, digest_parts
from commsite.content.model import Event, Member, Story
from commsite.render.pages.reads import Read, Recorded

__all__ = ["KeyDigests", "recorded_digest", "recorded_reads", "recorded_shared"]

# A page that records its reads (render/pages/reads.py) keeps them in the record:
# this mark, the digest of the shared key, the digest of it and of the values
# read, then the reads.
_READS = b"reads2:"
_SHARED_AT = len(_READS) + 20  # (digest_bytes makes 20 bytes)
_READS_AT = _SHARED_AT + 20

# A read's value laid out in more parts than this is digested (once per plan).
_INLINE = 8


class KeyDigests:
    """Digests of keys made in one plan; `parse_keys`: content file path -> its
    parse cache key. Parts shared by many keys (the config and members in every
    key, a story listed on many pages) are digested once."""

    def __init__(
        self, parse_keys: Mapping[str, bytes], code: bytes, last: KeyDigests | None = None
    ) -> None:
        self._parse_keys = parse_keys
        self._code = code
        # id -> (the value, kept so that its id is not reused, its digest)
        self._known: dict[int, tuple[object, bytes]] = {}
        # The last plan's digests (a long-lived builder's), given again for the same
        # immutable values: the members (1,000 of them) are in the feeds' key, the
        # ~1,200 stories of a tag in its page's key. Only what this plan uses is
        # kept for the next one. (An item that is the same object has the same
        # parse key: a changed file is parsed into a new object.)
        self._last: dict[int, tuple[object, bytes]] = {}
        if last is not None and last._code == code:
            self._last = last._known
        # read -> (the value it gave this plan, what stands for it: _value_parts)
        self._reads: dict[Read, tuple[object, list[bytes]]] = {}

    def digest(self, key: tuple[object, ...], template: bytes) -> bytes:
        """The digest of a page's key under the digest of its template files."""
        return digest_parts(b"page-key", self._code, template, *map(self._part, key))

    def reads_inputs(self, shared: bytes, recorded: Recorded) -> bytes:
        """A recording page's inputs for the record: `shared` (the digest of the
        shared key and the templates), the values it read and which reads they were."""
        names = json.dumps([list(read) for read, _ in recorded], separators=(",", ":"))
        digest = self.reads_digest(shared, recorded)
        return _READS + shared + digest + names.encode("utf-8", "surrogatepass")

    def reads_digest(self, shared: bytes, recorded: Recorded) -> bytes:
        """The digest part of `reads_inputs` (what `recorded_digest` takes from a record)."""
        parts: list[bytes] = [b"reads", shared]
        value_parts = self._value_parts
        for read, value in recorded:
            parts += value_parts(read, value)
        return digest_parts(*parts)

    def read_digest(self, read: Read, value: object) -> bytes:
        """A digest of the value `read` gave (what build/read_index.py keeps): of a
        story, event or member, its file's parse key (a third of all reads); of
        plain data (strings, numbers, None, tuples of them: most other reads, such
        as a story's neighbours), its bytes as marshal's first format writes them,
        which depend on the value alone (no references, no interning marks), made
        in C; of anything else, its laid-out parts."""
        item = self._item(value)
        if item is not None:
            return digest_bytes(b"item", item)
        try:
            plain = marshal.dumps(value, 0)  # type: ignore[arg-type]  # (ValueError if not)
        except ValueError:  # (holds a model object or a view)
            return digest_parts(b"read", *self._value_parts(read, value))
        return digest_bytes(b"plain", plain)

    def read_digests(self, recorded: Recorded) -> bytes:
        """`read_digest` of each read, in order (a cold build's workers send them)."""
        return b"".join([self.read_digest(read, value) for read, value in recorded])

    def _value_parts(self, read: Read, value: object) -> list[bytes]:
        """What stands for the value a read gave, as parts of a page's digest: the
        value laid out flat (a model object by its file's parse key, nothing
        digested), or, when that is long, its digest. Each distinct read is laid
        out once per plan (ReadValues answers it once)."""
        found = self._reads.get(read)
        if found is None or found[0] is not value:
            parts: list[bytes] = []
            self._lay_out(value, parts)
            if len(parts) > _INLINE:
                parts = [digest_parts(b"long", *parts)]
            found = self._reads[read] = (value, parts)
        return found[1]

    def _lay_out(self, value: object, parts: list[bytes]) -> None:
        kind = type(value)
        if kind is str:
            assert isinstance(value, str)
            parts.append(b"s" + value.encode("utf-8", "surrogatepass"))
        elif value is None:
            parts.append(b"n")
        elif kind is tuple:
            assert isinstance(value, tuple)
            parts.append(b"(%d" % len(value))
            for part in value:
                self._lay_out(part, parts)
        else:
            item = self._item(value)
            parts.append(item if item is not None else self._part(value))

    def _part(self, value: object) -> bytes:
        kind = type(value)
        if value is None or kind is bool or kind is int or kind is str:
            return b"v" + repr(value).encode("utf-8", "surrogatepass")
        found = self._known.get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        found = self._last.get(id(value))
        if found is not None and found[0] is value and _immutable(value):
            self._known[id(value)] = found
            return found[1]
        if kind is tuple:
            assert isinstance(value, tuple)
            digest = digest_parts(b"t", *map(self._part, value))
        else:
            digest = self._item(value) or digest_bytes(
                b"r", kind.__name__.encode(), repr(value).encode("utf-8", "surrogatepass")
            )
        self._known[id(value)] = (value, digest)
        return digest

    def _item(self, value: object) -> bytes | None:
        kind = type(value)
        if kind is Story:
            assert isinstance(value, Story)
            key = self._parse_keys.get(value.source)
            return None if key is None else (b"iSF" if value.future else b"iS:") + key
        if kind is Event or kind is Member:
            assert isinstance(value, (Event, Member))
            key = self._parse_keys.get(value.source)
            return None if key is None else (b"iE:" if kind is Event else b"iM:") + key
        return None


def _immutable(value: object) -> bool:
    """A tuple of immutable values, a frozen dataclass (its fields are set once), or
    a plain value: what a digest made last plan still describes."""
    if type(value) is tuple:
        return all(map(_immutable, value))
    params = getattr(type(value), "__dataclass_params__", None)
    if params is not None:
        return bool(params.frozen)
    return isinstance(value, (str, bytes, int, float, bool, type(None)))


def recorded_digest(inputs: bytes) -> bytes:
    """The digest part of a recording page's inputs (see reads_inputs)."""
    return inputs[_SHARED_AT:_READS_AT]


def recorded_shared(inputs: bytes) -> bytes | None:
    """The digest of the shared key in a recording page's inputs, or None when
    they are not such inputs."""
    if not inputs.startswith(_READS) or len(inputs) < _READS_AT:
        return None
    return inputs[len(_READS) : _SHARED_AT]


def recorded_reads(inputs: bytes) -> tuple[Read, ...] | None:
    """The reads a recording page's inputs name (see reads_inputs), or None when
    they are not such inputs or not well formed (the record is data from a cache
    anyone may have written: a read must name a known query)."""
    if not inputs.startswith(_READS) or len(inputs) < _READS_AT:
        return None
    try:
        data = json.loads(inputs[_READS_AT:].decode("utf-8", "surrogatepass"))
    except ValueError:
        return None
    if type(data) is not list:
        return None
    try:
        reads = tuple((query, argument) for query, argument in data)
    except (TypeError, ValueError):  # (not pairs)
        return None
    if all(type(q) is str and type(a) is str and q in BUILD_QUERIES for q, a in reads):
        return reads
    return None
