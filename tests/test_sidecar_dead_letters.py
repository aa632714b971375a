"""One bad field never stalls the queue (issue 15, point 13).

A remote actor whose `name` is a lone surrogate (`"\\ud800"` in its JSON) made
storing its profile raise UnicodeEncodeError, and the worker retried the
activity for hours. Text from the network is now cleaned before it is stored
(commsite.content.network_text), and an error that a retry cannot heal is a dead
letter on its first occurrence: its reason is in the store, listed by
`commsite moderate`, counted by /healthz, and it can be retried or discarded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import pg
from commsite import urls
from commsite.cli import main
from commsite.content.network_text import clean_json, clean_text
from commsite.sidecar.processing import Outcome
from commsite.sidecar.store import Store
from commsite.sidecar.worker import RebuildNotifier, Worker
from sidecar_peer import PUBLIC, Remote, SiteOrigin, get, running, serve_our_actor, write_site
from test_sidecar_processing import NOW, clock


@dataclass
class OddRemote(Remote):
    """A server whose user zoe has a name no UTF-8 encoder accepts, and a NUL."""

    def actor_document(self, user: str) -> dict[str, Any]:
        doc = super().actor_document(user)
        if user == "zoe":
            doc["name"] = "\ud800 Zo\u0065\u0301\x00"  # json.dumps writes "\ud800", "\u0000"
        if user == "yan":
            doc["publicKey"]["publicKeyPem"] += "\ud800"
        return doc


@pytest.fixture
def remote() -> Iterator[Remote]:
    peer = OddRemote(users=("zoe", "yan")).start()
    yield peer
    peer.stop()


def test_clean_text_makes_any_string_storable() -> None:
    assert clean_text("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert clean_text("nul\x00 bell\x07 del\x7f c1\x85 kept:\n\t") == "nul bell del c1 kept:\n\t"
    assert clean_text("Zoe\u0301") == "Zo\u00e9"  # NFC
    assert clean_text("plain") == "plain"
    assert clean_json({"a\ud800": ["\x00x", 1, None, {"k": "\udc00"}]}) == {
        "a\ufffd": ["x", 1, None, {"k": "\ufffd"}]
    }


def test_a_profile_name_with_a_lone_surrogate_is_stored_cleaned(
    tmp_path: Path, remote: Remote, origin: SiteOrigin
) -> None:
    root = tmp_path / "site"
    write_site(root, origin.base_url, moderation="  approve: everyone\n")
    serve_our_actor(origin, root)
    assert b'"\\ud800 Zoe\\u0301\\u0000"' in json.dumps(remote.actor_document("zoe")).encode()
    actor = remote.actor("zoe")
    note = {"id": f"{actor}/statuses/1", "type": "Note", "attributedTo": actor,
            "content": "<p>hello\u0000</p>", "to": [PUBLIC],
            "inReplyTo": origin.base_url + urls.story_object("first-meetup")}  # fmt: skip
    create = {"id": f"{note['id']}/activity", "type": "Create", "actor": actor, "object": note}
    with running(root) as server:
        assert remote.deliver(server.inbox, create, user="zoe").status == 202
        assert server.wait_settled(str(create["id"])) == "done"
        with server.db() as conn:
            name = conn.execute("SELECT name FROM inbox_actors WHERE id = ?", (actor,)).fetchone()
            content = conn.execute("SELECT content_html FROM inbox_items").fetchone()
    assert name[0] == "\ufffd Zo\u00e9"
    assert content[0] == "<p>hello</p>"


def test_a_lone_surrogate_in_the_actor_is_answered_not_a_500(
    tmp_path: Path, remote: Remote, origin: SiteOrigin
) -> None:
    """A lone surrogate is not JSON (RFC 8259): the strict parser answers 400
    before anything reads the actor, for a Delete{actor} and a Like alike."""
    root = tmp_path / "site"
    write_site(root, origin.base_url)
    serve_our_actor(origin, root)
    actor = remote.actor("zoe") + "\ud800"
    delete = {"id": actor + "#delete", "type": "Delete", "actor": actor, "object": actor}
    like = {"id": actor + "#like", "type": "Like", "actor": actor, "object": actor}
    with running(root) as server:
        answers = [remote.deliver(server.inbox, a, user="zoe") for a in (delete, like)]
    reason = "a string holds a lone surrogate (surrogates not allowed)"
    refusal = {"error": f"body is not JSON: {reason}"}
    assert [(a.status, a.json) for a in answers] == [(400, refusal), (400, refusal)]


def test_a_lone_surrogate_in_a_key_is_a_401_not_a_500(
    tmp_path: Path, remote: Remote, origin: SiteOrigin
) -> None:
    root = tmp_path / "site"
    write_site(root, origin.base_url)
    serve_our_actor(origin, root)
    actor = remote.actor("yan")
    like = {"id": actor + "#like", "type": "Like", "actor": actor, "object": actor}
    with running(root) as server:
        answer = remote.deliver(server.inbox, like, user="yan")
    assert (answer.status, answer.json) == (
        401,
        {"error": f"Public key {remote.key_id('yan')} is not a valid PEM public key"},
    )


@dataclass
class Broken:
    """A processor with a bug that bad data sets off: a KeyError on every activity."""

    calls: int = 0

    def process(self, activity: Mapping[str, Any], *, final: bool = True) -> Outcome:
        self.calls += 1
        raise KeyError("inReplyTo")


def _queue(store: Store, n: int) -> str:
    activity_id = f"https://r.example/users/bob#likes/{n}"
    body = {"id": activity_id, "type": "Like", "actor": "https://r.example/users/bob",
            "object": "https://x.example/ap/stories/first-meetup"}  # fmt: skip
    store.add_activity(
        activity_id=activity_id,
        type_="Like",
        actor=body["actor"],
        key_id=body["actor"] + "#main-key",
        body=json.dumps(body),
        now=NOW,
    )
    return activity_id


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_permanent_error_is_a_dead_letter_at_once_and_a_person_can_see_it(
    tmp_path: Path,
) -> None:
    write_site(tmp_path, "https://x.example/", moderation="  approve: everyone\n")
    store = Store(pg.site_target(tmp_path))
    with store.transaction() as conn:  # bob's profile is cached: no fetch needed
        conn.execute(
            "INSERT INTO inbox_actors (id, handle, name, fetched_at)"
            " VALUES ('https://r.example/users/bob', '@bob@r.example', 'Bob', 'x')"
        )
    first, second, third = (_queue(store, n) for n in (1, 2, 3))
    broken = Broken()
    worker = Worker(
        store=store,
        processor=broken,  # type: ignore[arg-type]
        fetcher=None,  # type: ignore[arg-type]
        signing_key=("k", None),  # type: ignore[arg-type]
        clock=clock,
        notifier=RebuildNotifier(None),
    )
    assert worker.run_once()
    rows = store.conn.execute("SELECT state, attempts, outcome FROM inbox_activities").fetchall()
    assert [tuple(r) for r in rows] == [("dead", 1, "KeyError: 'inReplyTo'")] * 3
    assert worker.claim(10) == []  # nothing left to retry: the queue is free
    assert broken.calls == 3
    store.close()

    listing = _run("moderate", "list", "-s", str(tmp_path))
    assert listing.splitlines()[-2:] == [
        "3 activities could not be processed; see `commsite moderate dead-letters`",
        "0 items waiting",
    ]
    dead = _run("moderate", "dead-letters", str(tmp_path))
    assert dead.splitlines()[:3] == [
        first,
        "    Like from https://r.example/users/bob, received 2026-11-22T03:00:00+00:00",
        "    failed: KeyError: 'inReplyTo'",
    ]
    assert dead.endswith("3 dead letters\n")
    assert _run("moderate", "discard", third, str(tmp_path)) == "discarded: 1 activity\n"

    with running(tmp_path) as server:
        assert get(server.base + "/healthz").json == {
            "status": "ok",
            "queued": 0,
            "dead_letters": 2,
            "queues": {
                "inbox": {"waiting": 0, "due": 0, "oldest_due_seconds": None},
                "delivery": {"waiting": 0, "due": 0, "oldest_due_seconds": None},
            },
        }
        # Once the cause is fixed (here: the real processor), a retry processes them.
        assert _run("moderate", "retry", "all", "-s", str(tmp_path)) == (
            "queued again: 2 activities\n"
        )
        server.sidecar.worker.wake()
        assert server.wait_settled(first) == "done"  # a like of the story
        assert server.wait_settled(second) == "ignored"  # the same person's second like
        assert get(server.base + "/healthz").json["dead_letters"] == 0
    log = _run("moderate", "log", "-s", str(tmp_path))
    assert f"discard {third}" in log and f"retry {first}" in log
    code = CliRunner().invoke(main, ["moderate", "retry", "nope", "-s", str(tmp_path)])
    assert code.exit_code == 1 and "no dead letter 'nope'" in code.output
