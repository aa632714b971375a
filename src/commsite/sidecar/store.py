"""The sidecar's tables in the site's SQLite file, and the queries over them.

Everything the inbox accepts is a row in `inbox_activities` before the 202 is
sent (admission commits first, then answers). Processing turns activities into
`inbox_items` (replies, introductions, messages and reports a person may
read), `inbox_reactions` (likes and boosts), `inbox_tombstones` (deleted ids
that must never come back) and the follower list (owned by
commsite.federation.followers). Moderation decisions go to
`moderation_decisions`, an append-only log.

Connections are per thread (`threading.local`): waitress answers on several
threads and the processing worker runs on another; SQLite in WAL mode lets
them all work on the one file, and `BEGIN IMMEDIATE` serialises the writers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from commsite.content.network_text import clean_text
from commsite.database import Connection, Migration, Target, connect, migrate, transaction
from commsite.federation.delivery import DeliveryQueue
from commsite.federation.followers import FollowerStore

__all__ = ["MIGRATIONS", "Store", "iso"]

MIGRATIONS: list[str | Migration] = [
    """
    CREATE TABLE inbox_activities (
      id TEXT PRIMARY KEY,              -- the activity's id; kept forever (dedupe, replay)
      type TEXT NOT NULL,
      actor TEXT NOT NULL,
      key_id TEXT NOT NULL,
      body TEXT,                        -- raw JSON as received; NULL once purged
      received_at TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'queued',
      -- queued | processing | retry | done | ignored | refused | failed | purged
      -- (later: dead, a dead letter; discarded, a dead letter given up: see worker.py)
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TEXT,
      lease_until TEXT,
      outcome TEXT                      -- what processing did, or why it failed
    );
    CREATE INDEX inbox_activities_due ON inbox_activities (state, next_attempt_at);
    CREATE INDEX inbox_activities_actor ON inbox_activities (actor);

    CREATE TABLE inbox_keys (
      key_id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      pem TEXT NOT NULL,
      fetched_at TEXT NOT NULL
    );

    CREATE TABLE inbox_actors (
      id TEXT PRIMARY KEY,
      handle TEXT NOT NULL,             -- "@user@host"
      name TEXT NOT NULL,
      url TEXT,
      avatar TEXT,
      inbox TEXT,
      shared_inbox TEXT,
      fetched_at TEXT NOT NULL
    );

    CREATE TABLE inbox_items (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the number organisers type
      ap_id TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,               -- reply | introduction | message | report
      actor TEXT NOT NULL,
      target TEXT,                      -- "stories/SLUG" / "events/SLUG" for replies
      in_reply_to TEXT,
      content_html TEXT NOT NULL,       -- sanitised
      summary TEXT,
      sensitive INTEGER NOT NULL DEFAULT 0,
      url TEXT,
      tags TEXT NOT NULL DEFAULT '[]',  -- JSON list (hashtags; reported ids for reports)
      published TEXT NOT NULL,
      updated TEXT,
      status TEXT NOT NULL,             -- pending | approved | rejected
      hold_reason TEXT,
      received_at TEXT NOT NULL
    );
    CREATE INDEX inbox_items_status ON inbox_items (status, kind);
    CREATE INDEX inbox_items_actor ON inbox_items (actor);

    CREATE TABLE inbox_reactions (
      activity_id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,               -- like | boost
      actor TEXT NOT NULL,
      object TEXT NOT NULL,
      target TEXT NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (kind, actor, object)
    );

    CREATE TABLE inbox_tombstones (
      id TEXT PRIMARY KEY,
      actor TEXT,
      deleted_at TEXT NOT NULL
    );

    CREATE TABLE moderation_blocks (
      kind TEXT NOT NULL,               -- actor | domain
      value TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (kind, value)
    );

    CREATE TABLE moderation_decisions (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      action TEXT NOT NULL,             -- approve | reject | block-actor | block-domain
      subject TEXT NOT NULL,            -- item number, actor or domain
      item_ap_id TEXT,
      actor TEXT,
      rule INTEGER,
      note TEXT
    );
    """,
    # A like or boost counts once per person and story or event, however the
    # object was named (its ActivityPub id or its page URL): keep the first of
    # any duplicates already stored, then let the index refuse new ones.
    # (PostgreSQL came later: its tables start empty, so only the index.)
    Migration(
        """
    DELETE FROM inbox_reactions WHERE rowid NOT IN (
      SELECT MIN(rowid) FROM inbox_reactions GROUP BY kind, actor, target
    );
    CREATE UNIQUE INDEX inbox_reactions_once ON inbox_reactions (kind, actor, target);
    """,
        postgresql="CREATE UNIQUE INDEX inbox_reactions_once"
        " ON inbox_reactions (kind, actor, target);",
    ),
    # The actor's FEP-2c59 `webfinger` handle, when its server declares one
    # (see commsite.sidecar.profiles); a member may be listed by either handle.
    """
    ALTER TABLE inbox_actors ADD COLUMN webfinger TEXT;
    """,
    # The host's welcome replies to introductions (see commsite.sidecar.welcome):
    # one decision per introduction, sent or skipped, and whom a sent one
    # introduced (what the fairness of later proposals counts).
    """
    CREATE TABLE welcome_replies (
      introduction TEXT PRIMARY KEY,    -- the introduction's ActivityPub id (inbox_items.ap_id)
      newcomer TEXT NOT NULL,           -- the newcomer's actor URL
      status TEXT NOT NULL,             -- sent | skipped
      note_id TEXT,                     -- our Note's id, when sent
      activity_id TEXT,                 -- its Create's id (delivery_rows.activity_id)
      content_html TEXT,                -- what was sent
      decided_at TEXT NOT NULL
    );
    CREATE TABLE welcome_mentions (
      introduction TEXT NOT NULL REFERENCES welcome_replies (introduction),
      member TEXT NOT NULL,             -- member id (content/members/ID.md)
      handle TEXT NOT NULL,
      actor TEXT NOT NULL,
      shared TEXT NOT NULL DEFAULT '[]', -- JSON list: the interests the welcome named
      PRIMARY KEY (introduction, member)
    );
    CREATE INDEX welcome_mentions_member ON welcome_mentions (member);
    """,
    # RSVPs (sidecar/rsvp_intake.py): one answer per person per event; a later
    # answer replaces the row. `activity_id` is what carried it (a Join, an
    # Accept, a reply, a vote), so an Undo of it finds the row; `join_id` and
    # `accept_id` are a Join's and the Accept we sent (NULL while waiting).
    # rsvp_polls: which events' poll counts changed since the last Update.
    """
    CREATE TABLE rsvps (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the number organisers type (r12)
      event TEXT NOT NULL,              -- the event's slug
      actor TEXT NOT NULL,
      answer TEXT NOT NULL,             -- going | maybe | not_going
      via TEXT NOT NULL,                -- reply | poll | join | accept | tentative | reject
      waiting INTEGER NOT NULL DEFAULT 0,
      public INTEGER NOT NULL DEFAULT 0,
      activity_id TEXT NOT NULL,
      reply_id TEXT,
      reply_url TEXT,
      join_id TEXT,
      accept_id TEXT,
      excerpt TEXT NOT NULL DEFAULT '',
      answered_at TEXT NOT NULL,
      status TEXT NOT NULL,             -- pending | approved | rejected
      hold_reason TEXT,
      UNIQUE (event, actor)
    );
    CREATE INDEX rsvps_activity ON rsvps (activity_id);
    CREATE INDEX rsvps_status ON rsvps (status);

    CREATE TABLE rsvp_capacity (      -- the capacity last seen (moderation rebalances with it)
      event TEXT PRIMARY KEY,
      capacity INTEGER
    );

    CREATE TABLE rsvp_polls (
      event TEXT PRIMARY KEY,
      changed_at TEXT,                  -- NULL: the last Update has the current counts
      sent_at TEXT,
      closed_at TEXT                    -- when the last Update (the poll closed) was sent
    );
    """,
    # One job queue (commsite.jobs): a claim's lease names its holder, so a
    # settle by a claimer whose lease was taken over records nothing.
    """
    ALTER TABLE inbox_activities ADD COLUMN lease_token TEXT;
    CREATE INDEX inbox_activities_lease ON inbox_activities (lease_token);
    """,
    # PostgreSQL: the object id of a Create/Update body, or NULL when the body is
    # not JSON PostgreSQL can read (what SQLite's json_valid/json_extract answer
    # in create_waits). Nothing to do on SQLite.
    Migration(
        "",
        postgresql="""
    CREATE FUNCTION commsite_object_id(body TEXT) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
      RETURN body::jsonb -> 'object' ->> 'id';
    EXCEPTION WHEN others THEN
      RETURN NULL;
    END
    $$;
    """,
    ),
    # The per-domain rate limits when several processes share the database
    # (sidecar/ratelimit_store.py): one token bucket per key, times in epoch seconds.
    """
    CREATE TABLE inbox_rate_limits (
      key TEXT PRIMARY KEY,
      tokens REAL NOT NULL,
      last REAL NOT NULL,
      allowed INTEGER NOT NULL DEFAULT 1  -- whether the last take found a token
    );
    """,
]


def iso(moment: datetime) -> str:
    """Timestamps are stored as UTC ISO 8601 text, which sorts correctly."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Store:
    """The database (a SQLite file, or PostgreSQL), one connection per thread."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._local = threading.local()
        self._all: list[Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        migrate(self.conn, "inbox", MIGRATIONS)

    @property
    def path(self) -> Path | None:
        """The SQLite file; None when the store is PostgreSQL."""
        return self.target if isinstance(self.target, Path) else None

    @property
    def conn(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.broken:
            # PostgreSQL went away (a restart, a failover): what failed on the old
            # connection raised, and was retried or answered 500; reconnect for the next.
            with self._lock:
                self._all.remove(conn)
            conn.close()
            conn = None
        if conn is None:
            conn = connect(self.target)
            self._local.conn = conn
            # Their migrations open transactions: run them before any caller's.
            self._local.followers = FollowerStore(conn)
            self._local.deliveries = DeliveryQueue(conn)
            with self._lock:
                self._all.append(conn)
        return conn

    @property
    def followers(self) -> FollowerStore:
        """The follower list, on this thread's connection (joins its transactions)."""
        self.conn  # noqa: B018  (opens the connection, and the stores, on first use)
        store: FollowerStore = self._local.followers
        return store

    @property
    def deliveries(self) -> DeliveryQueue:
        """The delivery queue, on this thread's connection (joins its transactions)."""
        self.conn  # noqa: B018
        queue: DeliveryQueue = self._local.deliveries
        return queue

    @contextmanager
    def transaction(self, *, serialised: bool = True) -> Iterator[Connection]:
        """BEGIN IMMEDIATE ... COMMIT; when this returns, the data is on disk.

        Writers in this process queue on a lock first: SQLite's own busy wait
        sleeps in growing steps, which under load turns into long tail
        latencies; the lock hands the file over in order. (Other processes,
        such as `commsite moderate` or more gunicorn workers, still meet at
        SQLite's lock and its busy_timeout.) On PostgreSQL a serialised
        transaction takes the database's writer lock, which is SQLite's
        guarantee across processes; `serialised=False` is for statements that
        are safe on their own, and lets them run side by side (see
        commsite.database.transactions).
        """
        conn = self.conn
        if conn.dialect == "sqlite" or serialised:
            with self._write_lock, transaction(conn):
                yield conn
        else:
            with transaction(conn, serialised=False):
                yield conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # --- admission ---------------------------------------------------------

    def add_activity(
        self, *, activity_id: str, type_: str, actor: str, key_id: str, body: str, now: datetime
    ) -> bool:
        """Store an admitted activity durably; False when its id was already stored.

        The id, type, actor and key id come from the network: cleaned (see
        text.py) as processing cleans the body, so a lone surrogate in one
        cannot make the row unstorable and the ids compare the same. The body
        is kept as received (it is valid UTF-8, hence always storable)."""
        activity_id, type_, actor, key_id = (
            clean_text(t) for t in (activity_id, type_, actor, key_id)
        )
        # One statement, atomic on its own: on PostgreSQL two processes storing
        # the same id at once meet at the primary key, and one of them stores it.
        with self.transaction(serialised=False) as conn:
            cursor = conn.execute(
                "INSERT INTO inbox_activities"
                " (id, type, actor, key_id, body, received_at, next_attempt_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (activity_id, type_, actor, key_id, body, iso(now), iso(now)),
            )
            return cursor.rowcount == 1

    def queue_length(self) -> int:
        row = self.conn.execute(
            "SELECT COUNT(*) FROM inbox_activities WHERE state IN ('queued', 'retry', 'processing')"
        ).fetchone()
        return int(row[0])

    def waits(self, activity_id: str) -> bool:
        """An activity with this id is stored and not processed yet."""
        row = self.conn.execute(
            "SELECT 1 FROM inbox_activities WHERE id = ?"
            " AND state IN ('queued', 'retry', 'processing')",
            (activity_id,),
        ).fetchone()
        return row is not None

    def create_waits(self, note_id: str) -> bool:
        """A Create or Update of this note is stored and not processed yet. (A body
        SQLite's JSON cannot read, NaN say, is skipped rather than an error.)"""
        conn = self.conn
        object_id = (
            "CASE WHEN json_valid(body) THEN json_extract(body, '$.object.id') END"
            if conn.dialect == "sqlite"
            else "commsite_object_id(body)"
        )
        row = conn.execute(
            "SELECT 1 FROM inbox_activities WHERE state IN ('queued', 'retry', 'processing')"
            f" AND type IN ('Create', 'Update') AND body IS NOT NULL AND {object_id} = ?"
            " LIMIT 1",
            (note_id,),
        ).fetchone()
        return row is not None

    def dead_letters(self) -> int:
        """Activities processing could not handle (state 'dead'), waiting for a person."""
        row = self.conn.execute(
            "SELECT COUNT(*) FROM inbox_activities WHERE state = 'dead'"
        ).fetchone()
        return int(row[0])
