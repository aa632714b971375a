"""What the sidecar's code may use of a database connection, on either backend.

`sqlite3.Connection` (through `SQLiteConnection`) and `PostgresConnection` both
satisfy these protocols, so the stores are written once: `?` placeholders,
rows indexed by position or column name, `rowcount`, explicit transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, Protocol

__all__ = ["Connection", "Cursor", "Dialect", "Row"]

Dialect = Literal["sqlite", "postgresql"]


class Row(Protocol):
    """A result row: `row[0]` and `row["column"]`, like sqlite3.Row."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The connection the stores use. `dialect` says which SQL the few
    statements that cannot be portable (JSON, row locks) should speak."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def in_transaction(self) -> bool: ...

    @property
    def broken(self) -> bool:
        """The connection is lost (a PostgreSQL server went away): open another."""
        ...

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...

    def close(self) -> None: ...
