"""The follower list: upsert by actor, removal, and the fan-out inbox list."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commsite.database import connect
from commsite.federation.followers import Follower, FollowerStore

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
OpenStore = Callable[[], FollowerStore]


def follower(actor: str, inbox: str, shared: str | None = None, **extra: object) -> Follower:
    return Follower(
        actor=actor,
        inbox=inbox,
        shared_inbox=shared,
        follow_id=f"{actor}#follow",
        since=extra.pop("since", T0),  # type: ignore[arg-type]
        handle=extra.pop("handle", None),  # type: ignore[arg-type]
    )


@pytest.fixture
def open_store(tmp_path: Path) -> Iterator[OpenStore]:
    """Opens the store on a new connection each call; closes them all afterwards."""
    conns: list[sqlite3.Connection] = []

    def open_() -> FollowerStore:
        conns.append(connect(tmp_path / "db.sqlite3"))
        return FollowerStore(conns[-1])

    yield open_
    for conn in conns:
        conn.close()


def test_add_is_an_upsert_by_actor_that_keeps_since(
    open_store: Callable[[], FollowerStore],
) -> None:
    s = open_store()
    assert s.add(follower("https://a.example/u/ann", "https://a.example/u/ann/inbox")) is True
    later = Follower(
        actor="https://a.example/u/ann",
        inbox="https://a.example/u/ann/inbox2",
        shared_inbox="https://a.example/inbox",
        follow_id="https://a.example/follows/2",
        since=datetime(2026, 11, 5, tzinfo=UTC),
        handle="@ann@a.example",
    )
    assert s.add(later) is False
    assert s.count() == 1
    [stored] = s.all()
    assert stored.inbox == "https://a.example/u/ann/inbox2"
    assert stored.shared_inbox == "https://a.example/inbox"
    assert stored.follow_id == "https://a.example/follows/2"
    assert stored.handle == "@ann@a.example"
    assert stored.since == T0


def test_delivery_inboxes_dedupe_shared_inboxes_and_sort(
    open_store: Callable[[], FollowerStore],
) -> None:
    s = open_store()
    s.add(
        follower("https://m.example/u/a", "https://m.example/u/a/inbox", "https://m.example/inbox")
    )
    s.add(
        follower("https://m.example/u/b", "https://m.example/u/b/inbox", "https://m.example/inbox")
    )
    s.add(follower("https://solo.example/me", "https://solo.example/me/inbox"))
    s.add(
        follower("https://b.example/u/c", "https://b.example/u/c/inbox", "https://b.example/inbox")
    )
    assert s.delivery_inboxes() == [
        "https://b.example/inbox",
        "https://m.example/inbox",
        "https://solo.example/me/inbox",
    ]
    assert s.count() == 4


def test_remove_and_remove_by_inbox(open_store: OpenStore) -> None:
    s = open_store()
    s.add(
        follower("https://m.example/u/a", "https://m.example/u/a/inbox", "https://m.example/inbox")
    )
    s.add(
        follower("https://m.example/u/b", "https://m.example/u/b/inbox", "https://m.example/inbox")
    )
    s.add(follower("https://solo.example/me", "https://solo.example/me/inbox"))
    assert s.remove("https://solo.example/me") is True
    assert s.remove("https://solo.example/me") is False
    assert s.remove_by_inbox("https://m.example/inbox") == 2
    assert s.all() == []
    s.add(
        follower("https://m.example/u/a", "https://m.example/u/a/inbox", "https://m.example/inbox")
    )
    assert s.remove_by_inbox("https://m.example/u/a/inbox") == 1  # a personal inbox too


def test_followers_survive_reopening_and_timezones_round_trip(
    open_store: Callable[[], FollowerStore],
) -> None:
    s = open_store()
    s.add(
        follower(
            "https://a.example/u/ann", "https://a.example/u/ann/inbox", handle="@ann@a.example"
        )
    )
    again = open_store()  # migrations run twice: a no-op the second time
    [stored] = again.all()
    assert stored == follower(
        "https://a.example/u/ann", "https://a.example/u/ann/inbox", handle="@ann@a.example"
    )
    assert stored.since.tzinfo is not None
    assert stored.delivery_inbox == "https://a.example/u/ann/inbox"
    assert again.get("https://a.example/u/ann") == stored
    assert again.get("https://nobody.example/") is None
