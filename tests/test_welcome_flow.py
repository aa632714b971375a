"""End to end: an introduction is approved and the host's welcome reply reaches the people it names.

The remote instance (tests/sidecar_peer.py) is independent of commsite: apsig
signs its deliveries and verifies, with the key it fetches from our actor
document, every welcome we send; it answers WebFinger for its users. The
organiser's side is the real CLI (`commsite moderate`), with a real editor
process for `--welcome edit`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from commsite import urls
from commsite.cli import main
from commsite.database import Connection, Target, connect
from needs import JS_DIR, executable, node_package
from sidecar_peer import PUBLIC, Remote, SiteOrigin, running, serve_our_actor, write_site

INTERESTS = {
    "ada": ["electronics", "soldering", "radios"],
    "leila": ["electronics", "Soldering"],
    "dev": ["radios", "lamps"],
    "bob": ["knitting"],
}


@pytest.fixture
def remote() -> Iterator[Remote]:
    peer = Remote(users=("dan", "eve", "ada", "leila", "dev", "bob")).start()
    yield peer
    peer.stop()


def cli(
    *args: str, env: dict[str, str] | None = None, code: int = 0, input: str | None = None
) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False, env=env, input=input)
    assert result.exit_code == code, result.output
    return result.output


def make_site(root: Path, origin: SiteOrigin, remote: Remote) -> None:
    write_site(root, origin.base_url)
    for member, interests in INTERESTS.items():
        (root / "content" / "members" / f"{member}.md").write_text(
            f"---\nname: {member.capitalize()}\nhandle: '{remote.handle(member)}'\n"
            f"interests: {interests}\n---\nA member.\n",
            encoding="utf-8",
        )
    serve_our_actor(origin, root)


def introduce(
    server: Any, remote: Remote, origin: SiteOrigin, user: str, n: int, html: str, tags: list[str]
) -> str:
    actor = remote.actor(user)
    our_actor = origin.base_url + urls.ACTOR
    note = {
        "id": f"{actor}/statuses/{n}",
        "type": "Note",
        "attributedTo": actor,
        "content": html,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [actor + "/followers"],
        "published": "2026-11-20T10:00:00Z",
        "tag": [
            {"type": "Mention", "href": our_actor, "name": "@repair@x"},
            *(
                {"type": "Hashtag", "name": f"#{t}", "href": f"{remote.base}/tags/{t}"}
                for t in tags
            ),
        ],
    }
    activity = {"id": note["id"] + "/activity", "type": "Create", "actor": actor, "object": note}
    reply = remote.deliver(server.inbox, activity, user=user)
    assert reply.status == 202, reply.body
    assert server.wait_settled(activity["id"]) == "done"
    return str(note["id"])


def test_approved_introduction_gets_a_signed_welcome_mentioning_who_shares_interests(
    tmp_path: Path, remote: Remote, origin: SiteOrigin
) -> None:
    root = tmp_path / "site"
    make_site(root, origin, remote)
    our_actor = origin.base_url + urls.ACTOR
    with running(root) as server:
        # Dev follows the community: found through the follower list; the others by WebFinger.
        follow = {
            "id": remote.actor("dev") + "#f/1",
            "type": "Follow",
            "actor": remote.actor("dev"),
            "object": our_actor,
        }
        assert remote.deliver(server.inbox, follow, user="dev").status == 202
        remote.wait_for("Accept")
        intro = introduce(
            server,
            remote,
            origin,
            "dan",
            1,
            '<p>Hi, I\'m Dan! I repair old radios and love soldering. <a href="x">#introduction</a>'
            ' <a href="y">#Electronics</a></p>',
            ["introduction", "Electronics"],
        )
        database = server.sidecar.store.target
    n = seq_of_db(database, intro)
    waiting = cli("moderate", "list", str(root))
    assert f"#{n} introduction from {remote.handle('dan')}" in waiting

    out = cli("moderate", "approve", n, "--welcome", "send", str(root))
    assert f"approved #{n}" in out
    assert "introduces " + remote.handle("ada") in out
    # Ada shares three interests, Leila two, Dev one; Bob none.
    order = [out.index(remote.handle(m)) for m in ("ada", "leila", "dev")]
    assert order == sorted(order), out
    assert remote.handle("bob") not in out
    assert "delivered to" in out, out

    creates = remote.wait_for("Create", 4)
    assert remote.rejected == []
    assert sorted(c["inbox"] for c in creates) == sorted(
        f"/users/{u}/inbox" for u in ("dan", "ada", "leila", "dev")
    )
    create = creates[0]
    assert create["actor"] == our_actor
    assert create["key_id"] == our_actor + "#main-key"
    note = create["object"]
    assert note["type"] == "Note" and note["attributedTo"] == our_actor
    assert note["inReplyTo"] == intro
    assert note["id"].startswith(origin.base_url)
    expected = [remote.actor(u) for u in ("dan", "ada", "leila", "dev")]
    assert note["to"] == expected and create["to"] == expected
    assert note["cc"] == [PUBLIC]
    assert [(t["type"], t["href"]) for t in note["tag"]] == [("Mention", a) for a in expected]
    assert [t["name"] for t in note["tag"]] == [
        remote.handle(u) for u in ("dan", "ada", "leila", "dev")
    ]
    content = note["content"]
    assert "Welcome to Loopback Repair Café, Dan Remote!" in content  # the name without its markup
    assert "<b>" not in content
    assert f'href="{origin.base_url}rules/"' in content
    assert 'class="u-url mention"' in content and "electronics, soldering and radios" in content

    with db_of(database) as conn:
        row = conn.execute("SELECT * FROM welcome_replies").fetchone()
        assert (row["introduction"], row["status"], row["newcomer"]) == (
            intro,
            "sent",
            remote.actor("dan"),
        )
        mentions = {
            r["member"]: r["shared"] for r in conn.execute("SELECT * FROM welcome_mentions")
        }
        assert mentions == {
            "ada": '["electronics", "soldering", "radios"]',
            "leila": '["electronics", "Soldering"]',
            "dev": '["radios"]',
        }
    log = cli("moderate", "log", str(root))
    assert f"welcome {n}" in log

    # Once sent, never twice.
    again = cli("moderate", "welcome", n, "--welcome", "send", str(root), code=1)
    assert "was welcomed at" in again
    assert len(remote.wait_for("Create", 4)) == 4


def seq_of_db(database: Target, ap_id: str) -> str:
    with db_of(database) as conn:
        return str(
            conn.execute("SELECT seq FROM inbox_items WHERE ap_id = ?", (ap_id,)).fetchone()[0]
        )


class db_of:
    """A connection of its own to the sidecar's database (SQLite or PostgreSQL)."""

    def __init__(self, target: Target) -> None:
        self.conn = connect(target)

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def test_no_shared_interest_still_greets_and_links_the_rules_and_edit_adds_a_mention(
    tmp_path: Path, remote: Remote, origin: SiteOrigin
) -> None:
    root = tmp_path / "site"
    make_site(root, origin, remote)
    with running(root) as server:
        intro = introduce(
            server, remote, origin, "eve", 7, "<p>Hello all! #introduction</p>", ["introduction"]
        )
        database = server.sidecar.store.target
    n = seq_of_db(database, intro)
    out = cli("moderate", "approve", n, str(root))  # a script: nothing decided, a hint
    assert f"has no welcome yet: propose one with `commsite moderate welcome {n}`" in out
    preview = cli("moderate", "welcome", n, str(root))  # shown, not sent
    assert "Welcome reply proposed" in preview and "not sent" in preview
    assert "1 recent introduction without a welcome" in cli("moderate", "list", str(root))
    listing = cli("moderate", "welcome", str(root))
    assert f"#{n} introduction from {remote.handle('eve')}" in listing
    assert "1 introduction of the last 30 days without a welcome" in listing

    # The organiser edits it in a real editor process: adds Bob, and a line of markup.
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys\n"
        "p = sys.argv[1]\n"
        "text = open(p).read()\n"
        f"added = 'Knitters: ask {remote.handle('bob')} <script>x</script>.'\n"
        "text = text.replace('Our rules', added + '\\n\\nOur rules')\n"
        "open(p, 'w').write(text)\n"
    )
    out = cli(
        "moderate",
        "welcome",
        n,
        "--welcome",
        "edit",
        str(root),
        env={"EDITOR": f"{sys.executable} {editor}", "VISUAL": ""},
    )
    assert "no member shares an interest" in out
    creates = remote.wait_for("Create", 2)
    assert remote.rejected == []
    assert sorted(c["inbox"] for c in creates) == ["/users/bob/inbox", "/users/eve/inbox"]
    note = creates[0]["object"]
    assert note["to"] == [remote.actor("eve"), remote.actor("bob")]
    content = note["content"]
    assert "Welcome to Loopback Repair Café, Eve Remote!" in content
    assert f"{origin.base_url}rules/" in content
    assert "&lt;script&gt;" in content and "<script>" not in content
    assert "# Write the welcome" not in content
    with db_of(database) as conn:
        # Bob was named by the organiser, not proposed: counted, sharing nothing listed.
        assert [tuple(r) for r in conn.execute("SELECT member, shared FROM welcome_mentions")] == [
            ("bob", "[]")
        ]
    assert "0 introductions of the last 30 days without a welcome" in cli(
        "moderate", "welcome", str(root)
    )


