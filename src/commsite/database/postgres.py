"""PostgreSQL through psycopg 3, speaking the same SQL as the SQLite store.

The stores' statements are written once, with `?` placeholders; this module
turns them into psycopg's `%s` (outside string literals and quoted names),
gives rows that behave like sqlite3.Row (`row[0]`, `row["column"]`), sends
Python booleans as the 0/1 integers the schema holds, and reads `numeric`
(what SUM and AVG answer) back as int or float, as SQLite would.

Transactions are explicit, as on SQLite: the connection is in autocommit mode
and `commsite.database.transaction` sends BEGIN/COMMIT (see there for the
writer lock that stands in for SQLite's BEGIN IMMEDIATE).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, Final

import psycopg
from psycopg import pq
from psycopg.adapt import Loader

from commsite.database.target import PostgresTarget

__all__ = ["PostgresConnection", "PostgresRow", "connect_postgres", "translate"]


class PostgresRow:
    """A result row with sqlite3.Row's manners: by index, by (case-insensitive) name."""

    __slots__ = ("_index", "_names", "_values")

    def __init__(self, names: list[str], index: dict[str, int], values: Sequence[Any]) -> None:
        self._names = names
        self._index = index
        self._values = tuple(values)

    def __getitem__(self, key: int | str, /) -> Any:
        if isinstance(key, str):
            try:
                return self._values[self._index[key.lower()]]
            except KeyError:
                raise IndexError(f"no item with key {key!r}") from None
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PostgresRow):
            return self._names == other._names and self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"PostgresRow({dict(zip(self._names, self._values, strict=True))!r})"


def _row_factory(cursor: psycopg.Cursor[Any]) -> Callable[[Sequence[Any]], PostgresRow]:
    names = [column.name for column in cursor.description or ()]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name.lower(), i)
    return lambda values: PostgresRow(names, index, values)


class _NumberLoader(Loader):
    """numeric -> int when whole, else float (SQLite's SUM/AVG answer those)."""

    def load(self, data: Any) -> int | float:
        number = Decimal(bytes(data).decode("ascii"))
        if number == number.to_integral_value():
            return int(number)
        return float(number)


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """`?` -> `%s` and `%` -> `%%`, leaving string literals, quoted names and comments alone."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == c:
                    if end + 1 < n and sql[end + 1] == c:  # '' or "" inside
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "?":
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _params(parameters: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(int(p) if isinstance(p, bool) else p for p in parameters)


class PostgresConnection:
    """One psycopg connection (autocommit; transactions are explicit)."""

    dialect: Final = "postgresql"

    def __init__(self, raw: psycopg.Connection[PostgresRow]) -> None:
        self.raw = raw
        # As sqlite3 does: a connection nobody holds any more is closed, quietly.
        # (The finaliser holds `raw`, so psycopg's own, which warns, cannot come first.)
        weakref.finalize(self, raw.close)

    @property
    def broken(self) -> bool:
        """The server went away: this connection is useless, open another."""
        return self.raw.broken or self.raw.closed

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[PostgresRow]:
        if not parameters:
            return self.raw.execute(sql)  # no parameters: psycopg sends it as it is
        return self.raw.execute(translate(sql), _params(parameters))

    def executemany(
        self, sql: str, parameters: Iterable[Sequence[Any]], /
    ) -> psycopg.Cursor[PostgresRow]:
        cursor = self.raw.cursor()
        cursor.executemany(translate(sql), [_params(p) for p in parameters])
        return cursor

    def close(self) -> None:
        self.raw.close()


def connect_postgres(target: PostgresTarget, *, timeout: float = 30.0) -> PostgresConnection:
    """Connect; a wait for a lock longer than `timeout` is an error, as SQLite's busy_timeout."""
    extra: dict[str, Any] = {}
    password = target.password()
    if password is not None:
        extra["password"] = password
    raw = psycopg.connect(
        target.url,
        autocommit=True,
        row_factory=_row_factory,
        connect_timeout=max(1, int(timeout)),
        **extra,
    )
    raw.adapters.register_loader("numeric", _NumberLoader)
    raw.execute(f"SET lock_timeout = {int(timeout * 1000)}")
    return PostgresConnection(raw)
