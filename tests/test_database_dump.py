"""export-db / import-db: a populated store moves SQLite -> PostgreSQL -> SQLite with nothing lost.

The store is filled the way the sidecar fills it (the Processor handling
replies, likes, a Follow, a Delete; moderation decisions; the delivery queue),
plus the tables nothing in this flow reaches (keys, RSVPs, welcome replies),
with the awkward values a portable layer must carry: non-BMP text, '?' and
'%' in text (placeholders to psycopg), bytes, NULLs, and a numbering gap
(the last item deleted) that must not be reused after the move.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import pg
from commsite.cli import main
from commsite.database import Connection, PostgresTarget, Target, connect
from commsite.database.dump import DumpError, export_dump, import_dump, row_counts
from commsite.database.introspect import tables
from commsite.sidecar import moderation
from commsite.sidecar import store as store_module
from commsite.sidecar.ratelimit_store import StoredRateLimiter
from commsite.sidecar.schema import migrate_all
from commsite.sidecar.store import Store, iso
from sidecar_peer import write_site
from test_sidecar_processing import BOB, EVE, MALLORY, NOW, STORY, US, act, make, note

INBOX = len(store_module.MIGRATIONS)  # the inbox component's schema version


def populate(tmp_path: Path) -> Store:
    """A SQLite store with something in every table."""
    p = make(tmp_path, approve="everyone", hold_keywords=("casino",))
    store = p.store
    migrate_all(store.conn)
    odd = note(BOB, 1, inReplyTo=STORY, content="<p>50% off? 🦜 «ça» 'quoted' \"too\"</p>")
    steps: list[dict[str, Any]] = [
        act("Create", BOB, odd),
        act("Create", EVE, note(EVE, 2, inReplyTo=odd["id"], summary="cw", sensitive=True)),
        act("Create", EVE, note(EVE, 3, inReplyTo=STORY, content="<p>my casino</p>")),
        act("Create", BOB, note(BOB, 4, inReplyTo=STORY)),
        act("Like", BOB, STORY),
        act("Announce", EVE, STORY, n=1),
        act("Follow", BOB, US),
        act("Delete", BOB, f"{BOB}/statuses/4"),
    ]
    for activity in steps:
        store.add_activity(
            activity_id=activity["id"],
            type_=activity["type"],
            actor=activity["actor"],
            key_id=activity["actor"] + "#main-key",
            body=json.dumps(activity, ensure_ascii=False),
            now=NOW,
        )
        p.process(activity)
    store.add_activity(
        activity_id=f"{MALLORY}/x?y=1%2",
        type_="Create",
        actor=MALLORY,
        key_id=MALLORY + "#main-key",
        body='{"id": "x", "value": NaN}',
        now=NOW,
    )
    limiter = StoredRateLimiter(store, rate=0.3, burst=2)
    for moment in (1_790_000_000.125, 1_790_000_000.5, 1_790_000_000.75):
        limiter.take("r.example", moment)  # a fractional bucket: REAL survives the move
    moderation.reject(store, "3", NOW + timedelta(minutes=1), rule=2, note="advert?")
    moderation.block(store, "domain", "evil.example", NOW + timedelta(minutes=2))
    store.deliveries.enqueue(
        {"id": "https://repair.example/ap/activities/1", "type": "Create", "object": {"id": "o"}},
        ["https://r.example/inbox", "https://other.example/users/x/inbox"],
        now=NOW,
    )
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_keys (key_id, owner, pem, fetched_at) VALUES (?, ?, ?, ?)",
            (BOB + "#main-key", BOB, "-----BEGIN PUBLIC KEY-----\nAAA\n", iso(NOW)),
        )
        conn.execute(
            "INSERT INTO rsvps (event, actor, answer, via, waiting, public, activity_id,"
            " excerpt, answered_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("knit-in", EVE, "going", "join", 1, 0, EVE + "/join/1", "", iso(NOW), "pending"),
        )
        conn.execute("INSERT INTO rsvp_capacity (event, capacity) VALUES ('knit-in', NULL)")
        conn.execute(  # a server in backoff (the delivery queue's host trouble)
            "INSERT INTO delivery_hosts (host, failures, retry_at, detail) VALUES (?, ?, ?, ?)",
            ("other.example", 2, iso(NOW + timedelta(minutes=5)), "no answer"),
        )
        conn.execute(
            "INSERT INTO welcome_replies (introduction, newcomer, status, decided_at)"
            " VALUES (?, ?, 'skipped', ?)",
            (f"{BOB}/statuses/1", BOB, iso(NOW)),
        )
        conn.execute(
            "INSERT INTO welcome_mentions (introduction, member, handle, actor, shared)"
            " VALUES (?, 'ada', '@ada@r.example', ?, '[\"bikes\"]')",
            (f"{BOB}/statuses/1", EVE),
        )
        conn.execute(
            "INSERT INTO rsvp_polls (event, changed_at) VALUES ('knit-in', ?)", (iso(NOW),)
        )
        conn.execute(
            "INSERT INTO publication_meta (key, value) VALUES ('baseline_recorded_at', ?)",
            (iso(NOW),),
        )
        conn.execute(
            "INSERT INTO publication_objects (object_id, sha256, recorded_at) VALUES (?, ?, ?)",
            (STORY, "ab" * 32, iso(NOW)),
        )
        # The newest item is deleted: its number stays used.
        conn.execute("DELETE FROM inbox_items WHERE seq = (SELECT MAX(seq) FROM inbox_items)")
    return store


def contents(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, by table, in key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in tables(conn):
        columns = ", ".join(table.columns)
        order = ", ".join(table.key or table.columns)
        rows = conn.execute(f"SELECT {columns} FROM {table.name} ORDER BY {order}").fetchall()
        out[table.name] = [tuple(r) for r in rows]
    return out


def dump(conn: Connection) -> str:
    out = io.StringIO()
    export_dump(conn, out)
    return out.getvalue()


def load(target: Target, text: str, *, force: bool = False) -> Connection:
    conn = connect(target)
    migrate_all(conn)
    import_dump(conn, io.StringIO(text), force=force)
    return conn


def test_a_populated_store_round_trips_sqlite_postgresql_sqlite(tmp_path: Path) -> None:
    store = populate(tmp_path)
    before = contents(store.conn)
    assert all(before.values()), {t: len(r) for t, r in before.items() if not r}  # every table
    first = dump(store.conn)
    store.close()

    pg.activate("postgresql")
    try:
        on_postgres = load(pg.target(tmp_path), first)
    finally:
        pg.activate()
    assert contents(on_postgres) == before
    second = dump(on_postgres)
    on_postgres.close()

    back = load(tmp_path / "back.sqlite3", second)
    assert contents(back) == before
    # The dumps differ only in the dialect that wrote them.
    assert second.replace('"dialect":"postgresql"', '"dialect":"sqlite"') == first
    assert dump(back) == first
    back.close()


@pytest.mark.usefixtures("backend")
def test_a_number_once_used_is_not_handed_out_again_after_the_move(tmp_path: Path) -> None:
    store = populate(tmp_path)
    # Items 1 to 4 were numbered; 4 (a Delete) and 3 (populate's last step) are gone.
    assert [r[0] for r in store.conn.execute("SELECT seq FROM inbox_items ORDER BY seq")] == [1, 2]
    text = dump(store.conn)
    store.close()
    moved = Store(pg.target(tmp_path / "moved.sqlite3"))
    migrate_all(moved.conn)
    import_dump(moved.conn, io.StringIO(text))
    with moved.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_items (ap_id, kind, actor, content_html, published, status,"
            " received_at) VALUES ('n', 'reply', ?, '', ?, 'pending', ?)",
            (BOB, iso(NOW), iso(NOW)),
        )
        new = conn.execute("SELECT seq FROM inbox_items WHERE ap_id = 'n'").fetchone()[0]
    assert new == 5
    moved.close()


@pytest.mark.usefixtures("backend")
def test_a_database_with_rows_is_refused_unless_forced(tmp_path: Path) -> None:
    store = populate(tmp_path)
    text = dump(store.conn)
    counts = row_counts(store.conn)
    with pytest.raises(DumpError, match=r"already holds rows: .*followers \(1\).*--force"):
        import_dump(store.conn, io.StringIO(text))
    report = import_dump(store.conn, io.StringIO(text), force=True)
    assert report.replaced
    assert row_counts(store.conn) == counts
    store.close()


@pytest.mark.usefixtures("backend")
def test_a_dump_cut_short_or_damaged_imports_nothing(tmp_path: Path) -> None:
    store = populate(tmp_path)
    text = dump(store.conn)
    store.close()
    lines = text.splitlines(keepends=True)
    target = Store(pg.target(tmp_path / "other.sqlite3"))
    migrate_all(target.conn)
    cases = {
        "".join(lines[:-1]): "ends early",
        "".join(lines[:-2] + lines[-1:]): "missing or damaged|says .* rows",
        "".join([*lines[:3], "{not json\n", *lines[3:]]): "line 4 is not JSON",
        "hello\n": "not a commsite database dump",
        text.replace('{"base64":"', '{"base64":"!', 1): "neither text, number nor bytes",
        text.replace(f'"inbox":{INBOX}', f'"inbox":{INBOX + 1}', 1): (
            f"schema version {INBOX + 1}, this database's at {INBOX}"
        ),
    }
    for broken, why in cases.items():
        with pytest.raises(DumpError, match=why):
            import_dump(target.conn, io.StringIO(broken))
        assert not any(row_counts(target.conn).values())
    target.close()


def test_the_commands_move_a_site_from_sqlite_to_postgresql(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site(site, "https://x.example/")
    store = Store(pg.site_target(site))
    store.followers  # noqa: B018  (opens the follower list)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO followers (actor, inbox, since) VALUES (?, ?, ?)",
            (BOB, BOB + "/inbox", iso(NOW)),
        )
    store.close()
    runner = CliRunner()

    result = runner.invoke(main, ["sidecar", "migrate", str(site)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"SQLite {site / '.commsite' / 'commsite.sqlite3'}"
    assert "  publication: version 0 -> 1" in result.output
    assert f"  inbox: version {INBOX}, up to date" in result.output

    file = tmp_path / "community.jsonl"
    result = runner.invoke(main, ["sidecar", "export-db", str(file), str(site)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("exported 1 rows from ")

    pg.activate("postgresql")
    try:
        url = pg.database_url()
    finally:
        pg.activate()
    yaml = site / "commsite.yaml"
    yaml.write_text(yaml.read_text().replace("sidecar:\n", f"sidecar:\n  database: '{url}'\n"))
    result = runner.invoke(main, ["sidecar", "import-db", str(file), str(site)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("imported 1 rows into ")
    assert "of PostgreSQL postgresql://postgres@/" in result.output
    again = runner.invoke(main, ["sidecar", "import-db", str(file), str(site)])
    assert again.exit_code == 1
    assert "already holds rows: followers (1)" in again.output
    assert url is not None
    conn = connect(PostgresTarget(url))
    assert conn.execute("SELECT actor FROM followers").fetchall()[0][0] == BOB
    conn.close()
