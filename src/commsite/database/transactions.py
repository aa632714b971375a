"""Explicit transactions, durable when they return, on either backend.

SQLite: `BEGIN IMMEDIATE` takes the file's one write lock at once, so a
transaction that reads and then writes can rely on nothing changing between
(every store does). PostgreSQL has no such lock; a serialised transaction
takes one advisory lock (`pg_advisory_xact_lock`) right after BEGIN, which
gives exactly SQLite's guarantee across every process sharing the database,
and is released by COMMIT or ROLLBACK. A statement that is safe on its own
(an INSERT ... ON CONFLICT DO NOTHING, a claim with FOR UPDATE SKIP LOCKED)
can pass `serialised=False` and run beside the others on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from commsite.database.protocol import Connection

__all__ = ["snapshot", "transaction"]

WRITER_LOCK = 0x636F6D6D73697465  # b"commsite" as an integer: the advisory lock's key


@contextmanager
def transaction(conn: Connection, *, serialised: bool = True) -> Iterator[None]:
    """BEGIN ... COMMIT (durable when it returns), ROLLBACK on any exception.

    Nests: inside a transaction the caller already opened, it adds nothing, so
    functions can require a transaction without knowing whether one is open.
    """
    if conn.in_transaction:
        yield
        return
    if conn.dialect == "sqlite":
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn.execute("BEGIN")
        if serialised:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK,))
    try:
        yield
    except BaseException:
        _rollback(conn)
        raise
    conn.execute("COMMIT")


@contextmanager
def snapshot(conn: Connection) -> Iterator[None]:
    """A read-only transaction that sees one moment of the database while writers
    go on (SQLite: a deferred BEGIN in WAL mode; PostgreSQL: REPEATABLE READ)."""
    if conn.dialect == "sqlite":
        conn.execute("BEGIN")
    else:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield
    finally:
        _rollback(conn)  # nothing was written


def _rollback(conn: Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except Exception:
        # The connection itself failed (the server went away): the transaction
        # is gone with it, and the caller's exception says why.
        if conn.dialect == "sqlite":
            raise
