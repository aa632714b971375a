"""The sidecar's SQLite file -> StoreSnapshot, read only.

The file is opened read-only (`mode=ro`): the report never migrates, locks
for writing or creates it. Each table is optional: a store from before a
table existed gives None for what that table holds, and no file at all gives
an empty snapshot. Tables read:

* followers (federation/followers.py): actor, handle;
* inbox_items with kind 'introduction' and status 'pending', with the
  actor's name and handle from inbox_actors (sidecar/store.py);
* welcome_replies (sidecar/welcome_send.py): the introductions whose
  welcome was sent (status 'sent'; a skipped one leaves the newcomer
  unanswered).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from commsite.errors import CommsiteError
from commsite.report.model import Follower, PendingIntroduction, StoreSnapshot

__all__ = ["read_store"]


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(r[0]) for r in rows}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")').fetchall()]


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _followers(conn: sqlite3.Connection) -> tuple[Follower, ...]:
    rows = conn.execute("SELECT actor, handle FROM followers ORDER BY since, actor").fetchall()
    return tuple(Follower(str(r[0]), None if r[1] is None else str(r[1])) for r in rows)


def _pending(conn: sqlite3.Connection, actors: bool) -> tuple[PendingIntroduction, ...]:
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


def _welcomed(conn: sqlite3.Connection, tables: set[str]) -> frozenset[str] | None:
    if "welcome_replies" not in tables:
        return None
    columns = set(_columns(conn, "welcome_replies"))
    if not {"introduction", "status"} <= columns:
        return None
    rows = conn.execute("SELECT introduction FROM welcome_replies WHERE status = 'sent'").fetchall()
    return frozenset(str(r[0]) for r in rows if r[0] is not None)


def read_store(path: Path) -> StoreSnapshot:
    """What the report needs from the store at `path`; an empty snapshot when
    there is no file. Raises CommsiteError when the file is not a database."""
    if not path.is_file():
        return StoreSnapshot()
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
    except sqlite3.Error as exc:
        raise CommsiteError(f"{path}: cannot open the sidecar's store: {exc}") from None
    try:
        tables = _tables(conn)
        return StoreSnapshot(
            followers=_followers(conn) if "followers" in tables else None,
            pending_introductions=(
                _pending(conn, "inbox_actors" in tables) if "inbox_items" in tables else None
            ),
            welcomed=_welcomed(conn, tables),
            path=str(path),
        )
    except sqlite3.Error as exc:
        raise CommsiteError(
            f"{path}: cannot read the sidecar's store ({exc}); is it a commsite database?"
        ) from None
    finally:
        conn.close()
