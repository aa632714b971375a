"""The site's content files: read, hash, and parse through the cache.

Parsing (YAML + Markdown + Pygments) is the expensive part of loading; its
result depends only on the file's kind, path and bytes, so it is looked up by
content hash: in memory first (a long-lived Builder), then in the on-disk cache,
and only then parsed, across processes when there are many files to parse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from commsite.build.cache import BuildCache, parse_key
from commsite.build.cache_data import BadEntry, decode_parsed, encode_parsed
from commsite.build.encoded import Encoded
from commsite.build.fingerprint import code_fingerprint
from commsite.build.parallel import map_in_processes
from commsite.content.loader import discover
from commsite.content.parse import PARSER_VERSION, ParsedFile, parse_file
from commsite.content.safe_files import read_input
from commsite.errors import Diagnostic

__all__ = ["SourceFile", "Sources"]

Progress = Callable[[str, int, int], None]

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_PARSE_MIN = 64


@dataclass(frozen=True, slots=True)
class SourceFile:
    kind: str
    path: str
    key: bytes  # the parse cache key (covers kind, path and the bytes' hash)
    parsed: ParsedFile
    sha: bytes = b""  # sha256 of the bytes parsed


def _parse_one(item: tuple[Path, str, str]) -> tuple[ParsedFile | None, bytes, str | None]:
    """(parsed file, sha256 of the bytes parsed, None) or (None, b"", why it did not read).

    The file is read here, in the worker: the parent never holds every file's bytes.
    """
    root, kind, rel = item
    try:
        data = read_input(root / rel)
    except OSError as exc:
        return None, b"", exc.strerror
    return parse_file(kind, rel, data), hashlib.sha256(data).digest(), None


class Sources:
    """The content files of one site, kept between builds of a Builder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, SourceFile] = {}
        self._unsaved: dict[bytes, ParsedFile] = {}  # parsed since the last `save`
        self._hashes: Mapping[str, bytes] | None = None  # what `files` was brought up to

    def refresh(
        self,
        cache: BuildCache | None,
        hashes: Mapping[str, bytes],
        *,
        since: tuple[Mapping[str, bytes], Collection[str]] | None = None,
        jobs: int = 1,
        progress: Progress | None = None,
    ) -> tuple[list[ParsedFile], list[Diagnostic]]:
        """Bring the files up to date. `hashes`: sha256 of the site's files (from the
        input scan); only files whose hash is in no cache are read and parsed. What
        was parsed goes into the cache on `save` (a build saves while it renders).

        `since`: (earlier hashes, the paths whose hash may differ from them) when
        the scan vouches that no file was added or removed since those. When they
        are the hashes of the last refresh, only those paths are looked at (the
        content folders are not listed again)."""
        problems: list[Diagnostic] = []
        code = code_fingerprint()
        current: dict[str, SourceFile] = {}
        wanted: dict[bytes, tuple[str, str]] = {}  # key -> (kind, path)
        listed: Iterable[tuple[str, str]]
        # Only the files that may have changed, updated in place: the paths stay sorted.
        in_place = since is not None and since[0] is self._hashes and bool(self.files)
        if in_place:
            assert since is not None
            current = dict(self.files)
            listed = [(current[rel].kind, rel) for rel in since[1] if rel in current]
        else:
            listed = discover(self.root, hashes)  # the files the scan admitted
        for kind, rel in listed:
            sha = hashes.get(rel)
            if sha is None:  # appeared after the scan: read it now
                try:
                    sha = hashlib.sha256(read_input(self.root / rel)).digest()
                except OSError as exc:
                    problems.append(Diagnostic(rel, None, f"cannot read the file: {exc.strerror}"))
                    current.pop(rel, None)
                    continue
            old = self.files.get(rel)
            if old is not None and old.sha == sha and old.kind == kind:
                current[rel] = old  # (its key is the same: code and parser are this process's)
                continue
            key = parse_key(PARSER_VERSION, code, kind, rel, sha)
            if old is not None and old.key == key:
                current[rel] = old
            else:
                wanted[key] = (kind, rel)

        found = cache.get_parsed(wanted) if cache is not None and wanted else {}
        new: dict[bytes, ParsedFile] = {}
        to_parse: list[tuple[Path, str, str]] = []
        bad = 0
        for key, (kind, rel) in wanted.items():
            blob = found.pop(key, None)  # (let go once decoded: 84 MB at 10,000 stories)
            parsed = None
            if blob is not None:
                try:
                    parsed = decode_parsed(blob)
                except BadEntry:
                    bad += 1
            if parsed is not None and parsed.path == rel and parsed.kind == kind:
                current[rel] = SourceFile(kind, rel, key, parsed, hashes.get(rel, b""))
            else:
                to_parse.append((self.root, kind, rel))
        if bad and cache is not None:
            cache.note_damage(f"parsed files that do not read ({bad})")
        if to_parse:
            results = map_in_processes(
                _parse_one,
                to_parse,
                jobs=jobs if len(to_parse) >= PARALLEL_PARSE_MIN else 1,
                progress=_stage(progress, "parsing"),
            )
            for (_, kind, rel), (parsed, sha, error) in zip(to_parse, results, strict=True):
                if parsed is None:
                    problems.append(Diagnostic(rel, None, f"cannot read the file: {error}"))
                    current.pop(rel, None)
                    continue
                # The key of the bytes parsed, which may be newer than the scan's.
                key = parse_key(PARSER_VERSION, code, kind, rel, sha)
                new[key] = parsed
                current[rel] = SourceFile(kind, rel, key, parsed, sha)
        if cache is not None:
            self._unsaved.update(new)
        self.files = current if in_place else dict(sorted(current.items()))
        self._hashes = hashes
        return [f.parsed for f in self.files.values()], problems

    def save(self, cache: BuildCache | None) -> None:
        """Store the files parsed since the last save in `cache` (writing thousands of
        rows takes a while: a build does it while its workers render)."""
        if cache is not None and self._unsaved:
            # (each file encoded as it is stored: see build/encoded.py)
            encoded = Encoded(self._unsaved, encode_parsed, (BadEntry,))
            cache.put_parsed(encoded, keep=[f.key for f in self.files.values()])
        self._unsaved = {}

    def save_all(self, cache: BuildCache) -> None:
        """Store every file as parsed (into a cache started afresh)."""
        self._unsaved = {f.key: f.parsed for f in self.files.values()}
        self.save(cache)


def _stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)
