"""The sidecar's store (SQLite file or PostgreSQL) -> StoreSnapshot, read only.

A SQLite file is opened read-only (`mode=ro`): the report never migrates,
locks for writing or creates it; PostgreSQL is only read. Each table is
optional: a store from before a table existed gives None for what that table
holds, and no file at all gives an empty snapshot. Tables read:

* followers (federation/followers.py): actor, handle;
* inbox_items with kind 'introduction' and status 'pending', with the
  actor's name and handle from inbox_actors (sidecar/store.py);
* welcome_replies (sidecar/welcome_send.py): the introductions whose
  welcome was sent (status 'sent'; a skipped one leaves the newcomer
  unanswered).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from commsite.database import DATABASE_ERRORS, Connection, Target, connect_readonly, describe
from commsite.database.introspect import Table, tables
from commsite.errors import CommsiteError
from commsite.report.model import Follower, PendingIntroduction, StoreSnapshot

__all__ = ["read_store"]


def _tables(conn: Connection) -> dict[str, Table]:
    return {t.name: t for t in tables(conn)}


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _followers(conn: Connection) -> tuple[Follower, ...]:
    rows = conn.execute("SELECT actor, handle FROM followers ORDER BY since, actor").fetchall()
    return tuple(Follower(str(r[0]), None if r[1] is None else str(r[1])) for r in rows)


def _pending(conn: Connection, actors: bool) -> tuple[PendingIntroduction, ...]:
    if actors:
        query = (
            "SELECT i.seq, i.ap_id, i.actor, a.name, a.handle, i.published, i.url"
            " FROM inbox_items i LEFT JOIN inbox_actors a ON a.id = i.actor"
            " WHERE i.kind = 'introduction' AND i.status = 'pending' ORDER BY i.seq"
        )
    else:
        query = (
            "SELECT seq, ap_id, actor, NULL, NULL, published, url FROM inbox_items"
            " WHERE kind = 'introduction' AND status = 'pending' ORDER BY seq"
        )
    found = []
    for seq, ap_id, actor, name, handle, published, url in conn.execute(query).fetchall():
        try:
            when = _when(str(published))
        except ValueError:
            continue  # not a time: not ours to fix here
        found.append(
            PendingIntroduction(
                int(seq),
                str(ap_id),
                str(actor),
                str(name or handle or actor),
                str(handle or actor),
                when,
                None if url is None else str(url),
            )
        )
    return tuple(found)


def _welcomed(conn: Connection, tables: dict[str, Table]) -> frozenset[str] | None:
    if "welcome_replies" not in tables:
        return None
    columns = set(tables["welcome_replies"].columns)
    if not {"introduction", "status"} <= columns:
        return None
    rows = conn.execute("SELECT introduction FROM welcome_replies WHERE status = 'sent'").fetchall()
    return frozenset(str(r[0]) for r in rows if r[0] is not None)


def read_store(target: Target) -> StoreSnapshot:
    """What the report needs from the store `target` names; an empty snapshot when
    it is a SQLite file that does not exist. Raises CommsiteError when it cannot
    be read as a commsite database."""
    where = str(target) if isinstance(target, Path) else describe(target)
    try:
        conn = connect_readonly(target)
    except DATABASE_ERRORS as exc:
        raise CommsiteError(f"{where}: cannot open the sidecar's store: {exc}") from None
    if conn is None:
        return StoreSnapshot()
    try:
        tables = _tables(conn)
        return StoreSnapshot(
            followers=_followers(conn) if "followers" in tables else None,
            pending_introductions=(
                _pending(conn, "inbox_actors" in tables) if "inbox_items" in tables else None
            ),
            welcomed=_welcomed(conn, tables),
            path=where,
        )
    except DATABASE_ERRORS as exc:
        raise CommsiteError(
            f"{where}: cannot read the sidecar's store ({exc}); is it a commsite database?"
        ) from None
    finally:
        conn.close()
