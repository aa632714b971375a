"""Edits (Update{Note}) that race their Create: the edit is never lost.

Mastodon sends the whole Note with every edit. The Create may still wait for a
retry (its author's profile could not be fetched yet) or simply arrive after
the edit; either way the newest text must be what the site shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from commsite.federation.fetch import FetchError
from commsite.sidecar.profiles import Profile
from test_sidecar_processing import BOB, STORY, act, item, make, note

ZED = "http://127.0.0.1:9/users/zed"  # discard port: connection refused, so a retry


def edited(original: dict[str, object], text: str, when: str) -> dict[str, object]:
    return {**original, "content": f"<p>{text}</p>", "updated": when}


def test_an_edit_that_arrives_before_its_create_is_kept(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    reply = note(BOB, 1, inReplyTo=STORY, published="2026-11-22T01:00:00Z")
    edit = edited(reply, "fixed typo", "2026-11-22T01:05:00Z")
    outcome = p.process(act("Update", BOB, edit))
    assert (outcome.state, outcome.public_change) == ("done", True)
    assert outcome.detail.startswith("an edit before its Create: reply")
    late = p.process(act("Create", BOB, reply))
    assert (late.state, late.detail) == ("ignored", f"{reply['id']} is already stored")
    row = item(p, str(reply["id"]))
    assert row is not None
    assert (row["content_html"], row["published"], row["updated"], row["target"]) == (
        "<p>fixed typo</p>",
        "2026-11-22T01:00:00+00:00",
        "2026-11-22T01:05:00+00:00",
        "stories/tricky",
    )


def test_an_edit_while_the_create_waits_for_a_retry_is_kept(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    reply = note(ZED, 1, inReplyTo=STORY)
    create = act("Create", ZED, reply)
    with pytest.raises(FetchError):  # the worker would schedule a retry
        p.process(create)
    # Zed's server answers again; the edit is processed before the Create's retry.
    p.profiles.save(Profile(ZED, "@zed@127.0.0.1:9", "Zed", None, None, ZED + "/inbox", None))
    edit = edited(reply, "second thoughts", "2026-11-22T02:00:00Z")
    assert p.process(act("Update", ZED, edit)).state == "done"
    assert p.process(create).state == "ignored"  # the retry
    row = item(p, str(reply["id"]))
    assert row is not None
    assert (row["content_html"], row["updated"]) == (
        "<p>second thoughts</p>",
        "2026-11-22T02:00:00+00:00",
    )


def test_edits_out_of_order_keep_the_newest(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    reply = note(BOB, 1, inReplyTo=STORY)
    first = edited(reply, "first edit", "2026-11-22T01:00:00Z")
    second = edited(reply, "second edit", "2026-11-22T02:00:00Z")
    assert p.process(act("Update", BOB, second, 2)).state == "done"
    older = p.process(act("Update", BOB, first, 1))
    assert (older.state, older.detail) == (
        "ignored",
        "an older edit than the one stored (2026-11-22T02:00:00+00:00)",
    )
    assert p.process(act("Create", BOB, reply)).state == "ignored"
    assert item(p, str(reply["id"]))["content_html"] == "<p>second edit</p>"  # type: ignore[index]


def test_an_edit_of_a_stored_reply_still_replaces_it(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    reply = note(BOB, 1, inReplyTo=STORY)
    assert p.process(act("Create", BOB, reply)).state == "done"
    assert p.process(act("Update", BOB, edited(reply, "v2", "2026-11-22T02:00:00Z"))).detail == (
        "edited (approved)"
    )
    assert item(p, str(reply["id"]))["content_html"] == "<p>v2</p>"  # type: ignore[index]


def test_an_edit_cannot_bring_back_a_deleted_post(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    reply = note(BOB, 1, inReplyTo=STORY)
    p.process(act("Delete", BOB, {"id": reply["id"], "type": "Tombstone"}))
    outcome = p.process(act("Update", BOB, edited(reply, "back", "2026-11-22T02:00:00Z")))
    assert (outcome.state, outcome.detail) == (
        "refused",
        f"{reply['id']} was deleted; an Update cannot bring it back",
    )
    assert item(p, str(reply["id"])) is None


def test_an_edit_of_a_post_not_for_us_stays_ignored(tmp_path: Path) -> None:
    p = make(tmp_path, approve="everyone")
    elsewhere = note(BOB, 1, inReplyTo="https://other.example/notes/1")
    edit = edited(elsewhere, "x", "2026-11-22T02:00:00Z")
    assert p.process(act("Update", BOB, edit)).state == "ignored"
    assert item(p, str(elsewhere["id"])) is None
