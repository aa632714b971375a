"""RSVPs end to end over loopback, with independent peers on the other side.

The real sidecar (waitress, worker, delivery queue) receives activities signed
by Fedify (tests/js/sig-sign.mjs, a second implementation): a member answers
by replying "going", another votes in the event's poll, a Mobilizon-style
actor Joins. What the sidecar sends back is checked by independent verifiers:
the Join's Accept by Fedify's verifyRequest() (tests/js/sig-verify-inbox.mjs,
the Mobilizon actor's inbox), the poll's Update by apsig (the Python remote's
inbox, tests/sidecar_peer.py). Then `commsite moderate` and `commsite
interactions export` run as an organiser would, and the exported file loads
with the right answers.
"""

from __future__ import annotations

import base64
import json
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from commsite import urls
from commsite.cli import main
from commsite.content.interaction_lists import load_rsvps
from needs import JS_DIR, executable, node_package
from sidecar_peer import PUBLIC, Remote, SiteOrigin, running, serve_our_actor, write_site


@dataclass
class FedifyPeer:
    """tests/js/fedify-peer.mjs: an inbox whose requests Fedify verifies, and a
    signer sending what we give it, signed by Fedify (one process for both)."""

    proc: subprocess.Popen[str]
    base: str
    received: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    sent: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, timeout: float = 20.0) -> dict[str, Any]:
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"nothing reached the Fedify inbox in {timeout}s") from None

    def post(self, remote: Remote, user: str, url: str, activity: dict[str, Any]) -> int:
        """POST `activity` signed by Fedify with `user`'s key; the status."""
        pkcs8 = remote.keys[user].private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        request = {
            "id": activity["id"],
            "url": url,
            "keyId": remote.key_id(user),
            "pkcs8": base64.b64encode(pkcs8).decode(),
            "body": json.dumps(activity),
        }
        with self.lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            answer = self.sent.get(timeout=60)
        assert answer["id"] == activity["id"], answer
        return int(answer["status"])


