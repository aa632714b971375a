"""Blocks hold from the first contact (issue 15, point 11).

A block by handle (`@mallory@host`) cannot be matched before the actor's
profile is known, and the profile used to be fetched only while filing a post,
after admission had let it in: mallory's very first reply was published under
`approve: everyone`, her first Like counted, her first Follow accepted. Now
processing decides the block first, fetching the profile when a handle block
could name the actor. Blocks by URL compare actors in one spelling.

The remote server is the independent loopback peer of sidecar_peer (apsig
signs its deliveries); the sidecar is the real one, on a real SQLite file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from commsite import urls
from commsite.cli import main
from commsite.sidecar import moderation
from commsite.sidecar.store import Store, iso
from commsite.sidecar.worker import RebuildNotifier, Worker
from sidecar_peer import PUBLIC, Remote, SidecarServer, SiteOrigin, running, serve_our_actor
from sidecar_peer import write_site as write_site
from test_sidecar_processing import BOB, NOW, STORY, act, clock, item, make, note


@pytest.fixture
def remote() -> Iterator[Remote]:
    peer = Remote(users=("alice", "mallory", "trudy", "oscar", "eve")).start()
    yield peer
    peer.stop()


def _deliver(server: SidecarServer, remote: Remote, user: str, activity: dict[str, Any]) -> Any:
    reply = remote.deliver(server.inbox, activity, user=user)
    assert reply.status == 202, reply.body
    return reply.json


def _reply(remote: Remote, user: str, n: int, story: str, our_actor: str) -> dict[str, Any]:
    actor = remote.actor(user)
    obj = {
        "id": f"{actor}/statuses/{n}",
        "type": "Note",
        "attributedTo": actor,
        "content": f"<p>reply {n} from {user}</p>",
        "inReplyTo": story,
        "to": [PUBLIC],
        "cc": [our_actor],
        "tag": [{"type": "Mention", "href": our_actor}],
    }
    return {"id": f"{obj['id']}/activity", "type": "Create", "actor": actor, "object": obj}


def test_a_handle_block_holds_for_the_first_post_like_and_follow(
    tmp_path: Path, remote: Remote, origin: SiteOrigin
) -> None:
    root = tmp_path / "site"
    # As an organiser writes it: the handle in any case; the actor URL with
    # capitals in the host and a trailing slash.
    eve_url = remote.actor("eve").replace("http://", "HTTP://") + "/"
    write_site(
        root,
        origin.base_url,
        moderation=(
            "  approve: everyone\n"
            f"  blocked_actors: ['@Mallory@{remote.host}', '@trudy@{remote.host}',"
            f" '@OSCAR@{remote.host}', '{eve_url}']\n"
        ),
    )
    serve_our_actor(origin, root)
    story = origin.base_url + urls.story_object("first-meetup")
    us = origin.base_url + urls.ACTOR
    with running(root) as server:
        # None of them has written before: no profile is cached. Mallory's first
        # contact is a reply, trudy's a Like, oscar's a Follow.
        first = _reply(remote, "mallory", 1, story, us)
        like = {"id": remote.actor("trudy") + "#likes/1", "type": "Like",
                "actor": remote.actor("trudy"), "object": story}  # fmt: skip
        follow = {"id": remote.actor("oscar") + "#follows/1", "type": "Follow",
                  "actor": remote.actor("oscar"), "object": us}  # fmt: skip
        for user, activity in (("mallory", first), ("trudy", like), ("oscar", follow)):
            assert _deliver(server, remote, user, activity) == {"status": "accepted"}
            assert server.wait_settled(activity["id"]) == "refused"
        # Now that her handle is known, the next one is dropped on arrival.
        again = {**like, "id": remote.actor("mallory") + "#likes/2",
                 "actor": remote.actor("mallory")}  # fmt: skip
        assert _deliver(server, remote, "mallory", again) == {"status": "dropped"}
        # Eve is blocked by URL, however it is spelt: dropped on arrival.
        assert _deliver(server, remote, "eve", _reply(remote, "eve", 2, story, us)) == {
            "status": "dropped"
        }
        # Alice is not blocked: published at once, as `approve: everyone` says.
        fine = _reply(remote, "alice", 3, story, us)
        _deliver(server, remote, "alice", fine)
        assert server.wait_settled(fine["id"]) == "done"
        alice_likes = {"id": remote.actor("alice") + "#likes/1", "type": "Like",
                       "actor": remote.actor("alice"), "object": story}  # fmt: skip
        _deliver(server, remote, "alice", alice_likes)
        assert server.wait_settled(alice_likes["id"]) == "done"
        with server.db() as conn:
            outcome = conn.execute(
                "SELECT outcome FROM inbox_activities WHERE id = ?", (first["id"],)
            ).fetchone()[0]
            items = conn.execute("SELECT actor, status FROM inbox_items").fetchall()
            reactions = conn.execute("SELECT actor FROM inbox_reactions").fetchall()
            followers = conn.execute("SELECT COUNT(*) FROM followers").fetchone()[0]
    assert outcome == f"blocked: actor @mallory@{remote.host} is blocked"
    assert [tuple(r) for r in items] == [(remote.actor("alice"), "approved")]
    assert ([r[0] for r in reactions], followers) == ([remote.actor("alice")], 0)
    assert remote.received == []  # no Accept went to mallory nor oscar

    # Blocked later by handle: her reply is rejected and her like, too, is gone.
    result = CliRunner().invoke(
        main, ["moderate", "block-actor", f"@ALICE@{remote.host}", "-s", str(root)]
    )
    assert result.output == f"blocked actor @ALICE@{remote.host}; 1 item(s) rejected\n"
    store = Store(root / ".commsite" / "commsite.sqlite3")
    assert store.conn.execute("SELECT COUNT(*) FROM inbox_reactions").fetchone()[0] == 0
    store.close()


def test_a_block_added_while_an_activity_waits_holds_for_it(tmp_path: Path) -> None:
    """Queued before `commsite moderate block-actor`, processed after: refused."""
    p = make(tmp_path, approve="everyone")
    reply = note(BOB, 1, inReplyTo=STORY)
    activities = [act("Create", BOB, reply), act("Like", BOB, STORY, 1)]
    with p.store.transaction() as conn:
        for a in activities:
            conn.execute(
                "INSERT INTO inbox_activities (id, type, actor, key_id, body, received_at,"
                " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (a["id"], a["type"], BOB, BOB + "#k", json.dumps(a), iso(NOW), iso(NOW)),
            )
    moderation.block(p.store, "actor", "@Bob@R.example", NOW)
    worker = Worker(
        store=p.store,
        processor=p,
        fetcher=p.profiles.fetcher,
        signing_key=("k", None),  # type: ignore[arg-type]
        clock=clock,
        notifier=RebuildNotifier(None),
    )
    assert worker.run_once()
    states = p.store.conn.execute("SELECT state, outcome FROM inbox_activities").fetchall()
    assert [tuple(r) for r in states] == [
        ("refused", "blocked: actor @bob@r.example is blocked")
    ] * 2
    assert item(p, reply["id"]) is None
    assert p.store.conn.execute("SELECT COUNT(*) FROM inbox_reactions").fetchone()[0] == 0
