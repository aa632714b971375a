"""The build record's rows: one per output file, checked as they are read.

The record may come from a cache anyone wrote: a row whose check does not hold,
a column of another type, a path outside the output or the same path twice
make the whole record a miss (a full build), never a wrong skip.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from commsite.build.output import FileState

__all__ = ["RecordEntry", "decode_record", "decode_states", "record_rows"]


@dataclass(frozen=True, slots=True)
class RecordEntry:
    fingerprint: bytes
    state: FileState
    sources: tuple[str, ...]
    # A digest of what a page is made from (build.pagekeys), when it has one: equal
    # inputs mean the same context, so the fingerprint can be taken from here.
    inputs: bytes = b""


def decode_record(rows: Sequence[Any]) -> dict[str, RecordEntry] | str:
    """The record from its rows (path, fingerprint, digest, size, mtime_ns,
    sources, inputs, path_check), or what is damaged."""
    record: dict[str, RecordEntry] = {}
    crc32 = zlib.crc32
    try:
        for path, fingerprint, digest, size, mtime_ns, sources, inputs, check in rows:
            # Documents are vouched for by their entries' inputs and paths, and a
            # removed output is deleted by its path: a damaged one must not pass
            # (a damaged fingerprint, digest, size or time is a miss as it is).
            if crc32(inputs, crc32(path.encode("utf-8", "surrogatepass"))) != check:
                raise ValueError(path)
            if _outside(path):
                return "a recorded output outside the output folder"
            record[path] = RecordEntry(
                fingerprint,
                FileState(digest, size, mtime_ns),
                tuple(sources.split("\n")) if sources else (),
                inputs,
            )
    except (TypeError, AttributeError, ValueError):  # (a column of another type)
        # One bad row and the record is not to be trusted: a full build.
        return "a damaged row in the build record"
    if len(record) != len(rows):  # the same path twice: its index is damaged
        return "an output twice in the build record"
    return record


def decode_states(rows: list[Any]) -> list[tuple[str, int, int]] | None:
    """The rows (path, size, mtime_ns) of the record's outputs, or None when one is
    not such (paths checked as `decode_record` checks them: the no-change check
    looks at these on disk)."""
    for path, size, mtime_ns in rows:
        if type(path) is not str or type(size) is not int or type(mtime_ns) is not int:
            return None
        if _outside(path):
            return None
    return rows if len({row[0] for row in rows}) == len(rows) else None


def record_rows(output: str, changed: Mapping[str, RecordEntry]) -> list[tuple[object, ...]]:
    """The rows to store for `changed` outputs of the build into `output`."""
    return [
        (
            output,
            path,
            e.fingerprint,
            e.state.digest,
            e.state.size,
            e.state.mtime_ns,
            "\n".join(e.sources),
            e.inputs,
            _row_check(path, e.inputs),
        )
        for path, e in changed.items()
    ]


def _row_check(path: str, inputs: bytes) -> int:
    return zlib.crc32(inputs, zlib.crc32(path.encode("utf-8", "surrogatepass")))


def _outside(path: str) -> bool:
    """Whether a recorded output path leaves the output folder (cheap string tests
    first: '.well-known/...' and the like are few)."""
    return (path[:1] in "./" or "/." in path or "//" in path or "\0" in path) and not (
        _inside(path)
    )


def _inside(path: str) -> bool:
    """Whether a recorded output path stays inside the output: relative, without
    '.' or '..' parts or empty ones (a removed output is deleted by this path)."""
    marked = f"/{path}/"
    return bool(path) and not (
        path[0] == "/" or "/../" in marked or "/./" in marked or "//" in marked or "\0" in path
    )
