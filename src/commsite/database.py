"""The one SQLite file in the data directory, and its schema migrations.

The sidecar's inbox store, the follower list and the delivery queue each own
their tables ("components") and declare their migrations as an ordered list of
SQL scripts; `migrate` applies the ones a database has not seen yet, each in a
transaction, and records them in `schema_migrations`.

WAL mode lets the sidecar, `commsite publish` and `commsite moderate` use the
file at once; `synchronous=FULL` makes a commit durable before the sidecar
answers 202, so a crash right after never loses an acknowledged activity.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["connect", "migrate", "transaction"]


def connect(path: Path, *, timeout: float = 30.0) -> sqlite3.Connection:
    """Open (creating if needed) the database at `path` in WAL mode.

    The connection is in autocommit mode (isolation_level=None): callers open
    transactions explicitly with `BEGIN IMMEDIATE` / `COMMIT` (or use
    `with conn:` after BEGIN) so it is always clear when data is on disk.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT (durable when it returns), ROLLBACK on any exception.

    Nests: inside a transaction the caller already opened, it adds nothing, so
    functions can require a transaction without knowing whether one is open.
    """
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrate(conn: sqlite3.Connection, component: str, migrations: Sequence[str]) -> int:
    """Apply `migrations[n:]` for `component`, where n is how many it has had.

    Returns the component's schema version afterwards. Migrations are never
    edited once released; add a new one instead.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " component TEXT NOT NULL, version INTEGER NOT NULL,"
        " PRIMARY KEY (component, version))"
    )
    with transaction(conn):
        row = conn.execute(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?",
            (component,),
        ).fetchone()
        current = int(row[0])
        for version, script in enumerate(migrations[current:], start=current + 1):
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (component, version) VALUES (?, ?)",
                (component, version),
            )
    return max(current, len(migrations))


def _statements(script: str) -> list[str]:
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
