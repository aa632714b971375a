"""Likes and boosts count once per person and story, however the object is named."""

from __future__ import annotations

from pathlib import Path

import yaml

from commsite.database import connect, migrate
from commsite.sidecar.export import export_interactions
from commsite.sidecar.store import MIGRATIONS, Store
from test_sidecar_processing import BOB, EVE, STORY, act, make

PAGE = "https://repair.example/stories/tricky/"


def count(p: object, kind: str | None = None) -> int:
    store: Store = p.store  # type: ignore[attr-defined]
    if kind is None:
        return int(store.conn.execute("SELECT COUNT(*) FROM inbox_reactions").fetchone()[0])
    return int(
        store.conn.execute(
            "SELECT COUNT(*) FROM inbox_reactions WHERE kind = ?", (kind,)
        ).fetchone()[0]
    )


def test_a_like_of_the_object_id_and_of_the_page_url_is_one_like(tmp_path: Path) -> None:
    p = make(tmp_path)
    assert p.process(act("Like", BOB, STORY, 1)).state == "done"
    for n, url in enumerate((PAGE, PAGE.rstrip("/"), STORY + "#x"), start=2):
        again = p.process(act("Like", BOB, url, n))
        assert (again.state, again.public_change) == ("ignored", False), url
    assert count(p) == 1


def test_each_person_and_kind_counts(tmp_path: Path) -> None:
    p = make(tmp_path)
    assert p.process(act("Like", BOB, PAGE, 1)).state == "done"
    assert p.process(act("Announce", BOB, STORY, 2)).state == "done"  # a boost is not a like
    assert p.process(act("Like", EVE, STORY, 3)).state == "done"
    assert p.process(act("Announce", BOB, PAGE, 4)).state == "ignored"
    assert (count(p, "like"), count(p, "boost")) == (2, 1)
    export_interactions(p.store, tmp_path)
    counts = yaml.safe_load((tmp_path / "interactions" / "reactions.yaml").read_text())
    by = counts["stories/tricky"].pop("by")
    assert counts == {"stories/tricky": {"likes": 2, "boosts": 1}}
    assert [(r["kind"], r["author_actor"]) for r in by] == [
        ("boost", BOB), ("like", BOB), ("like", EVE)]  # fmt: skip


def test_undoing_the_duplicate_undoes_the_like(tmp_path: Path) -> None:
    """Bob's client liked by object id, then by page URL, then undid the second:
    he no longer likes the story."""
    p = make(tmp_path)
    p.process(act("Like", BOB, STORY, 1))
    duplicate = act("Like", BOB, PAGE, 2)
    assert p.process(duplicate).state == "ignored"
    outcome = p.process(act("Undo", BOB, duplicate))
    assert (outcome.state, outcome.public_change) == ("done", True)
    assert count(p) == 0


def test_duplicates_already_stored_are_merged_by_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    conn = connect(path)
    migrate(conn, "inbox", MIGRATIONS[:1])  # a database from before the fix
    rows = [
        ("a1", "like", BOB, STORY, "stories/tricky", "2026-11-01T00:00:00+00:00"),
        ("a2", "like", BOB, PAGE, "stories/tricky", "2026-11-02T00:00:00+00:00"),
        ("a3", "like", EVE, PAGE, "stories/tricky", "2026-11-03T00:00:00+00:00"),
        ("a4", "boost", BOB, PAGE, "stories/tricky", "2026-11-04T00:00:00+00:00"),
    ]
    conn.executemany("INSERT INTO inbox_reactions VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    store = Store(path)
    try:
        kept = store.conn.execute(
            "SELECT activity_id FROM inbox_reactions ORDER BY activity_id"
        ).fetchall()
        assert [r[0] for r in kept] == ["a1", "a3", "a4"]
    finally:
        store.close()
