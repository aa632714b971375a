"""What the last build's outputs read, kept beside its record, so that a build
in a new process finds the outputs an edit touched without looking at each one
(see "The engine" in docs/maintainers.md).

Each page or document that records its reads keeps them in its record entry
(pagekeys.reads_inputs) with a digest of the values they gave. Checking every
entry means decoding and digesting 24,000 of them at 10,000 stories, for an
edit that touched three. The index turns that around: each distinct read once,
with a digest of what it gave and the outputs that read it. A plan asks each
read of the new site; the outputs that read one whose digest differs are
`dirty`, and checked entry by entry as before; every other output whose shared
key is unchanged keeps its record entry as it is.

Only `commsite build`'s plans use and keep an index (a long-lived builder has
PageMemo's reverse index in memory), and it is only ever stored with the record
it describes: a record written without one drops the stored one
(BuildCache.update_record).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from commsite.build.document_queries import BUILD_QUERIES
from commsite.build.pagekeys import recorded_shared
from commsite.render.pages.reads import Read

__all__ = ["ReadCheck", "StoredIndex", "decode_index", "encode_index"]

_MARK = b"reads-index1\n"
_DIGEST = 20  # bytes (fingerprint.digest_parts)


class Readers(Mapping[Read, tuple[str, ...]]):
    """read -> the paths of the outputs that made it, as the stored form keeps
    them: each path once (`paths`), each read with the numbers of its readers
    (`numbers`). A read's paths are looked up when asked for: an edit asks for
    those of the few reads that changed, not for all 40,000 at 10,000 stories."""

    __slots__ = ("numbers", "paths")

    def __init__(self, paths: Sequence[str], numbers: dict[Read, list[int]]) -> None:
        self.paths = paths
        self.numbers = numbers

    @classmethod
    def of(cls, readers: Mapping[Read, Sequence[str]]) -> Readers:
        if isinstance(readers, Readers):
            return readers
        number: dict[str, int] = {}
        numbers = {
            read: [number.setdefault(p, len(number)) for p in paths]
            for read, paths in readers.items()
        }
        return cls(list(number), numbers)

    def __getitem__(self, read: Read) -> tuple[str, ...]:
        paths = self.paths
        return tuple([paths[i] for i in self.numbers[read]])

    def __iter__(self) -> Iterator[Read]:
        return iter(self.numbers)

    def __len__(self) -> int:
        return len(self.numbers)


@dataclass(frozen=True, slots=True)
class StoredIndex:
    """Each read the outputs of a build made: the digest of what it gave, and the
    paths of the outputs that made it."""

    digests: dict[Read, bytes]
    readers: Mapping[Read, Sequence[str]]
    # The stored form it was read from, after the checksum (for `ReadCheck.stored`).
    body: bytes = field(default=b"", compare=False)


def encode_index(index: StoredIndex) -> bytes:
    """The stored form: a checksum, JSON of the paths and of each read with the
    numbers of its readers, then the digests in the reads' order."""
    readers = Readers.of(index.readers)
    reads = [[query, argument, numbers] for (query, argument), numbers in readers.numbers.items()]
    head = json.dumps([readers.paths, reads], separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )
    body = b"%d\n%b%b" % (len(head), head, b"".join(index.digests[r] for r in index.readers))
    return _MARK + b"%08x" % zlib.crc32(body) + body


def decode_index(blob: object) -> StoredIndex | None:
    """The index `encode_index` stored, or None for anything else (the cache is
    data anyone may have written: each read must name a known query)."""
    if type(blob) is not bytes or not blob.startswith(_MARK):
        return None
    start = len(_MARK) + 8
    body = blob[start:]
    if blob[len(_MARK) : start] != b"%08x" % zlib.crc32(body):
        return None
    size, newline, rest = body.partition(b"\n")
    if not newline or not size.isdigit() or int(size) > len(rest):
        return None
    try:
        paths, reads = json.loads(rest[: int(size)].decode("utf-8", "surrogatepass"))
    except ValueError:
        return None
    digests = rest[int(size) :]
    if type(paths) is not list or type(reads) is not list or len(digests) != _DIGEST * len(reads):
        return None
    if not all(type(p) is str for p in paths):
        return None
    found: dict[Read, bytes] = {}
    numbers: dict[Read, list[int]] = {}
    every: list[int] = []  # (each reader's number, checked at once below)
    for n, item in enumerate(reads):
        if type(item) is not list or len(item) != 3:
            return None
        query, argument, readers = item
        if type(query) is not str or type(argument) is not str or query not in BUILD_QUERIES:
            return None
        if type(readers) is not list:
            return None
        read = (query, argument)
        if read in found:  # (each read once: its digest's place is its number)
            return None
        found[read] = digests[_DIGEST * n : _DIGEST * (n + 1)]
        numbers[read] = readers
        every += readers
    if every and (not set(map(type, every)) <= {int} or min(every) < 0 or max(every) >= len(paths)):
        return None
    return StoredIndex(found, Readers(paths, numbers), body)


