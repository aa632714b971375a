"""The build record against the plan: which outputs to make, which entries to
renew, and the record's file states as the output commit reads them."""

from __future__ import annotations

import os
from collections.abc import Iterator, KeysView, Mapping
from dataclasses import replace
from pathlib import Path

from commsite.build.cache import RecordEntry
from commsite.build.output import FileState
from commsite.build.plan import Output
from commsite.build.search import SEARCH_DIR
from commsite.build.unchanged import on_disk

__all__ = ["RecordedStates", "bundle_strays", "dirty_outputs", "new_inputs"]


class RecordedStates(Mapping[str, FileState]):
    """The record's file states, by output path (a view: no copy of the record),
    and `strays`: files on disk the record lacks (a damaged record's), for the
    commit to remove."""

    def __init__(
        self, record: Mapping[str, RecordEntry], strays: Mapping[str, FileState] | None = None
    ) -> None:
        self._record = record
        self._strays = strays or {}

    def __getitem__(self, path: str) -> FileState:
        if path in self._strays:
            return self._strays[path]
        return self._record[path].state

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def keys(self) -> KeysView[str]:
        if self._strays:
            return dict.fromkeys([*self._record.keys(), *self._strays]).keys()
        return self._record.keys()  # (a dict's: set operations on it run in C)


def bundle_strays(output: Path, record: Mapping[str, RecordEntry]) -> dict[str, FileState]:
    """Search index files on disk that the record does not list (its files are
    named after their content, so a new index does not write over them)."""
    found: dict[str, FileState] = {}
    folder = output / SEARCH_DIR
    base = len(str(output)) + 1
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            rel = os.path.join(dirpath, name)[base:].replace(os.sep, "/")
            if rel not in record:
                found[rel] = FileState(b"", -1, -1)  # (never taken for unchanged)
    return found


def new_inputs(
    outputs: Mapping[str, Output], record: Mapping[str, RecordEntry] | None
) -> dict[str, RecordEntry]:
    """Record entries of pages whose inputs digest changed but not what they show."""
    renewed: dict[str, RecordEntry] = {}
    if record is None:
        return renewed
    for o in outputs.values():
        if o.inputs:
            entry = record.get(o.path)
            if entry is not None and entry.inputs != o.inputs:
                renewed[o.path] = replace(entry, inputs=o.inputs)
    return renewed


def dirty_outputs(
    outputs: Mapping[str, Output],
    record: Mapping[str, RecordEntry] | None,
    output: Path,
    check_disk: bool,
) -> list[Output]:
    """The outputs to make: not in the record, fingerprint changed, or (when the
    output is not known to be as written) changed or gone on disk."""
    if record is None:
        return list(outputs.values())
    found: list[Output] = []
    recorded = record.get
    for o in outputs.values():
        entry = recorded(o.path)
        if (
            entry is None
            or entry.fingerprint != o.fingerprint
            or (check_disk and not on_disk(output, o.path, entry.state))
        ):
            found.append(o)
    return found
