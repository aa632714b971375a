"""What tables a database holds, their columns, and their counters, on either backend.

The dump (dump.py) reads these instead of a list kept by hand, so a table a
later migration adds is exported and imported without anyone remembering to.
"""

from __future__ import annotations

from dataclasses import dataclass

from commsite.database.protocol import Connection

__all__ = ["Table", "tables"]

# Bookkeeping, not data: schema_migrations goes in the dump's header instead.
_SKIPPED = frozenset({"schema_migrations", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"})


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key's columns (the dump's row order)
    counter: str | None  # the column numbered automatically (AUTOINCREMENT / identity)
    parents: tuple[str, ...]  # tables its foreign keys point to


def tables(conn: Connection) -> list[Table]:
    """Every data table, parents before children (the order an import can insert in)."""
    found = _sqlite_tables(conn) if conn.dialect == "sqlite" else _postgres_tables(conn)
    return _parents_first(found)


def _sqlite_tables(conn: Connection) -> list[Table]:
    names = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
    ]
    found: list[Table] = []
    for name in names:
        if name in _SKIPPED or name.startswith("sqlite_"):
            continue
        info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        columns = tuple(str(r["name"]) for r in info)
        key = tuple(str(r["name"]) for r in sorted((r for r in info if r["pk"]), key=_pk_order))
        counter = None
        if len(key) == 1:
            (row,) = [r for r in info if r["name"] == key[0]]
            if str(row["type"]).upper() == "INTEGER":
                counter = key[0]  # a rowid alias: numbered when left out
        parents = tuple(
            sorted({str(r["table"]) for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')})
        )
        found.append(Table(name, columns, key, counter, parents))
    return found


def _pk_order(row: object) -> int:
    return int(row["pk"])  # type: ignore[index]


def _postgres_tables(conn: Connection) -> list[Table]:
    rows = conn.execute(
        "SELECT table_name, column_name, is_identity FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    counters: dict[str, str] = {}
    for r in rows:
        columns.setdefault(str(r[0]), []).append(str(r[1]))
        if r[2] == "YES":
            counters[str(r[0])] = str(r[1])
    keys: dict[str, list[str]] = {}
    for r in conn.execute(
        "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc"
        " JOIN information_schema.key_column_usage kcu"
        " ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema"
        " WHERE tc.table_schema = current_schema() AND tc.constraint_type = 'PRIMARY KEY'"
        " ORDER BY tc.table_name, kcu.ordinal_position"
    ).fetchall():
        keys.setdefault(str(r[0]), []).append(str(r[1]))
    parents: dict[str, set[str]] = {}
    for r in conn.execute(
        "SELECT tc.table_name, ccu.table_name FROM information_schema.table_constraints tc"
        " JOIN information_schema.constraint_column_usage ccu"
        " ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema"
        " WHERE tc.table_schema = current_schema() AND tc.constraint_type = 'FOREIGN KEY'"
    ).fetchall():
        parents.setdefault(str(r[0]), set()).add(str(r[1]))
    return [
        Table(
            name,
            tuple(cols),
            tuple(keys.get(name, ())),
            counters.get(name),
            tuple(sorted(parents.get(name, ()))),
        )
        for name, cols in sorted(columns.items())
        if name not in _SKIPPED
    ]


def _parents_first(found: list[Table]) -> list[Table]:
    by_name = {t.name: t for t in found}
    ordered: list[Table] = []
    seen: set[str] = set()

    def visit(table: Table) -> None:
        if table.name in seen:
            return
        seen.add(table.name)
        for parent in table.parents:
            if parent in by_name and parent != table.name:
                visit(by_name[parent])
        ordered.append(table)

    for table in found:
        visit(table)
    return ordered