def test_skip_records_and_a_handle_that_cannot_be_found_sends_nothing(
    tmp_path: Path, remote: Remote, origin: SiteOrigin
) -> None:
    root = tmp_path / "site"
    make_site(root, origin, remote)
    with running(root) as server:
        first = introduce(
            server, remote, origin, "dan", 1, "<p>Hi #introduction</p>", ["introduction"]
        )
        second = introduce(
            server, remote, origin, "eve", 2, "<p>Hey #introduction</p>", ["introduction"]
        )
        database = server.sidecar.store.target
    a, b = seq_of_db(database, first), seq_of_db(database, second)
    # Asked (as in a terminal), the organiser answers "k": skip.
    out = cli("moderate", "approve", a, "--welcome", "ask", str(root), input="k\n")
    assert "Send it? [s]end, [e]dit, s[k]ip, [l]ater" in out
    assert f"welcome skipped for #{a}" in out
    cli("moderate", "approve", b, str(root))
    unknown = f"@nobody@{remote.host}"
    out = cli(
        "moderate", "welcome", b, "--welcome-text", f"Welcome! Meet {unknown}.", str(root), code=1
    )
    assert "cannot find whom the welcome mentions" in out and unknown in out
    with db_of(database) as conn:
        assert [
            tuple(r) for r in conn.execute("SELECT introduction, status FROM welcome_replies")
        ] == [(first, "skipped")]
        assert conn.execute("SELECT COUNT(*) FROM delivery_rows").fetchone()[0] == 0
    # Rejected or unknown introductions get no welcome.
    assert "no introduction '999'" in cli("moderate", "welcome", "999", str(root), code=1)
    # The skipped one can still be welcomed later; the text's own handle is kept first.
    out = cli("moderate", "welcome", a, "--welcome-text", "Glad you came, Dan.", str(root))
    creates = remote.wait_for("Create", 1)
    assert [c["inbox"] for c in creates] == ["/users/dan/inbox"]
    assert creates[0]["object"]["content"].startswith('<p><span class="h-card"')