class ReadCheck:
    """One plan's use of the last build's index (`last`): which outputs may read
    something else now (`dirty`), and the reads of the outputs checked the long
    way (`note`), for the index stored with the next record (`next_index`)."""

    def __init__(self, last: StoredIndex | None) -> None:
        self.last = last
        # None: no index (or not begun): every output is checked the long way.
        self.dirty: set[str] | None = None
        self._digest: Callable[[Read], bytes] | None = None
        self._now: dict[Read, bytes] = {}
        self._noted: dict[str, tuple[Read, ...]] = {}

    def begin(self, digest: Callable[[Read], bytes]) -> None:
        """Ask each read of the index of this plan's site (`digest`: the digest of
        what a read gives now) and find the outputs that made one that differs."""
        self._digest = digest
        if self.last is None:
            return
        dirty: set[str] = set()
        now = self._now
        readers = self.last.readers
        for read, then in self.last.digests.items():
            found = now[read] = digest(read)
            if found != then:
                dirty.update(readers[read])
        self.dirty = dirty

    def holds(self, path: str, inputs: bytes, shared: bytes) -> bool:
        """Whether the record entry's `inputs` hold for the output at `path`: it
        read nothing that answers otherwise now, under the same shared key."""
        dirty = self.dirty
        return dirty is not None and path not in dirty and recorded_shared(inputs) == shared

    def learn(self, reads: Sequence[Read], digests: bytes) -> None:
        """The digests of what `reads` gave, found where they were read (a cold
        build's workers), so that the index need not make them again."""
        if len(digests) == _DIGEST * len(reads):
            now = self._now
            for n, read in enumerate(reads):
                now.setdefault(read, digests[_DIGEST * n : _DIGEST * (n + 1)])

    def note(self, path: str, reads: Iterable[Read]) -> None:
        """What the output at `path`, checked the long way, read this plan."""
        self._noted[path] = tuple(reads)

    def stored(self, recording: Collection[str]) -> bytes | None:
        """The stored form of `next_index`: when the outputs checked again read
        what they read before and none is gone (an edit of a story's body), the
        last index with the digests of the reads that changed written over."""
        recording = set(recording)
        last = self.last
        if not self._complete(recording):
            return None
        if last is None or not last.body or not self._same_readers(recording):
            return encode_index(self._next(recording))
        body = bytearray(last.body)
        at = len(body) - _DIGEST * len(last.digests)
        now = self._now
        for n, (read, then) in enumerate(last.digests.items()):
            if now[read] != then:
                body[at + _DIGEST * n : at + _DIGEST * (n + 1)] = now[read]
        return _MARK + b"%08x" % zlib.crc32(body) + body

    def _complete(self, recording: Collection[str]) -> bool:
        """Whether every output that records its reads was found fresh or noted."""
        noted, dirty = self._noted, self.dirty
        return self._digest is not None and not any(
            p not in noted and (dirty is None or p in dirty) for p in recording
        )

    def _same_readers(self, recording: Collection[str]) -> bool:
        """Whether the last index's readers still hold: no output in it is gone, and
        each output noted read exactly what the index has it read."""
        assert self.last is not None
        noted = self._noted
        readers = Readers.of(self.last.readers)
        paths = readers.paths
        if not all(p in noted or p in recording for p in paths):
            return False
        at = {n: p for n, p in enumerate(paths) if p in noted}
        before: dict[str, set[Read]] = {path: set() for path in noted}
        mine = at.keys()
        for read, numbers in readers.numbers.items():
            if not mine.isdisjoint(numbers):
                for n in numbers:
                    if n in at:
                        before[at[n]].add(read)
        return all(before[path] == set(reads) for path, reads in noted.items())

    def next_index(self, recording: Collection[str]) -> StoredIndex | None:
        """The index of this plan's outputs; `recording`: the paths of those whose
        inputs record reads. None when one of them was neither checked the long
        way nor found fresh (a plan that did not begin, say)."""
        recording = set(recording)
        return self._next(recording) if self._complete(recording) else None

    def _next(self, recording: Collection[str]) -> StoredIndex:
        """`next_index`, once `_complete` holds."""
        digest, noted = self._digest, self._noted
        assert digest is not None  # (_complete: begun)
        readers: dict[Read, list[str]] = {}
        if self.last is not None:
            for read, paths in self.last.readers.items():
                kept = [p for p in paths if p not in noted and p in recording]
                if kept:
                    readers[read] = kept
        for path, reads in noted.items():
            if path in recording:
                for read in reads:
                    readers.setdefault(read, []).append(path)
        now = self._now
        digests = {read: now.get(read) or digest(read) for read in readers}
        return StoredIndex(digests, {read: tuple(paths) for read, paths in readers.items()})
