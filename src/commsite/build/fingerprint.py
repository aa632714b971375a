"""Fingerprints: what an output was made from, as a short digest.

A page's fingerprint covers its path, its template files' bytes, the code that
renders it and its context. Contexts are walked structurally (what `repr` would
show, without building the string): dataclass instances are digested once per
build and reused wherever the same object appears again, so a story shared by
its page, list pages and tag pages is hashed once.

The walk also names the source files a page used: strings shared by identity
with a story, member, event, page or reply (its title, body, slug...) point back
to that item's file.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib.metadata
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["Fingerprinter", "code_fingerprint", "digest_bytes"]

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


def digest_bytes(*parts: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=_DIGEST_SIZE)
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


@cache
def code_fingerprint() -> bytes:
    """The commsite code and library versions: any change re-renders everything."""
    package = Path(__file__).resolve().parent.parent
    h = hashlib.blake2b(digest_size=_DIGEST_SIZE)
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            h.update(f"{name}={importlib.metadata.version(name)}".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{name}=none".encode())
    return h.digest()


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_NO_SOURCES: frozenset[str] = frozenset()


class Fingerprinter:
    """Digests of contexts within one build (memoised by object identity)."""

    def __init__(self, owners: Iterable[tuple[str, Iterable[object]]] = ()) -> None:
        # id(obj) -> (obj, digest, sources); obj is kept so its id is not reused.
        self._memo: dict[int, tuple[object, bytes, frozenset[str]]] = {}
        self._owner: dict[int, str] = {}
        self._keep: list[object] = []
        for source, values in owners:
            for value in values:
                if isinstance(value, str) and len(value) > 1:
                    self._owner[id(value)] = source
                    self._keep.append(value)

    def digest(self, obj: object) -> tuple[bytes, frozenset[str]]:
        """The digest of `obj` and the source files it was seen to use."""
        parts: list[bytes] = []
        sources: set[str] = set()
        self._walk(obj, parts, sources)
        return digest_bytes(b"".join(parts)), frozenset(sources)

    def _walk(self, obj: object, parts: list[bytes], sources: set[str]) -> None:
        t = type(obj)
        if t is str:
            data = obj.encode("utf-8", "surrogatepass")  # type: ignore[attr-defined]
            parts.append(b"s%d:" % len(data))
            parts.append(data)
            if self._owner:
                owner = self._owner.get(id(obj))
                if owner is not None:
                    sources.add(owner)
            return
        if obj is None or t is bool or t is int or t is float:
            parts.append(b"%s%r;" % (t.__name__.encode(), obj))
            return
        if t is tuple or t is list:
            parts.append(b"(%d" % len(obj))  # type: ignore[arg-type]
            for item in obj:  # type: ignore[attr-defined]
                self._walk(item, parts, sources)
            parts.append(b")")
            return
        if hasattr(t, "__dataclass_fields__"):
            memo = self._memo.get(id(obj))
            if memo is None:
                sub: list[bytes] = [t.__qualname__.encode()]
                subsources: set[str] = set()
                for name in _field_names(t):
                    self._walk(getattr(obj, name), sub, subsources)
                memo = (
                    obj,
                    digest_bytes(b"".join(sub)),
                    frozenset(subsources) if subsources else _NO_SOURCES,
                )
                self._memo[id(obj)] = memo
            parts.append(b"D")
            parts.append(memo[1])
            if memo[2]:
                sources.update(memo[2])
            return
        if isinstance(obj, Mapping):
            parts.append(b"{%d" % len(obj))
            for key, value in obj.items():
                self._walk(key, parts, sources)
                self._walk(value, parts, sources)
            parts.append(b"}")
            return
        if isinstance(obj, str):  # Markup and other str subclasses
            parts.append(t.__qualname__.encode())
            self._walk(str(obj), parts, sources)
            return
        if isinstance(obj, (datetime, time)):
            parts.append(b"t%s|%s;" % (obj.isoformat().encode(), str(obj.tzinfo).encode()))
            return
        if isinstance(obj, date):
            parts.append(b"d%s;" % obj.isoformat().encode())
            return
        if isinstance(obj, enum.Enum):
            parts.append(b"e%s.%s;" % (t.__qualname__.encode(), obj.name.encode()))
            return
        if isinstance(obj, (frozenset, set)):
            items = []
            for item in obj:
                sub = []
                self._walk(item, sub, sources)
                items.append(b"".join(sub))
            parts.append(b"<%d" % len(items))
            parts.extend(sorted(items))
            parts.append(b">")
            return
        if isinstance(obj, (bytes, bytearray)):
            parts.append(b"b%d:" % len(obj))
            parts.append(bytes(obj))
            return
        # Anything else: its repr, which the render engineer keeps deterministic.
        text = repr(obj)
        parts.append(b"r%s:%s;" % (t.__qualname__.encode(), text.encode("utf-8", "replace")))


def owners_of(site: Any) -> list[tuple[str, list[object]]]:
    """(source file, strings identifying it) for every item of a Site."""
    owners: list[tuple[str, list[object]]] = []
    items: list[Any] = [*site.stories, *site.members, *site.events, *site.pages, site.rules]
    interactions = site.interactions
    items += [*interactions.replies, *interactions.introductions]
    for item in items:
        values = []
        for name in ("title", "name", "body_html", "bio_html", "content_html", "summary", "slug"):
            value = getattr(item, name, None)
            if value is not None:
                values.append(value)
        owners.append((item.source, values))
    return owners
