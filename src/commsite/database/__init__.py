"""The sidecar's database: one SQLite file (the default) or PostgreSQL.

`connect(target)` opens either: a `Path` is the SQLite file in the data
directory, a `PostgresTarget` a server named by `sidecar.database` in
commsite.yaml. Both connections speak the same SQL (see protocol.py and
postgres.py); `transaction` and `migrate` work on both.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from commsite.database.migrations import Migration, migrate, postgres_ddl, versions
from commsite.database.protocol import Connection, Cursor, Dialect, Row
from commsite.database.sqlite import SQLiteConnection, connect_sqlite, connect_sqlite_readonly
from commsite.database.target import PostgresTarget, Target, describe, is_postgres_url, store_target
from commsite.database.transactions import transaction

__all__ = [
    "DATABASE_ERRORS",
    "OPERATIONAL_ERRORS",
    "Connection",
    "Cursor",
    "Dialect",
    "Migration",
    "PostgresTarget",
    "Row",
    "SQLiteConnection",
    "Target",
    "connect",
    "connect_readonly",
    "describe",
    "is_postgres_url",
    "migrate",
    "postgres_ddl",
    "store_target",
    "transaction",
    "versions",
]


def connect(target: Target, *, timeout: float = 30.0) -> Connection:
    """Open the database `target` names (a SQLite file is created if needed)."""
    if isinstance(target, Path):
        return connect_sqlite(target, timeout=timeout)
    from commsite.database.postgres import connect_postgres  # psycopg is optional

    return connect_postgres(target, timeout=timeout)


def connect_readonly(target: Target) -> Connection | None:
    """Open the database to read only; None when it is a SQLite file that does not exist."""
    if isinstance(target, Path):
        return connect_sqlite_readonly(target) if target.is_file() else None
    return connect(target)


def _errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    try:
        import psycopg
    except ImportError:
        return (sqlite3.Error,), (sqlite3.OperationalError,)
    return (sqlite3.Error, psycopg.Error), (sqlite3.OperationalError, psycopg.OperationalError)


# Any database error; and the ones worth retrying (locked, timed out, server gone).
DATABASE_ERRORS, OPERATIONAL_ERRORS = _errors()
