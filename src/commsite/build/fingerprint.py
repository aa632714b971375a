"""Fingerprints: what an output was made from, as a short digest.

A page's fingerprint covers the code that renders it, its path, its template
files' bytes and `repr(context)` (the render package keeps contexts made of
views with deterministic reprs, so the repr changes exactly when what the page
shows changes). Measured on 1,000 stories, repr is faster than pickling the
context or walking it (benchmarks/README.md). One exception (`context_digest`):
long HTML fields of the context's views (a story's body) are stood in for by
their digest, as bytes (which no str field's repr can be): repr of an 8 KB
body, escaping and copying it, was two thirds of a story page's repr.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import sys
from collections.abc import Mapping
from dataclasses import fields, is_dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "ReprMemo",
    "code_fingerprint",
    "context_digest",
    "digest_bytes",
    "digest_parts",
    "digest_text",
    "library_versions",
]

_LONG = 512  # HTML fields at least this long are digested, not repr'd

_DIGEST_SIZE = 20
_LIBRARIES = (
    "jinja2",
    "markupsafe",
    "markdown-it-py",
    "mdit-py-plugins",
    "pygments",
    "pyyaml",
    "icalendar",
)


def digest_bytes(*parts: bytes | memoryview) -> bytes:
    h = hashlib.blake2b(digest_size=_DIGEST_SIZE)
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


def digest_parts(*parts: bytes) -> bytes:
    """A digest of many parts, as unambiguous as digest_bytes' (their number and
    lengths, then the parts) and cheaper for many small parts: the lengths are
    packed and the parts joined in C. (Not equal to digest_bytes of the same
    parts: a different layout.)"""
    head = struct.pack(f">{len(parts) + 1}Q", len(parts), *map(len, parts))
    return hashlib.blake2b(head + b"".join(parts), digest_size=_DIGEST_SIZE).digest()


def digest_text(text: str) -> bytes:
    return digest_bytes(text.encode("utf-8", "surrogatepass"))


@cache
def code_fingerprint() -> bytes:
    """commsite's code, its bundled themes and the libraries' versions: any change
    to them re-renders everything."""
    import commsite.themes

    package = Path(__file__).resolve().parent.parent
    themes = Path(commsite.themes.__file__).resolve().parent
    h = hashlib.blake2b(digest_size=_DIGEST_SIZE)
    for base, pattern in ((package, "*.py"), (themes, "*")):
        for path in sorted(base.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(base).as_posix().encode())
                h.update(path.read_bytes())
    for name, version in library_versions().items():
        h.update(f"{name}={version}".encode())
    return h.digest()


def library_versions() -> dict[str, str]:
    """The installed version of each library of _LIBRARIES ("none" when it is not):
    what importlib.metadata.version says, read off the names of the distributions'
    metadata folders on sys.path (`jinja2-3.1.4.dist-info`), the first one found
    as importlib.metadata does. (Importing importlib.metadata, and the email
    package it brings, was a fifth of a build with nothing to do.)"""
    wanted = {_normal(name): name for name in _LIBRARIES}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            stem, _, suffix = folder.rpartition(".")
            if suffix not in ("dist-info", "egg-info"):
                continue
            dist, _, version = stem.partition("-")
            key = _normal(dist)
            if key in wanted and key not in found:
                found[key] = version.partition("-")[0]  # (an egg's "1.0-py3.11")
    versions = {name: found.get(_normal(name), "none") for name in _LIBRARIES}
    for name, version in versions.items():
        if not version:  # a folder without the version (`setup.py develop`'s egg-info)
            import importlib.metadata

            versions[name] = importlib.metadata.version(name)
    return versions


def _normal(name: str) -> str:
    """A distribution's name as the packaging spec compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _html_fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind) if f.name.endswith("_html"))


def _lighter(value: object) -> object:
    """`value`, its long HTML fields replaced by their digests (bytes), if it is a view."""
    if not is_dataclass(value) or isinstance(value, type):
        return value
    changes: dict[str, Any] = {}
    for name in _html_fields(type(value)):
        text = getattr(value, name)
        if type(text) is str and len(text) >= _LONG:
            changes[name] = digest_text(text)
    return replace(value, **changes) if changes else value


class ReprMemo:
    """repr() of the views that many pages show (the same card object on list, tag
    and home pages), computed once per plan. Keyed by identity, so it must not
    outlive the contexts it saw (it keeps them alive meanwhile)."""

    def __init__(
        self, lasting: dict[int, tuple[object, str]] | None = None, kind: type | None = None
    ) -> None:
        self._known: dict[int, tuple[object, str]] = {}
        # reprs kept from plan to plan by their owner (the story cards', see
        # render/pages/reads.ReadValues), by id; those of values of `kind` are added
        self._lasting = lasting if lasting is not None else {}
        self._kind = kind

    def repr(self, value: object) -> str:
        found = self._known.get(id(value))
        if found is None:
            kept = self._lasting.get(id(value))
            if kept is not None and kept[0] is value:
                found = kept
            else:
                found = (value, repr(value))
                if type(value) is self._kind:
                    self._lasting[id(value)] = found
            self._known[id(value)] = found
        return found[1]

    def tuple_repr(self, values: tuple[object, ...]) -> str:
        """repr(values), from the memoised reprs of its views."""
        parts = [self.repr(v) if is_dataclass(v) else repr(v) for v in values]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def context_digest(context: Mapping[str, object], memo: ReprMemo | None = None) -> bytes:
    """A digest of repr(context), long HTML in its top-level views digested first.

    With `memo`, the text digested is still exactly that repr, but tuples of views
    are repr'd from their elements' memoised reprs."""
    lighter = {key: _lighter(value) for key, value in context.items()}
    if memo is None:
        return digest_text(repr(lighter))
    parts = [
        f"{key!r}: {memo.tuple_repr(value) if type(value) is tuple else repr(value)}"
        for key, value in lighter.items()
    ]
    return digest_text("{" + ", ".join(parts) + "}")
