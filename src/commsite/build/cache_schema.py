"""The build cache's file: its format, its tables and keys, opening it, and reading
its checked tables' rows in batches.

A file written by another format (or none) has its tables dropped and made
again; see cache.py for how damage is handled while it is in use.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from commsite.build.cache_files import remove

__all__ = ["DB_NAME", "FORMAT_VERSION", "connect", "disk_full", "parse_key", "rows_of"]

_BATCH = 500  # keys per query (SQLite allows 32,766 parameters)

FORMAT_VERSION = "commsite-build-cache 6"  # 6: JSON, not pickles; checked `made` rows
DB_NAME = "cache.sqlite3"
OLD_TEMPLATES = "templates"  # Jinja2's own bytecode files, unsigned: format 5 and before
_SQLITE_FULL = 13  # "database or disk is full"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parsed (
    key BLOB PRIMARY KEY,
    checksum BLOB NOT NULL,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS record (
    output TEXT NOT NULL,
    path TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    digest BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sources TEXT NOT NULL,
    inputs BLOB NOT NULL,
    path_check INTEGER NOT NULL,  -- CRC-32 of path and inputs
    PRIMARY KEY (output, path)
);
CREATE TABLE IF NOT EXISTS made (
    key BLOB PRIMARY KEY,
    checksum BLOB NOT NULL,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS stats (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    sha BLOB NOT NULL
);
"""

# Images' sizes and variants (build/images.py), by a digest of the file's bytes.
_IMAGES = """CREATE TABLE IF NOT EXISTS images (
    key BLOB PRIMARY KEY,
    checksum BLOB NOT NULL,
    value BLOB NOT NULL
)"""


def parse_key(parser_version: object, code: bytes, kind: str, path: str, sha: bytes) -> bytes:
    h = hashlib.sha256()
    for part in (repr(parser_version).encode(), code, kind.encode(), path.encode(), sha):
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.digest()


def connect(path: Path, fresh: bool, note: Callable[[str], None]) -> sqlite3.Connection:
    """Open the cache file at `path` (`fresh`: it did not exist) in the current
    format; `note` is told when an older file's tables were dropped."""
    # A Builder, and so its cache, is used by one thread at a time, but not always
    # the one that opened it: `commsite serve` builds first in its main thread,
    # then from its watcher's (under a lock).
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    try:
        # Parses are 5-10 KB each: on 4 KB pages each row took an overflow
        # chain, and inserting 5,000 of them 0.5 s (80-100 us a row, measured;
        # 12 us on 64 KB pages, and reads got faster too). Only a new file
        # takes it (before WAL mode writes the header); older caches keep theirs.
        conn.execute("PRAGMA page_size=65536")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cell_size_check=ON")  # damaged pages found as they are read
        row = None
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        if row is None or row[0] != FORMAT_VERSION:
            if not fresh:
                found = row[0] if row is not None else "no format"
                note(f"it was written by another commsite ({found!s:.60})")
            conn.execute("BEGIN")
            for table in tables:
                if not table.startswith("sqlite_"):
                    conn.execute(f'DROP TABLE "{table}"')
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT_VERSION,))
            conn.execute("COMMIT")
            remove(path.parent / OLD_TEMPLATES)  # what older formats kept
        conn.execute(_IMAGES)  # (added within format 6: made where missing)
        return conn
    except sqlite3.DatabaseError:
        conn.close()
        raise


def disk_full(exc: BaseException | None) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL


def rows_of(cur: sqlite3.Cursor, table: str, wanted: list[bytes]) -> Iterator[list[Any]]:
    """The (key, checksum, value) rows of `table` under the `wanted` keys, in lists.
    When they are most of the table (a new process loads every parsed file), one
    pass over it in its order is quicker than looking each key up (11,500 parsed
    files: 0.12 s against 0.36 s, measured); the table holds little else, since
    `BuildCache._put_checked` drops what is not in use once it piles up."""
    if len(wanted) > _BATCH:
        (count,) = cur.execute(f"SELECT count(*) FROM {table}").fetchone()
        if 2 * len(wanted) >= count:
            keys = set(wanted)
            cur.execute(f"SELECT key, checksum, value FROM {table}")
            while rows := cur.fetchmany(_BATCH):
                yield [row for row in rows if row[0] in keys]
            return
    for start in range(0, len(wanted), _BATCH):  # one query per batch, not per key
        batch = wanted[start : start + _BATCH]
        marks = ",".join("?" * len(batch))
        yield cur.execute(
            f"SELECT key, checksum, value FROM {table} WHERE key IN ({marks})", batch
        ).fetchall()
