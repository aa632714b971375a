"""The default store: one SQLite file in the data directory.

WAL mode lets the sidecar, `commsite publish` and `commsite moderate` use the
file at once; `synchronous=FULL` makes a commit durable before the sidecar
answers 202, so a crash right after never loses an acknowledged activity.

`SQLiteConnection` is `sqlite3.Connection` itself (the C implementation, no
wrapper on the hot path) with a `dialect` attribute.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

__all__ = ["SQLiteConnection", "connect_sqlite", "connect_sqlite_readonly", "split_statements"]


class SQLiteConnection(sqlite3.Connection):
    dialect: Final = "sqlite"
    broken: Final = False  # a file does not go away as a server does


def connect_sqlite(path: Path, *, timeout: float = 30.0) -> SQLiteConnection:
    """Open (creating if needed) the database at `path` in WAL mode.

    The connection is in autocommit mode (isolation_level=None): callers open
    transactions explicitly (`commsite.database.transaction`) so it is always
    clear when data is on disk.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path,
        timeout=timeout,
        isolation_level=None,
        check_same_thread=False,
        factory=SQLiteConnection,
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    return conn


def connect_sqlite_readonly(path: Path, *, timeout: float = 10.0) -> SQLiteConnection:
    """Open an existing file read-only (`mode=ro`): no migration, no write lock, never
    created; what `commsite report` and the like read with."""
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        timeout=timeout,
        isolation_level=None,
        factory=SQLiteConnection,
    )
    conn.row_factory = sqlite3.Row
    return conn


def split_statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would COMMIT)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
