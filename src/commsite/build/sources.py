"""The site's content files: read, hash, and parse through the cache.

Parsing (YAML + Markdown + Pygments) is the expensive part of loading; its
result depends only on the file's kind, path and bytes, so it is looked up by
content hash: in memory first (a long-lived Builder), then in the on-disk cache,
and only then parsed, across processes when there are many files to parse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from commsite.build.cache import BuildCache, parse_key
from commsite.build.fingerprint import code_fingerprint
from commsite.build.parallel import map_in_processes
from commsite.content.loader import discover
from commsite.content.parse import PARSER_VERSION, ParsedFile, parse_file
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


def _parse_one(item: tuple[str, str, bytes]) -> ParsedFile:
    return parse_file(*item)


class Sources:
    """The content files of one site, kept between builds of a Builder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, SourceFile] = {}
        self.parsed_count = 0  # files parsed (not found in a cache) by the last refresh

    def refresh(
        self,
        cache: BuildCache | None,
        *,
        changed: Collection[str] | None = None,
        jobs: int = 1,
        progress: Progress | None = None,
    ) -> tuple[list[ParsedFile], list[Diagnostic]]:
        """Bring the files up to date; `changed` (relative paths) limits what is re-read."""
        problems: list[Diagnostic] = []
        code = code_fingerprint()
        current: dict[str, SourceFile] = {}
        wanted: dict[bytes, tuple[str, str, bytes]] = {}  # key -> (kind, path, data)
        for kind, rel in discover(self.root):
            old = self.files.get(rel)
            if old is not None and old.kind == kind and changed is not None and rel not in changed:
                current[rel] = old
                continue
            try:
                data = (self.root / rel).read_bytes()
            except OSError as exc:
                problems.append(Diagnostic(rel, None, f"cannot read the file: {exc.strerror}"))
                continue
            key = parse_key(PARSER_VERSION, code, kind, rel, hashlib.sha256(data).digest())
            if old is not None and old.key == key:
                current[rel] = old
            else:
                wanted[key] = (kind, rel, data)

        found = cache.get_parsed(wanted) if cache is not None and wanted else {}
        missing = [(key, item) for key, item in wanted.items() if key not in found]
        if missing:
            results = map_in_processes(
                _parse_one,
                [item for _, item in missing],
                jobs=jobs if len(missing) >= PARALLEL_PARSE_MIN else 1,
                progress=(lambda done, total: progress("parsing", done, total))
                if progress
                else None,
            )
            new = {key: parsed for (key, _), parsed in zip(missing, results, strict=True)}
            found.update(new)
        else:
            new = {}
        for key, (kind, rel, _) in wanted.items():
            parsed = found[key]
            if not isinstance(parsed, ParsedFile) or parsed.path != rel or parsed.kind != kind:
                parsed = parse_file(kind, rel, wanted[key][2])  # a foreign cache entry
                new[key] = parsed
            current[rel] = SourceFile(kind, rel, key, parsed)
        if cache is not None:
            cache.put_parsed(new, keep=[f.key for f in current.values()])
        self.files = dict(sorted(current.items()))
        self.parsed_count = len(new)
        return [f.parsed for f in self.files.values()], problems