@dataclass
class RoutedRemote(Remote):
    """A remote whose listed users have their inbox elsewhere (at the Fedify verifier)."""

    inboxes: dict[str, str] = field(default_factory=dict)

    def actor_document(self, user: str) -> dict[str, Any]:
        doc = super().actor_document(user)
        if user in self.inboxes:
            doc["inbox"] = self.inboxes[user]
            doc.pop("endpoints", None)
        return doc


@pytest.fixture
def fedify_verifier() -> Iterator[str]:
    """Base URL of tests/js/sig-verify-server.mjs: Fedify's verifyRequest() on every request."""
    node_package("@fedify/fedify")
    proc = subprocess.Popen(
        [executable("node"), str(JS_DIR / "sig-verify-server.mjs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("LISTENING "):
            proc.kill()
            pytest.fail(f"sig-verify-server.mjs did not start: {line!r} {proc.stderr.read()}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_fedify_verifies_the_welcome_a_member_receives(
    tmp_path: Path, origin: SiteOrigin, fedify_verifier: str
) -> None:
    """A second independent implementation: Fedify fetches our key and verifies the Create."""
    fedify_inbox = fedify_verifier + "/users/ada/inbox"
    peer = RoutedRemote(users=("dan", "ada"), inboxes={"ada": fedify_inbox}).start()
    try:
        root = tmp_path / "site"
        write_site(root, origin.base_url)
        (root / "content" / "members" / "ada.md").write_text(
            f"---\nname: Ada\nhandle: '{peer.handle('ada')}'\ninterests: [electronics]\n---\nHi\n",
            encoding="utf-8",
        )
        serve_our_actor(origin, root)
        with running(root) as server:
            intro = introduce(
                server, peer, origin, "dan", 1, "<p>Hi! #electronics</p>", ["electronics"]
            )
            database = server.sidecar.store.target
        n = seq_of_db(database, intro)
        out = cli("moderate", "approve", n, "--welcome", "send", str(root))
        assert f"delivered to {fedify_inbox}" in out, out
        assert [c["inbox"] for c in peer.wait_for("Create", 1)] == ["/users/dan/inbox"]
        with db_of(database) as conn:
            row = conn.execute(
                "SELECT state, http_status FROM delivery_rows WHERE inbox = ?", (fedify_inbox,)
            ).fetchone()
        assert tuple(row) == ("delivered", 200)  # 401 when Fedify's verification fails
    finally:
        peer.stop()


def test_an_inbox_that_does_not_answer_is_left_to_the_sidecar_to_retry(
    tmp_path: Path, origin: SiteOrigin
) -> None:
    dead_inbox = "http://127.0.0.1:9/users/ada/inbox"  # the discard port: nothing listens
    peer = RoutedRemote(users=("dan", "ada"), inboxes={"ada": dead_inbox}).start()
    try:
        root = tmp_path / "site"
        write_site(root, origin.base_url)
        (root / "content" / "members" / "ada.md").write_text(
            f"---\nname: Ada\nhandle: '{peer.handle('ada')}'\ninterests: [radios]\n---\nHi\n",
            encoding="utf-8",
        )
        serve_our_actor(origin, root)
        with running(root) as server:
            intro = introduce(server, peer, origin, "dan", 1, "<p>I fix radios</p>", [])
            database = server.sidecar.store.target
        n = seq_of_db(database, intro)
        out = cli("moderate", "approve", n, "--welcome", "send", str(root))
        assert f"{dead_inbox}: " in out and "the sidecar retries it" in out, out
        assert [c["inbox"] for c in peer.wait_for("Create", 1)] == ["/users/dan/inbox"]
        with db_of(database) as conn:
            state = conn.execute(
                "SELECT state FROM delivery_rows WHERE inbox = ?", (dead_inbox,)
            ).fetchone()[0]
        assert state == "pending"  # due again later, for the running sidecar's worker
    finally:
        peer.stop()
