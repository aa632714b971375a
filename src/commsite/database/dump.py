"""A portable dump of a sidecar database: JSON lines, one table after another.

`commsite sidecar export-db` writes it and `import-db` reads it, on either
backend, which is how a community moves from SQLite to PostgreSQL (or back)
with nothing lost. The file is:

    {"format": "commsite-db-dump", "version": 1, "dialect": ..., "schema": {component: n}}
    {"table": NAME, "columns": [...], "rows": N, "counter": C}   then N lines, one row each
    ...
    {"end": true, "tables": T, "rows": R}

A row is a JSON array in the columns' order; bytes are {"base64": "..."}.
`counter` is the next-number high-water mark of a table numbered
automatically (inbox_items.seq, the number organisers type), so a number
once used is not handed out again after the move. The last line proves the
file is whole: an import without it changes nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from commsite.database.introspect import Table, tables
from commsite.database.migrations import versions
from commsite.database.protocol import Connection
from commsite.database.transactions import snapshot, transaction

__all__ = ["DumpError", "ImportReport", "export_dump", "import_dump", "row_counts"]

FORMAT = "commsite-db-dump"
VERSION = 1
_BATCH = 500


class DumpError(Exception):
    """The dump cannot be imported here (the message says why and what to do)."""


@dataclass(slots=True)
class ImportReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows imported
    replaced: bool = False  # --force emptied a database that had rows


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        encoded = value.get("base64")
        try:
            return base64.b64decode(str(encoded), validate=True)
        except ValueError:
            raise DumpError(f"a value is neither text, number nor bytes: {value!r:.80}") from None
    if isinstance(value, list):
        raise DumpError(f"a value is neither text, number nor bytes: {value!r:.80}")
    return value


def _line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def export_dump(conn: Connection, out: TextIO) -> dict[str, int]:
    """Write the whole database to `out`, in one read transaction (a consistent
    snapshot while the sidecar keeps running); rows per table."""
    counts: dict[str, int] = {}
    with snapshot(conn):
        out.write(
            _line(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "dialect": conn.dialect,
                    "schema": versions(conn),
                }
            )
        )
        found = tables(conn)
        for table in found:
            rows = conn.execute(_select(table)).fetchall()
            out.write(
                _line(
                    {
                        "table": table.name,
                        "columns": list(table.columns),
                        "rows": len(rows),
                        "counter": _counter(conn, table),
                    }
                )
            )
            for row in rows:
                out.write(_line([_encode(v) for v in row]))
            counts[table.name] = len(rows)
        out.write(_line({"end": True, "tables": len(found), "rows": sum(counts.values())}))
    return counts


def _select(table: Table) -> str:
    order = ", ".join(f'"{c}"' for c in table.key or table.columns)
    columns = ", ".join(f'"{c}"' for c in table.columns)
    return f'SELECT {columns} FROM "{table.name}" ORDER BY {order}'


def _counter(conn: Connection, table: Table) -> int | None:
    if table.counter is None:
        return None
    row = conn.execute(f'SELECT MAX("{table.counter}") FROM "{table.name}"').fetchone()
    highest = int(row[0] or 0)
    if conn.dialect == "sqlite":
        if _autoincrement(conn, table.name):
            seq = conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = ?", (table.name,)
            ).fetchone()
            highest = max(highest, int(seq[0]) if seq else 0)
    else:
        seq = conn.execute(
            "SELECT pg_sequence_last_value(pg_get_serial_sequence(?, ?))",
            (f'"{table.name}"', table.counter),
        ).fetchone()
        highest = max(highest, int(seq[0] or 0))
    return highest


def _autoincrement(conn: Connection, name: str) -> bool:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    return row is not None and "AUTOINCREMENT" in str(row[0]).upper()


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows in every data table."""
    return {
        t.name: int(conn.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0])
        for t in tables(conn)
    }


