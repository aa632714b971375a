"""The build cache: parsed files and the build record, in one SQLite file.

It lives in `DataDir(root).build_cache` (git-ignored). Nothing in it is trusted
blindly:

* a file that is not a SQLite database, is truncated or damaged, or was written
  by another cache format is deleted and rebuilt;
* every parsed entry carries the SHA-256 of its pickle, checked on read; a
  mismatch or an unpickling error is a miss.

Parsed entries are keyed by (PARSER_VERSION, code fingerprint, kind, path,
sha256(file bytes)). The build record maps each output file to the fingerprint
of what it was made from, the state of the file written, and the source files it
used (as Lektor's build state does).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from commsite.build.output import FileState

__all__ = ["BuildCache", "RecordEntry", "parse_key", "write_last_build"]

FORMAT_VERSION = "commsite-build-cache 5"
DB_NAME = "cache.sqlite3"
LAST_BUILD = "last-build.json"
_BATCH = 500  # keys per query (SQLite allows 32,766 parameters)
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
    PRIMARY KEY (output, path)
);
CREATE TABLE IF NOT EXISTS made (
    key BLOB PRIMARY KEY,
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


def parse_key(parser_version: object, code: bytes, kind: str, path: str, sha: bytes) -> bytes:
    h = hashlib.sha256()
    for part in (repr(parser_version).encode(), code, kind.encode(), path.encode(), sha):
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.digest()


@dataclass(frozen=True, slots=True)
class RecordEntry:
    fingerprint: bytes
    state: FileState
    sources: tuple[str, ...]
    # A digest of what a page is made from (build.pagekeys), when it has one: equal
    # inputs mean the same context, so the fingerprint can be taken from here.
    inputs: bytes = b""


class BuildCache:
    """Open with `BuildCache.open(dir, output)`; every method survives a damaged file."""

    def __init__(self, directory: Path, output: str, conn: sqlite3.Connection | None) -> None:
        self.directory = directory
        self.output = output  # the output directory the record is about
        self._conn = conn
        self.full = False  # dropped because the disk was full (the build says so)

    # --- opening ------------------------------------------------------------

    @classmethod
    def open(cls, directory: Path, output: Path) -> BuildCache:
        """Open (or create) the cache, with the record of builds into `output`."""
        directory.mkdir(parents=True, exist_ok=True)
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")
        path = directory / DB_NAME
        full = False
        for attempt in range(2):
            try:
                return cls(directory, str(output.resolve()), cls._connect(path))
            except sqlite3.DatabaseError as exc:
                full = _disk_full(exc)
                if attempt:
                    break
                _delete_db(path)
        unusable = cls(directory, "", None)  # even when fresh: build without a cache
        unusable.full = full
        return unusable

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
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
            row = None
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key='format'").fetchone()
            if row is None or row[0] != FORMAT_VERSION:
                conn.execute("BEGIN")
                for table in tables:
                    if not table.startswith("sqlite_"):
                        conn.execute(f'DROP TABLE "{table}"')
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT_VERSION,))
                conn.execute("COMMIT")
            return conn
        except sqlite3.DatabaseError:
            conn.close()
            raise

    def _fail(self) -> None:
        """The database broke under us: stop using it and delete it for next time.

        Called while handling a sqlite3.DatabaseError. A ProgrammingError (a closed
        connection, a wrong thread, a bad statement) is commsite misusing the
        cache, not damage: it is raised again rather than taken out on the file."""
        if isinstance(sys.exc_info()[1], sqlite3.ProgrammingError):
            raise  # (the exception being handled)
        self.full = self.full or _disk_full(sys.exc_info()[1])
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        _delete_db(self.directory / DB_NAME)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- parsed files -------------------------------------------------------

    def get_parsed(self, keys: Iterable[bytes]) -> dict[bytes, Any]:
        found: dict[bytes, Any] = {}
        if self._conn is None:
            return found
        wanted = list(keys)
        try:
            cur = self._conn.cursor()
            for start in range(0, len(wanted), _BATCH):  # one query per batch, not per key
                batch = wanted[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                rows = cur.execute(
                    f"SELECT key, checksum, value FROM parsed WHERE key IN ({marks})", batch
                ).fetchall()
                for key, checksum, value in rows:
                    if hashlib.sha256(value).digest() != checksum:
                        continue
                    try:
                        found[key] = pickle.loads(value)
                    except Exception:  # a damaged or foreign pickle is a miss, never trusted
                        continue
        except sqlite3.DatabaseError:
            self._fail()
        return found

    def put_parsed(self, entries: Mapping[bytes, Any], keep: Iterable[bytes]) -> None:
        """Store new entries; drop entries not in `keep` when they pile up."""
        if self._conn is None or not entries:
            return

        def rows() -> Iterator[tuple[bytes, bytes, bytes]]:
            # One pickle at a time: 10,000 stories' pickles at once would be 200 MB.
            for key, value in entries.items():
                blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                yield key, hashlib.sha256(blob).digest(), blob

        keep = list(keep)
        try:
            conn = self._conn
            conn.execute("BEGIN")
            conn.executemany("INSERT OR REPLACE INTO parsed VALUES (?, ?, ?)", rows())
            (count,) = conn.execute("SELECT count(*) FROM parsed").fetchone()
            if count > len(keep) * 1.2 + 50:
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key BLOB PRIMARY KEY)")
                conn.execute("DELETE FROM keep")
                conn.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((k,) for k in keep))
                conn.execute("DELETE FROM parsed WHERE key NOT IN (SELECT key FROM keep)")
                conn.execute("DELETE FROM keep")
            conn.execute("COMMIT")
        except sqlite3.DatabaseError:
            self._fail()

    # --- the build record ---------------------------------------------------

    def get_record(self) -> dict[str, RecordEntry] | None:
        """The record of the last successful build into this output, or None."""
        if self._conn is None:
            return None
        try:
            rows = self._conn.execute(
                "SELECT path, fingerprint, digest, size, mtime_ns, sources, inputs FROM record"
                " WHERE output=?",
                (self.output,),
            ).fetchall()
            valid = self._conn.execute(
                "SELECT value FROM meta WHERE key=?", (self._record_key,)
            ).fetchone()
        except sqlite3.DatabaseError:
            self._fail()
            return None
        if valid is None or valid[0] != "complete":
            return None
        record: dict[str, RecordEntry] = {}
        for path, fingerprint, digest, size, mtime_ns, sources, inputs in rows:
            if not (isinstance(path, str) and isinstance(fingerprint, bytes)):
                return None
            record[path] = RecordEntry(
                fingerprint,
                FileState(digest, size, mtime_ns),
                tuple(sources.split("\n")) if sources else (),
                inputs if isinstance(inputs, bytes) else b"",
            )
        return record

    def update_record(
        self, changed: Mapping[str, RecordEntry], removed: Iterable[str], *, replace: bool
    ) -> None:
        if self._conn is None:
            return
        rows = [
            (
                self.output,
                path,
                e.fingerprint,
                e.state.digest,
                e.state.size,
                e.state.mtime_ns,
                "\n".join(e.sources),
                e.inputs,
            )
            for path, e in changed.items()
        ]
        try:
            conn = self._conn
            conn.execute("BEGIN")
            if replace:
                conn.execute("DELETE FROM record WHERE output=?", (self.output,))
            conn.executemany(
                "DELETE FROM record WHERE output=? AND path=?",
                ((self.output, p) for p in removed),
            )
            conn.executemany("INSERT OR REPLACE INTO record VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, 'complete')", (self._record_key,))
            conn.execute("COMMIT")
        except sqlite3.DatabaseError:
            self._fail()

    # --- input file stats (see inputs.py) -------------------------------------

    def get_stats(self) -> dict[str, tuple[int, int, int, bytes]]:
        if self._conn is None:
            return {}
        try:
            rows = self._conn.execute("SELECT path, size, mtime_ns, inode, sha FROM stats")
            return {
                path: (size, mtime_ns, inode, sha)
                for path, size, mtime_ns, inode, sha in rows
                if isinstance(sha, bytes) and len(sha) == 32
            }
        except sqlite3.DatabaseError:
            self._fail()
            return {}

    def put_stats(
        self,
        stats: Mapping[str, tuple[int, int, int, bytes]],
        stored: Mapping[str, tuple[int, int, int, bytes]] | None = None,
    ) -> None:
        """Store `stats`; `stored`: what the table holds now (get_stats or the last
        put_stats), so that only the rows that differ are written."""
        if self._conn is None:
            return
        try:
            self._conn.execute("BEGIN")
            changed: Iterable[tuple[str, tuple[int, int, int, bytes]]]
            if stored is None:
                self._conn.execute("DELETE FROM stats")
                changed = stats.items()
            else:
                changed = [(p, s) for p, s in stats.items() if stored.get(p) != s]
                gone = [(p,) for p in stored.keys() - stats.keys()]
                self._conn.executemany("DELETE FROM stats WHERE path=?", gone)
            self._conn.executemany(
                "INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?, ?)",
                ((path, *stat) for path, stat in changed),
            )
            self._conn.execute("COMMIT")
        except sqlite3.DatabaseError:
            self._fail()

    # --- made pieces (federation objects' JSON), by a digest of their inputs ---

    def get_made(self, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        if self._conn is None:
            return found
        try:
            cur = self._conn.cursor()
            for key in keys:
                row = cur.execute("SELECT value FROM made WHERE key=?", (key,)).fetchone()
                if row is not None:
                    found[key] = row[0]
        except sqlite3.DatabaseError:
            self._fail()
        return found

    def put_made(
        self, entries: Mapping[bytes, bytes], live: int, keep: Callable[[], Iterable[bytes]]
    ) -> None:
        """Store new entries; when there are many more than the `live` ones in use,
        drop every entry not in `keep()`."""
        if self._conn is None or not entries:
            return
        try:
            conn = self._conn
            conn.execute("BEGIN")
            conn.executemany("INSERT OR REPLACE INTO made VALUES (?, ?)", entries.items())
            (count,) = conn.execute("SELECT count(*) FROM made").fetchone()
            if count > live * 1.2 + 50:
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key BLOB PRIMARY KEY)")
                conn.execute("DELETE FROM keep")
                conn.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((k,) for k in keep()))
                conn.execute("DELETE FROM made WHERE key NOT IN (SELECT key FROM keep)")
                conn.execute("DELETE FROM keep")
            conn.execute("COMMIT")
        except sqlite3.DatabaseError:
            self._fail()

    # --- small JSON values (the no-change check, template dependencies) -------

    def get_json(self, key: str) -> Any:
        if self._conn is None:
            return None
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            return None if row is None else json.loads(row[0])
        except sqlite3.ProgrammingError:
            raise  # misuse, not damage (see _fail)
        except (sqlite3.DatabaseError, ValueError):
            return None

    def set_json(self, key: str, value: Any) -> None:
        if self._conn is None:
            return
        try:
            if value is None:
                self._conn.execute("DELETE FROM meta WHERE key=?", (key,))
            else:
                self._conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value))
                )
        except sqlite3.DatabaseError:
            self._fail()

    @property
    def _record_key(self) -> str:
        return f"record:{self.output}"

    def invalidate_record(self) -> None:
        """Mark the record untrustworthy (called before the output is touched)."""
        if self._conn is None:
            return
        try:
            self._conn.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, 'writing')", (self._record_key,)
            )
        except sqlite3.DatabaseError:
            self._fail()


def write_last_build(directory: Path, summary: Mapping[str, Any]) -> None:
    """The JSON record of the last build (what was rendered, written, removed)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / LAST_BUILD
    tmp = target.with_name(f".{LAST_BUILD}.{os.getpid()}")
    tmp.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, target)


def _disk_full(exc: BaseException | None) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL


def _delete_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
