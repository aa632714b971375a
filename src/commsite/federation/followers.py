"""The community actor's followers: who they are and where their inboxes are.

The sidecar adds a follower when it accepts a Follow and removes one on
Undo{Follow}; delivery removes the followers behind an inbox that answers
410 Gone. `delivery_inboxes` is the fan-out list: one entry per shared inbox
(every follower on one Mastodon instance shares it), else the personal inbox.

Stored as the "followers" component of the data directory's database
(`DataDir.database`, opened with `commsite.database.connect`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from commsite.database import Connection, Row, migrate

__all__ = ["Follower", "FollowerStore"]

COMPONENT = "followers"

MIGRATIONS = (
    """
    CREATE TABLE followers (
        actor TEXT PRIMARY KEY,
        inbox TEXT NOT NULL,
        shared_inbox TEXT,
        follow_id TEXT,
        since TEXT NOT NULL,
        handle TEXT
    );
    CREATE INDEX followers_by_inbox ON followers (inbox);
    CREATE INDEX followers_by_shared_inbox ON followers (shared_inbox);
    """,
)


@dataclass(frozen=True, slots=True)
class Follower:
    actor: str  # the follower's actor id (URL)
    inbox: str
    shared_inbox: str | None  # endpoints.sharedInbox, if the server has one
    follow_id: str | None  # id of the Follow we accepted
    since: datetime  # aware
    handle: str | None = None  # "@user@host", for people reading lists

    @property
    def delivery_inbox(self) -> str:
        """Where activities for this follower go: the shared inbox if any."""
        return self.shared_inbox or self.inbox


class FollowerStore:
    """The follower list in SQLite.

    Every write is a single statement (or, in `add`, two that are each safe to
    race), so the store works inside or outside a caller's transaction.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        migrate(conn, COMPONENT, MIGRATIONS)

    @property
    def connection(self) -> Connection:
        return self._conn

    def add(self, follower: Follower) -> bool:
        """Insert, or update the follower with the same actor. True if new.

        A repeated Follow (Mastodon re-sends one when it is unsure) updates the
        inboxes, Follow id and handle but keeps the original `since`.
        """
        inserted = self._conn.execute(
            "INSERT INTO followers"
            " (actor, inbox, shared_inbox, follow_id, since, handle) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (
                follower.actor,
                follower.inbox,
                follower.shared_inbox,
                follower.follow_id,
                follower.since.astimezone(UTC).isoformat(),
                follower.handle,
            ),
        ).rowcount
        if inserted:
            return True
        self._conn.execute(
            "UPDATE followers SET inbox = ?, shared_inbox = ?, follow_id = ?,"
            " handle = COALESCE(?, handle) WHERE actor = ?",
            (
                follower.inbox,
                follower.shared_inbox,
                follower.follow_id,
                follower.handle,
                follower.actor,
            ),
        )
        return False

    def remove(self, actor: str) -> bool:
        """Forget one follower (Undo{Follow}, Delete{Actor}). True if it was there."""
        cursor = self._conn.execute("DELETE FROM followers WHERE actor = ?", (actor,))
        return cursor.rowcount > 0

    def remove_by_inbox(self, inbox: str) -> int:
        """Forget every follower delivered through `inbox` (it answered 410 Gone)."""
        cursor = self._conn.execute(
            "DELETE FROM followers WHERE inbox = ? OR shared_inbox = ?", (inbox, inbox)
        )
        return cursor.rowcount

    def get(self, actor: str) -> Follower | None:
        row = self._conn.execute(
            "SELECT actor, inbox, shared_inbox, follow_id, since, handle"
            " FROM followers WHERE actor = ?",
            (actor,),
        ).fetchone()
        return None if row is None else _follower(row)

    def all(self) -> list[Follower]:
        """Every follower, oldest first (then by actor)."""
        rows = self._conn.execute(
            "SELECT actor, inbox, shared_inbox, follow_id, since, handle"
            " FROM followers ORDER BY since, actor"
        ).fetchall()
        return [_follower(row) for row in rows]

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM followers").fetchone()[0])

    def delivery_inboxes(self) -> list[str]:
        """One inbox per shared inbox, else each personal inbox; sorted, no repeats."""
        rows = self._conn.execute(
            "SELECT DISTINCT COALESCE(shared_inbox, inbox) FROM followers ORDER BY 1"
        ).fetchall()
        return [str(row[0]) for row in rows]


def _follower(row: Row | tuple[object, ...]) -> Follower:
    actor, inbox, shared_inbox, follow_id, since, handle = tuple(row)
    return Follower(
        actor=str(actor),
        inbox=str(inbox),
        shared_inbox=None if shared_inbox is None else str(shared_inbox),
        follow_id=None if follow_id is None else str(follow_id),
        since=datetime.fromisoformat(str(since)),
        handle=None if handle is None else str(handle),
    )
