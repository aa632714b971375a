"""The build cache: parsed files and the build record, in one SQLite file.

It lives in `DataDir(root).build_cache` (git-ignored) and may be shared through
a CI cache, so it holds data only (no pickles; the compiled templates beside it
are signed with a key kept outside it: template_cache.py) and nothing in it is
trusted blindly:

* a file that is not a SQLite database, is truncated or damaged, was written by
  another cache format, or is a folder, is deleted and made again;
* parsed files and federation objects are stored as JSON text with the SHA-256
  of their bytes, checked on read (and decoded with type checks by the caller,
  `build.cache_data`); a mismatch is a miss;
* record rows, file stats and JSON values are checked for type and shape; a
  record output path must be relative, without '..';
* damage found while the cache is in use stops its use for the rest of the
  build (`lost`): the Builder then starts a new one and writes into it what the
  build knows (`Builder._refill_cache`).

Every damage found is noted (`take_damage`), and the build prints one warning.

Parsed entries are keyed by (PARSER_VERSION, code fingerprint, kind, path,
sha256(file bytes)). The build record maps each output file to the fingerprint
of what it was made from, the state of the file written, and the source files it
used (as Lektor's build state does).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from commsite.build.cache_files import COMPILED, delete_db, own_folder, remove, write_last_build
from commsite.build.cache_record import RecordEntry, decode_record, decode_states, record_rows
from commsite.build.cache_schema import DB_NAME, connect, disk_full, parse_key, rows_of

__all__ = ["DB_NAME", "BuildCache", "RecordEntry", "parse_key", "write_last_build"]

_MARKS = ", ".join("?" * 9)  # a record row's values


class BuildCache:
    """Open with `BuildCache.open(dir, output)`; every method survives a damaged file."""

    def __init__(self, directory: Path, output: str, conn: sqlite3.Connection | None) -> None:
        self.directory = directory
        self.output = output  # the output directory the record is about
        self._record_key, self._reads_key = f"record:{output}", f"reads:{output}"
        self._conn = conn
        self.full = False  # dropped because the disk was full (the build says so)
        self._damage: list[str] = []  # what was found damaged, since `take_damage`
        # Damage was found in use: the cache is to be made again (see `reopen`).
        self.damaged = False

    # --- opening ------------------------------------------------------------

    @classmethod
    def open(cls, directory: Path, output: Path) -> BuildCache:
        """Open (or create) the cache, with the record of builds into `output`."""
        cache = cls(directory, str(output.resolve()), None)
        cache._conn = cache._open()
        return cache

    @property
    def path(self) -> Path:
        return self.directory / DB_NAME

    @property
    def usable(self) -> bool:
        return self._conn is not None

    def _open(self) -> sqlite3.Connection | None:
        try:
            own_folder(self.directory)
        except OSError as exc:
            self._damage.append(f"cannot make its folder: {exc.strerror or exc}")
            return None
        path = self.path
        for attempt in range(2):
            try:
                if path.is_symlink() or path.is_dir():
                    raise sqlite3.DatabaseError("a link or folder where the database should be")
                for journal in ("-wal", "-shm", "-journal"):  # (SQLite would write through it)
                    if Path(f"{path}{journal}").is_symlink():
                        raise sqlite3.DatabaseError(f"a link in place of its {journal} file")
                fresh = not path.exists()
                if not fresh and path.stat().st_size == 0:
                    raise sqlite3.DatabaseError("the database file is empty")
                return connect(path, fresh, self._damage.append)
            except sqlite3.DatabaseError as exc:
                if disk_full(exc):
                    self.full = True  # (the build says so: not damage)
                    break
                self._damage.append(str(exc))
                if attempt or not delete_db(path):
                    break
        return None  # unusable even when fresh: build without a cache

    def _fail(self) -> None:
        """The database broke under us: stop using it and delete it for next time.

        Called while handling a sqlite3.DatabaseError. A ProgrammingError (a closed
        connection, a wrong thread, a bad statement) is commsite misusing the
        cache, not damage: it is raised again rather than taken out on the file."""
        exc = sys.exc_info()[1]
        if isinstance(exc, sqlite3.ProgrammingError):
            raise  # (the exception being handled)
        if disk_full(exc):
            self.full = True  # (the build says so: not damage)
        else:
            self.note_damage(str(exc))
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        delete_db(self.path)

    def reopen(self) -> bool:
        """Start a new, empty cache when `damaged` (the Builder then writes into it
        what its build knows). Whether it could."""
        self.close()
        self.damaged = False
        delete_db(self.path)
        remove(self.directory / COMPILED)  # (signed, but as good as damaged with the rest)
        self._conn = self._open()
        return self._conn is not None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- damage -------------------------------------------------------------

    def note_damage(self, what: str) -> None:
        """Note damage found in the cache in use: one warning, and the whole cache
        is made again at the end of the build, since where there is some damage
        there may be more that reads as valid (an index missing rows, say)."""
        self._damage.append(what)
        self.damaged = True

    def take_damage(self) -> list[str]:
        """What was found damaged since the last call."""
        found, self._damage = self._damage, []
        return found

    # --- parsed files (JSON; build.cache_data decodes them) -------------------

    def get_parsed(self, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        return self._get_checked("parsed", keys)

    def put_parsed(self, entries: Mapping[bytes, bytes], keep: Iterable[bytes]) -> None:
        """Store new entries; drop entries not in `keep` when they pile up."""
        if entries:
            keep = list(keep)
            self._put_checked("parsed", entries, len(keep), lambda: keep)

    def _get_checked(self, table: str, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        """The values under `keys` whose checksum holds."""
        found: dict[bytes, bytes] = {}
        if self._conn is None:
            return found
        wanted = list(keys)
        damaged = 0
        try:
            cur = self._conn.cursor()
            for rows in rows_of(cur, table, wanted):
                for key, checksum, value in rows:
                    if type(value) is bytes and hashlib.sha256(value).digest() == checksum:
                        found[key] = value
                    else:
                        damaged += 1
        except sqlite3.DatabaseError:
            self._fail()
        if damaged:
            self.note_damage(f"damaged entries in '{table}' ({damaged})")
        return found

    def _put_checked(
        self,
        table: str,
        entries: Mapping[bytes, bytes],
        live: int,
        keep: Callable[[], Iterable[bytes]],
    ) -> None:
        """Store new entries; when there are many more than the `live` ones in use,
        drop every entry not in `keep()`."""
        if self._conn is None:
            return

        def rows() -> Iterator[tuple[bytes, bytes, bytes]]:
            for key, value in entries.items():
                yield key, hashlib.sha256(value).digest(), value

        try:
            conn = self._conn
            conn.execute("BEGIN")
            conn.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)", rows())
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            if count > live * 1.2 + 50:
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key BLOB PRIMARY KEY)")
                conn.execute("DELETE FROM keep")
                conn.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((k,) for k in keep()))
                conn.execute(f"DELETE FROM {table} WHERE key NOT IN (SELECT key FROM keep)")
                conn.execute("DELETE FROM keep")
            conn.execute("COMMIT")
        except sqlite3.DatabaseError:
            self._fail()

    # --- the build record ---------------------------------------------------

    def get_record(self) -> dict[str, RecordEntry] | None:
        """The record of the last successful build into this output, or None."""
        rows = self._record_rows("fingerprint, digest, size, mtime_ns, sources, inputs, path_check")
        record = None if rows is None else decode_record(rows)
        if isinstance(record, str):
            self.note_damage(record)
            return None
        return record

    def get_states(self) -> list[tuple[str, int, int]] | None:
        """Each output's (path, size, mtime_ns) as the record has it, the rest left
        unread (the no-change check's part: a fifth of its time at 10,000 stories)."""
        rows = self._record_rows("size, mtime_ns")
        return None if rows is None else decode_states(rows)

    def _record_rows(self, columns: str) -> list[Any] | None:
        """The rows (path, then `columns`) of the last successful build's record."""
        rows = self._rows(f"SELECT path, {columns} FROM record WHERE output=?", (self.output,))
        if rows is None:
            return None
        valid = self._meta(self._record_key)
        if valid != "complete":
            if valid is not None and valid != "writing":
                self.note_damage("the build record's state is damaged")
            return None
        return rows

    def update_record(
        self,
        changed: Mapping[str, RecordEntry],
        removed: Iterable[str],
        *,
        replace: bool,
        reads: bytes | None = None,
    ) -> None:
        """Store the record's changes and the read index that goes with it (read_index.py)."""
        if self._conn is None:
            return
        rows = record_rows(self.output, changed)
        try:
            conn = self._conn
            conn.execute("BEGIN")
            if replace:
                conn.execute("DELETE FROM record WHERE output=?", (self.output,))
            conn.executemany(
                "DELETE FROM record WHERE output=? AND path=?",
                ((self.output, p) for p in removed),
            )
            conn.executemany(f"INSERT OR REPLACE INTO record VALUES ({_MARKS})", rows)
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, 'complete')", (self._record_key,))
            index = (self._reads_key, reads or b"")  # (none: the last one no longer holds)
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", index)
            conn.execute("COMMIT")
        except sqlite3.DatabaseError:
            self._fail()

    def get_reads(self) -> object:
        """The read index stored with the record (read_index.decode_index checks it)."""
        return self._meta(self._reads_key)

    # --- input file stats (see inputs.py) -------------------------------------

    def get_stats(self) -> dict[str, tuple[int, int, int, bytes]]:
        rows = self._rows("SELECT path, size, mtime_ns, inode, sha FROM stats")
        if rows is None:
            return {}
        found = {
            path: (size, mtime_ns, inode, sha)
            for path, size, mtime_ns, inode, sha in rows
            # (A size, time or inode of another type only fails to match: the
            # file is hashed again. The hash is taken as it is when they match.)
            if type(sha) is bytes and len(sha) == 32
        }
        if len(rows) != len(found):  # every file is hashed again, and its stats written anew
            self.note_damage(f"damaged file stats ({len(rows) - len(found)})")
            self._execute("DELETE FROM stats")
            return {}
        return found

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
        return self._get_checked("made", keys)

    def put_made(
        self, entries: Mapping[bytes, bytes], live: int, keep: Callable[[], Iterable[bytes]]
    ) -> None:
        """Store new entries; when there are many more than the `live` ones in use,
        drop every entry not in `keep()`."""
        if entries:
            self._put_checked("made", entries, live, keep)

    # --- images' sizes and variants (build/images.py decodes them) --------------

    def get_images(self, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        return self._get_checked("images", keys)

    def put_images(
        self, entries: Mapping[bytes, bytes], live: int, keep: Callable[[], Iterable[bytes]]
    ) -> None:
        """Store new entries; drop those not in `keep()` when they pile up."""
        if entries:
            self._put_checked("images", entries, live, keep)

    # --- small JSON values (the no-change check, template dependencies) -------
    #
    # Stored as "CRC32 JSON": the checksum catches a flipped byte inside a string
    # that would still parse (a diagnostic printed with a wrong letter, say).

    def get_json(self, key: str) -> Any:
        value = self._meta(key)
        if value is None:
            return None
        if type(value) is str:
            check, _, text = value.partition(" ")
            if check == f"{zlib.crc32(text.encode('utf-8', 'surrogatepass')):08x}":
                with contextlib.suppress(ValueError):
                    return json.loads(text)
        self.note_damage(f"a damaged value '{key}'")
        self._execute("DELETE FROM meta WHERE key=?", (key,))
        return None

    def set_json(self, key: str, value: Any) -> None:
        if value is None:
            self._execute("DELETE FROM meta WHERE key=?", (key,))
            return
        text = json.dumps(value)
        check = zlib.crc32(text.encode("utf-8", "surrogatepass"))
        self._execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, f"{check:08x} {text}"))

    def _meta(self, key: str) -> object:
        """The value stored in meta under `key`, or None."""
        rows = self._rows("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def _rows(self, query: str, args: tuple[object, ...] = ()) -> list[Any] | None:
        """The rows `query` selects, or None when there is no usable database."""
        if self._conn is None:
            return None
        try:
            return self._conn.execute(query, args).fetchall()
        except sqlite3.DatabaseError:
            self._fail()
            return None

    def _execute(self, statement: str, args: tuple[object, ...] = ()) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(statement, args)
        except sqlite3.DatabaseError:
            self._fail()

    def invalidate_record(self) -> None:
        """Mark the record untrustworthy (called before the output is touched)."""
        self._execute("INSERT OR REPLACE INTO meta VALUES (?, 'writing')", (self._record_key,))
