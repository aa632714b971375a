"""Members whose server's WebFinger domain is not its web host (Mastodon's
LOCAL_DOMAIN vs WEB_DOMAIN): matched through the actor's FEP-2c59 `webfinger`.

The sample site's member Ada is listed as @ada@social.example. Her server runs
at web.social.example (WEB_DOMAIN) and says so in her actor's `webfinger`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from commsite.federation.fetch import Fetcher
from commsite.sidecar.profiles import profile_from_document, webfinger_handle
from test_sidecar_processing import STORY, act, item, make, note


@pytest.mark.parametrize(
    ("claim", "actor", "expected"),
    [
        ("ada@social.example", "https://web.social.example/users/ada", "@ada@social.example"),
        ("acct:Ada@Social.example", "https://web.social.example/u/1", "@Ada@Social.example"),
        ("@ada@social.example", "https://social.example/users/ada", "@ada@social.example"),
        ("ada@social.example", "https://a.b.social.example/users/ada", "@ada@social.example"),
        ("ada@127.0.0.1:9", "http://127.0.0.1:9/users/ada", "@ada@127.0.0.1:9"),
    ],
)
def test_a_webfinger_domain_that_is_the_host_or_a_parent_is_kept(
    claim: str, actor: str, expected: str
) -> None:
    assert webfinger_handle(claim, actor) == expected


@pytest.mark.parametrize(
    ("claim", "actor"),
    [
        # Anyone could claim anyone's handle: another domain needs a WebFinger lookup.
        ("ada@social.example", "https://evil.example/users/ada"),
        ("ada@social.example", "https://evilsocial.example/users/ada"),
        ("ada@social.example", "https://social.example.evil/users/ada"),
        ("ada@web.social.example", "https://social.example/users/ada"),  # a child, not a parent
        ("ada@0.0.1", "http://127.0.0.1/users/ada"),  # addresses have no parent domains
        ("ada@example", "https://social.example/users/ada"),  # a bare top-level domain
        ("ada", "https://social.example/users/ada"),
        ("@social.example", "https://social.example/users/ada"),
        ("ada@", "https://social.example/users/ada"),
        ("a b@social.example", "https://social.example/users/ada"),
        ("ada@x@social.example", "https://social.example/users/ada"),
        (None, "https://social.example/users/ada"),
        (["ada@social.example"], "https://social.example/users/ada"),
    ],
)
def test_any_other_webfinger_claim_is_dropped(claim: Any, actor: str) -> None:
    assert webfinger_handle(claim, actor) is None


def test_the_actor_document_gives_both_handles() -> None:
    actor = "https://web.social.example/users/ada"
    doc = {"id": actor, "type": "Person", "preferredUsername": "ada",
           "webfinger": "ada@social.example", "inbox": actor + "/inbox"}  # fmt: skip
    profile = profile_from_document(doc, actor)
    assert profile.handles == ("@ada@web.social.example", "@ada@social.example")
    assert profile_from_document({**doc, "webfinger": None}, actor).handles == (
        "@ada@web.social.example",
    )


@pytest.fixture
def web_domain() -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
    """A loopback server that answers as web.social.example (the resolver maps the name)."""
    documents: dict[str, dict[str, Any]] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            doc = documents.get(self.path)
            body = json.dumps(doc).encode() if doc else b""
            self.send_response(200 if doc else 404)
            self.send_header("Content-Type", "application/activity+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://web.social.example:{server.server_address[1]}", documents
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _actor(base: str, user: str, webfinger: str | None) -> dict[str, Any]:
    doc = {"id": f"{base}/users/{user}", "type": "Person", "preferredUsername": user,
           "inbox": f"{base}/users/{user}/inbox"}  # fmt: skip
    if webfinger is not None:
        doc["webfinger"] = webfinger
    return doc


def _processor(tmp_path: Path) -> Any:
    p = make(tmp_path, approve="members")
    p.profiles.fetcher = Fetcher(
        allow_private=True, timeout=5.0, resolver=lambda host, port: ["127.0.0.1"]
    )
    return p


def test_a_member_listed_by_her_webfinger_handle_is_approved(
    tmp_path: Path, web_domain: tuple[str, dict[str, dict[str, Any]]]
) -> None:
    base, documents = web_domain
    documents["/users/ada"] = _actor(base, "ada", "ada@social.example")
    p = _processor(tmp_path)
    ada = f"{base}/users/ada"
    reply = note(ada, 1, inReplyTo=STORY)
    outcome = p.process(act("Create", ada, reply))
    assert (outcome.state, outcome.public_change) == ("done", True)
    assert item(p, reply["id"])["status"] == "approved"  # type: ignore[index]
    # The handle survives the profile cache.
    assert p.profiles.get(ada).webfinger == "@ada@social.example"


def test_without_the_webfinger_property_she_waits(
    tmp_path: Path, web_domain: tuple[str, dict[str, dict[str, Any]]]
) -> None:
    """The remaining limitation: @ada@web.social.example is not a listed handle."""
    base, documents = web_domain
    documents["/users/ada"] = _actor(base, "ada", None)
    p = _processor(tmp_path)
    ada = f"{base}/users/ada"
    reply = note(ada, 1, inReplyTo=STORY)
    assert p.process(act("Create", ada, reply)).state == "done"
    row = item(p, reply["id"])
    assert row is not None
    assert (row["status"], row["hold_reason"]) == ("pending", "author is not a member")


def test_a_stranger_claiming_a_members_handle_waits(
    tmp_path: Path, web_domain: tuple[str, dict[str, dict[str, Any]]]
) -> None:
    base, documents = web_domain
    mallory_base = base.replace("web.social.example", "evil.example")
    documents["/users/mallory"] = _actor(mallory_base, "mallory", "ada@social.example")
    p = _processor(tmp_path)
    mallory = f"{mallory_base}/users/mallory"
    reply = note(mallory, 1, inReplyTo=STORY)
    assert p.process(act("Create", mallory, reply)).state == "done"
    assert item(p, reply["id"])["status"] == "pending"  # type: ignore[index]
    assert p.profiles.get(mallory).webfinger is None


def test_a_block_of_her_webfinger_handle_holds_from_her_first_post(
    tmp_path: Path, web_domain: tuple[str, dict[str, dict[str, Any]]]
) -> None:
    """Blocked as @mallory@social.example, writing from web.social.example for the
    first time: her profile is fetched before anything is filed, and it names her."""
    base, documents = web_domain
    documents["/users/mallory"] = _actor(base, "mallory", "mallory@social.example")
    p = make(tmp_path, approve="everyone", blocked_actors=("@Mallory@Social.example",))
    p.profiles.fetcher = Fetcher(
        allow_private=True, timeout=5.0, resolver=lambda host, port: ["127.0.0.1"]
    )
    mallory = f"{base}/users/mallory"
    for activity in (act("Create", mallory, note(mallory, 1, inReplyTo=STORY)),
                     act("Like", mallory, STORY, 2)):  # fmt: skip
        outcome = p.process(activity)
        assert (outcome.state, outcome.detail) == (
            "refused",
            "blocked: actor @mallory@social.example is blocked",
        )
    assert p.store.conn.execute("SELECT COUNT(*) FROM inbox_items").fetchone()[0] == 0
    assert p.store.conn.execute("SELECT COUNT(*) FROM inbox_reactions").fetchone()[0] == 0