@pytest.fixture
def fedify() -> Iterator[FedifyPeer]:
    node_package("@fedify/fedify")
    proc = subprocess.Popen(
        [executable("node"), str(JS_DIR / "fedify-peer.mjs")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("LISTENING "):
        proc.kill()
        pytest.fail(f"fedify-peer.mjs did not start: {line!r} {proc.communicate()[1]}")
    peer = FedifyPeer(proc, f"http://127.0.0.1:{int(line.split()[1])}")

    def read() -> None:
        assert proc.stdout is not None
        for text in proc.stdout:
            kind, _, payload = text.partition(" ")
            if kind == "RECEIVED":
                peer.received.put(json.loads(payload))
            elif kind == "SENT":
                peer.sent.put(json.loads(payload))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield peer
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
        reader.join(timeout=10)


class Instance(Remote):
    """The remote instance; `mo` is a Mobilizon-style actor whose inbox is Fedify's."""

    fedify_inbox: str = ""

    def actor_document(self, user: str) -> dict[str, Any]:
        document = super().actor_document(user)
        if user == "mo":
            document["inbox"] = f"{self.fedify_inbox}/users/mo/inbox"
            document["endpoints"] = {}
        return document


EVENT = "2030-01-01-repair-party"
SLUG = "repair-party"


def write_event(root: Path) -> None:
    (root / "content" / "events" / f"{EVENT}.md").write_text(
        "---\ntitle: Repair party\nstart: 2030-01-01T10:00:00+00:00\ncapacity: 2\n---\n"
        "Bring your toasters.\n",
        encoding="utf-8",
    )


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_rsvps_by_reply_poll_and_join_with_independent_peers(
    tmp_path: Path, fedify: FedifyPeer
) -> None:
    remote = Instance(users=("alice", "bob", "mo", "eve"))
    remote.fedify_inbox = fedify.base
    remote.start()
    origin = SiteOrigin()
    root = tmp_path / "site"
    try:
        write_site(
            root,
            origin.base_url,
            members={"alice": remote.handle("alice"), "bob": remote.handle("bob")},
        )
        write_event(root)
        serve_our_actor(origin, root)
        event_id = origin.base_url + urls.event_object(SLUG)
        poll_id = origin.base_url + urls.event_poll(SLUG)
        us = origin.base_url + urls.ACTOR
        alice, bob, mo, eve = (remote.actor(u) for u in ("alice", "bob", "mo", "eve"))

        with running(root) as server:

            def send(user: str, activity: dict[str, Any]) -> str:
                status, state = send_as(user, activity)
                assert status == 202
                return state

            def send_as(user: str, activity: dict[str, Any]) -> tuple[int, str]:
                status = fedify.post(remote, user, server.inbox, activity)
                state = server.wait_settled(str(activity["id"])) if status == 202 else ""
                return status, state

            # 1. A member answers by replying to the event with a word.
            reply = {"id": f"{alice}/statuses/1", "type": "Note", "attributedTo": alice,
                     "inReplyTo": event_id, "content": "<p>I'm going! 🎉</p>", "to": [PUBLIC],
                     "url": f"{remote.base}/@alice/1"}  # fmt: skip
            create = {"id": reply["id"] + "/activity", "type": "Create", "actor": alice,
                      "object": reply}  # fmt: skip
            assert send("alice", create) == "done"

            # 2. Another member votes in the poll, as Mastodon sends votes; the
            # new counts reach the voter, signed (apsig verifies on arrival).
            vote = {"id": f"{bob}#votes/1", "type": "Note", "name": "Going",
                    "attributedTo": bob, "inReplyTo": poll_id, "to": us}  # fmt: skip
            assert send_as("bob", {"id": vote["id"] + "/activity", "type": "Create",
                                   "actor": bob, "object": vote}) == (202, "done")  # fmt: skip
            [update] = remote.wait_for("Update")
            question = update["object"]
            assert (update["actor"], question["id"], question["type"]) == (us, poll_id, "Question")
            assert question["votersCount"] == 2
            assert [(o["name"], o["replies"]["totalItems"]) for o in question["oneOf"]] == [
                ("Going", 2), ("Maybe", 0), ("Can't go", 0)]  # fmt: skip
            assert question["endTime"] == "2030-01-01T10:00:00Z" and "closed" not in question

            # 3. A Mobilizon-style Join from someone who is not a member waits
            # for a moderator; approved, it is beyond capacity (2): no Accept yet.
            join = {"id": f"{mo}/join/1", "type": "Join", "actor": mo, "object": event_id,
                    "participationMessage": "Can I bring a radio?"}  # fmt: skip
            assert send_as("mo", join) == (202, "done")
            listed = cli("moderate", "list", str(root))
            assert f"rsvp going (waiting list) to events/{SLUG} from @mo@" in listed
            number = listed.split("#r", 1)[1].split(" ", 1)[0]
            assert cli("moderate", "approve", f"r{number}", str(root)) == f"approved #r{number}\n"

            # 4. Alice changes her answer by a second reply: her place goes to mo,
            # whose Join now gets its Accept; Fedify verifies our signature.
            second = {**reply, "id": f"{alice}/statuses/2",
                      "content": "<p>Sorry, I can’t make it after all</p>"}  # fmt: skip
            assert send("alice", {"id": second["id"] + "/a", "type": "Create", "actor": alice,
                                  "object": second}) == "done"  # fmt: skip
            received = fedify.next()
            assert received["verified"] is True, received
            assert received["keyId"] == us + "#main-key"
            accept = received["body"]
            assert (accept["type"], accept["actor"], received["path"]) == (
                "Accept", us, "/users/mo/inbox")  # fmt: skip
            assert accept["object"]["id"] == join["id"]
            assert (accept["object"]["type"], accept["object"]["object"]) == ("Join", event_id)

            # 5. Bob takes his vote back (Undo).
            undo = {"id": f"{bob}#votes/1/undo", "type": "Undo", "actor": bob,
                    "object": vote["id"]}  # fmt: skip
            assert send_as("bob", undo) == (202, "done")

            # Hostile: a Join in someone else's name is refused at the door; a
            # vote for an option the poll does not have, and a Join of a story,
            # are refused.
            forged = {"id": f"{eve}/join/1", "type": "Join", "actor": alice, "object": event_id}
            status, _ = send_as("eve", forged)
            assert status in (400, 401)
            bad_vote = {**vote, "id": f"{eve}#votes/1", "attributedTo": eve, "name": "Yes!"}
            assert send_as("eve", {"id": f"{eve}#votes/1/a", "type": "Create", "actor": eve,
                                   "object": bad_vote}) == (202, "refused")  # fmt: skip
            story = {"id": f"{eve}/join/2", "type": "Join", "actor": eve,
                     "object": origin.base_url + urls.story_object("first-meetup")}  # fmt: skip
            assert send_as("eve", story) == (202, "refused")
            assert fedify.received.empty()  # nothing else went to mo

        # The organiser exports; the file loads with the answers as they stand.
        cli("interactions", "export", str(root))
        rel = f"interactions/rsvps/{SLUG}.yaml"
        rsvps, diagnostics = load_rsvps(root, [rel])
        assert diagnostics == []
        got = {(r.author_actor, r.answer, r.via, r.waiting, r.public) for r in rsvps}
        assert got == {
            (alice, "not_going", "reply", False, True),
            (mo, "going", "join", False, False),
        }
        by_actor = {r.author_actor: r for r in rsvps}
        assert by_actor[alice].reply_url == f"{remote.base}/@alice/1"
        assert by_actor[alice].author_handle == remote.handle("alice")
        # The reply itself is still in the thread; the vote never was a reply.
        replies = list((root / "interactions" / "replies" / "events" / SLUG).glob("*.md"))
        assert len(replies) == 2

        # After the build, the event page counts the answers and names the member
        # going; Alice, who can't make it, is not among those going.
        (root / "content" / "members" / "mo.md").write_text(
            f"---\nname: Mo Mobile\nhandle: '{remote.handle('mo')}'\n---\nMo mends radios.\n",
            encoding="utf-8",
        )
        cli("build", str(root))
        page = (root / "public" / "events" / SLUG / "index.html").read_text(encoding="utf-8")
        section = page[
            page.index('<section class="rsvps"') : page.index(
                "</section>", page.index('<section class="rsvps"')
            )
        ]
        assert "<strong>1</strong> going" in section
        assert "1 of 2 places taken" in section
        assert re.search(r'<a href="[^"]*/members/mo/">Mo Mobile</a>', section), section
        assert "waiting list" not in section.split("Say you")[0]
        assert "alice" not in section.split("Say you")[0].lower()
    finally:
        origin.stop()
        remote.stop()