def import_dump(conn: Connection, lines: Iterable[str], *, force: bool = False) -> ImportReport:
    """Load a dump into `conn`'s database, migrated to the same schema versions.

    One transaction: a dump that is cut short, from another schema, or that
    does not fit changes nothing. A database that already holds rows is
    refused unless `force`, which empties it first."""
    stream = _parsed(lines)
    try:
        header = next(stream, None)
    except DumpError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DumpError("not a commsite database dump (written by `commsite sidecar export-db`)")
    if header.get("version") != VERSION:
        raise DumpError(f"dump format version {header.get('version')} is not {VERSION}")
    report = ImportReport()
    with transaction(conn):
        _check_schema(dict(header.get("schema") or {}), versions(conn))
        here = {t.name: t for t in tables(conn)}
        full = {name: n for name, n in row_counts(conn).items() if n}
        if full:
            if not force:
                listed = ", ".join(f"{name} ({n})" for name, n in sorted(full.items()))
                raise DumpError(
                    f"the database already holds rows: {listed}; import into an empty"
                    " database, or pass --force to replace what it holds"
                )
            for table in reversed(list(here.values())):
                conn.execute(f'DELETE FROM "{table.name}"')
            report.replaced = True
        ended = False
        for item in stream:
            if isinstance(item, dict) and item.get("end"):
                expected = item.get("rows")
                if expected != sum(report.rows.values()):
                    raise DumpError(
                        f"the dump says {expected} rows but holds {sum(report.rows.values())}"
                    )
                ended = True
                break
            if not isinstance(item, dict) or "table" not in item:
                raise DumpError("a row outside any table: the dump is damaged")
            report.rows[item["table"]] = _load_table(conn, here, item, stream)
        if not ended:
            raise DumpError("the dump ends early (no end line): nothing was imported")
    return report


def _parsed(lines: Iterable[str]) -> Iterator[Any]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise DumpError(f"line {number} is not JSON ({exc.msg})") from None


def _check_schema(dumped: dict[str, Any], here: dict[str, int]) -> None:
    for component, version in sorted(dumped.items()):
        mine = here.get(component)
        if mine != version:
            raise DumpError(
                f"the dump's {component} tables are at schema version {version}, this"
                f" database's at {mine or 'none'}: export and import with the same commsite"
                " version (run `commsite sidecar migrate` on the old database, then export)"
            )


def _load_table(
    conn: Connection, here: dict[str, Table], head: dict[str, Any], stream: Iterator[Any]
) -> int:
    name = str(head["table"])
    if not isinstance(head.get("columns"), list) or not isinstance(head.get("rows"), int):
        raise DumpError(f"{name}: the table's header is damaged (columns, rows)")
    table = here.get(name)
    if table is None:
        raise DumpError(f"the dump has a table {name!r} this database does not")
    columns = [str(c) for c in head["columns"]]
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise DumpError(f"the dump's {name} has columns this database does not: {unknown}")
    sql = (
        f'INSERT INTO "{name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)})'
        f" VALUES ({', '.join('?' for _ in columns)})"
    )
    expected = int(head["rows"])
    batch: list[list[Any]] = []
    done = 0
    for _ in range(expected):
        row = next(stream, None)
        if not isinstance(row, list) or len(row) != len(columns):
            raise DumpError(
                f"{name}: row {done + len(batch) + 1} of {expected} is missing or damaged"
            )
        batch.append([_decode(v) for v in row])
        if len(batch) >= _BATCH:
            conn.executemany(sql, batch)
            done += len(batch)
            batch = []
    if batch:
        conn.executemany(sql, batch)
        done += len(batch)
    counter = head.get("counter")
    if table.counter is not None and counter:
        _set_counter(conn, table, int(counter))
    return done


def _set_counter(conn: Connection, table: Table, value: int) -> None:
    if conn.dialect == "sqlite":
        if _autoincrement(conn, table.name):
            conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table.name,))
            conn.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table.name, value)
            )
    else:
        conn.execute(
            "SELECT setval(pg_get_serial_sequence(?, ?), ?)",
            (f'"{table.name}"', table.counter, value),
        )
