"""Values that go into the build cache encoded one at a time, as they are written.

A cold build of 10,000 stories stores about 11,500 parsed files and 10,500
federation objects: encoded all at once, their bytes were a second copy of
everything parsed and made (about 170 MB each for the objects' JSON), held
while the workers render (which forked with it in memory). `Encoded` gives the
cache's `put_*` methods the same mapping, each value encoded as it is read, so
only the row being written exists as bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

__all__ = ["Encoded"]

V = TypeVar("V")


class Encoded(Mapping[bytes, bytes], Generic[V]):
    """`values` (key -> value) with each value as `encode` makes it, made when read.
    A value `encode` refuses (raises one of `skip`) is left out, as if absent; `len`
    counts it all the same (the cache only asks whether there is anything)."""

    def __init__(
        self,
        values: Mapping[bytes, V],
        encode: Callable[[V], bytes],
        skip: tuple[type[Exception], ...] = (),
    ) -> None:
        self._values = values
        self._encode = encode
        self._skip = skip

    def __getitem__(self, key: bytes) -> bytes:
        try:
            return self._encode(self._values[key])
        except self._skip:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[bytes]:
        for key, _ in self._pairs():
            yield key

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> Iterator[tuple[bytes, bytes]]:  # type: ignore[override]
        return self._pairs()

    def _pairs(self) -> Iterator[tuple[bytes, bytes]]:
        for key, value in self._values.items():
            try:
                yield key, self._encode(value)
            except self._skip:
                continue
