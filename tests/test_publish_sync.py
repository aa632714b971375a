"""`commsite publish --sync-followers`: publishing from a CI runner that has the
private key but not the sidecar's database.

The real sidecar (waitress, SQLite) on loopback holds the followers; the "runner"
is a copy of the site with nothing in its data folder but the private key. The
followers' servers are publish_peers.Instance, which checks signatures with the
apsig library, not ours.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from cli_process import free_port
from commsite.activitypub.signatures import sign_cavage
from commsite.cli import main
from commsite.content.config_loader import load_config
from commsite.database import connect
from commsite.datadir import DataDir
from commsite.errors import CommsiteError
from commsite.federation.fetch import Fetcher
from commsite.federation.follower_sync import followers_url, parse_followers
from commsite.federation.followers import Follower, FollowerStore
from commsite.federation.keys import generate_keypair, key_id
from publish_peers import Instance, Origin, serve_actor, write_site
from sidecar_peer import SidecarServer

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, Path, SidecarServer, Instance]]:
    """(the sidecar's site, the runner's copy, the sidecar, the followers' server)."""
    origin = Origin()
    peer = Instance("peer", users=("ann", "bob")).start()
    port = free_port()
    home = tmp_path / "sidecar-site"
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    write_site(home, origin.base_url, {"hello": (yesterday, "Hello, neighbours.")})
    config = home / "commsite.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "federation:\n",
            f"federation:\n  inbox_url: http://127.0.0.1:{port}/ap/inbox\n",
        ),
        encoding="utf-8",
    )
    serve_actor(origin, home, NOW)
    with closing(connect(DataDir.for_site(home).database)) as conn:
        store = FollowerStore(conn)
        store.add(Follower(peer.actor("ann"), peer.inbox("ann"), peer.shared_inbox, None, NOW))
        store.add(Follower(peer.actor("bob"), peer.inbox("bob"), None, None, NOW, "@bob@peer"))
    sidecar = SidecarServer(home, port=port)
    runner = tmp_path / "runner"
    shutil.copytree(home, runner, ignore=shutil.ignore_patterns(".commsite"))
    (runner / ".commsite").mkdir(mode=0o700)
    shutil.copy(DataDir.for_site(home).private_key, runner / ".commsite" / "private-key.pem")
    try:
        yield home, runner, sidecar, peer
    finally:
        sidecar.close()
        peer.stop()
        origin.stop()


def test_the_runner_gets_the_followers_from_the_sidecar_and_announces_to_them(
    world: tuple[Path, Path, SidecarServer, Instance],
) -> None:
    _home, runner, sidecar, peer = world
    cli = CliRunner()
    result = cli.invoke(main, ["publish", str(runner), "--sync-followers"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2 followers from the sidecar (2 new)."
    assert "Queued 1 activity for 2 inboxes:" in lines
    assert lines[-1] == "1 activity → 2 inboxes: 2 delivered"
    create = f"{load_config(runner)[0].url('ap/stories/hello')}#create"  # type: ignore[union-attr]
    assert peer.ids() == {create: 2} and peer.rejected == []
    assert {r.inbox for r in peer.received} == {"/inbox", "/users/bob/inbox"}

    # Bob unfollows (the sidecar forgets him); the next run follows suit and sends nothing.
    with sidecar.db() as conn:
        conn.execute("DELETE FROM followers WHERE actor = ?", (peer.actor("bob"),))
    again = cli.invoke(main, ["publish", str(runner), "--sync-followers"])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        "1 follower from the sidecar (1 gone).",
        "Nothing new to publish",
    ]
    with closing(connect(DataDir.for_site(runner).database)) as conn:
        assert [f.actor for f in FollowerStore(conn).all()] == [peer.actor("ann")]


def test_only_the_communitys_own_key_reads_the_list(
    world: tuple[Path, Path, SidecarServer, Instance],
) -> None:
    home, _runner, sidecar, peer = world
    config, _ = load_config(home)
    assert config is not None
    url = followers_url(config)
    assert url == f"{sidecar.base}/ap/followers"
    anyone = requests.get(url, timeout=10)
    assert anyone.status_code == 200
    assert json.loads(anyone.content) == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": config.url("ap/followers"),
        "type": "OrderedCollection",
        "totalItems": 2,
    }
    stranger = sign_cavage(
        method="GET",
        url=url,
        body=None,
        key_id="https://evil.example/actor#main-key",
        private_key=generate_keypair(),
        now=datetime.now(UTC),
    )
    refused = requests.get(url, headers=stranger, timeout=10)
    assert refused.status_code == 401
    assert "followers" not in refused.text and peer.actor("ann") not in refused.text
    # Our key id with another key (someone who read the public key id): 401 too.
    forged = sign_cavage(
        method="GET",
        url=url,
        body=None,
        key_id=key_id(config),
        private_key=generate_keypair(),
        now=datetime.now(UTC),
    )
    assert requests.get(url, headers=forged, timeout=10).status_code == 401
    # A signed request replayed ten minutes later: 401.
    private = (home / ".commsite" / "private-key.pem").read_bytes()
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(private, None)
    old = sign_cavage(
        method="GET",
        url=url,
        body=None,
        key_id=key_id(config),
        private_key=key,  # type: ignore[arg-type]
        now=datetime.now(UTC) - timedelta(minutes=10),
    )
    assert requests.get(url, headers=old, timeout=10).status_code == 401
    fresh = Fetcher(allow_private=True, signer=(key_id(config), key))  # type: ignore[arg-type]
    listed = fresh.get_json(url)
    assert [item["id"] for item in listed["orderedItems"]] == [  # type: ignore[union-attr,index]
        peer.actor("ann"),
        peer.actor("bob"),
    ]


def test_a_sidecar_that_is_down_stops_the_publish_before_anything_is_sent(
    world: tuple[Path, Path, SidecarServer, Instance],
) -> None:
    _home, runner, sidecar, peer = world
    sidecar.close()
    result = CliRunner().invoke(main, ["publish", str(runner), "--sync-followers"])
    assert result.exit_code == 1
    assert "could not get the follower list from the sidecar at http://127.0.0.1:" in (
        result.output
    )
    assert "nothing was sent" in result.output and peer.received == []
    sidecar.close = lambda: None  # type: ignore[method-assign]  # (closed above)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"totalItems": 3}, "the sidecar answered the follower count but not the list"),
        ({"orderedItems": ["https://a.example/u"]}, "item 0 is not an object"),
        (
            {"orderedItems": [{"id": "https://a.example/u", "inbox": "file:///etc/passwd"}]},
            "item 0 has no http(s) 'id' and 'inbox'",
        ),
    ],
)
def test_a_hostile_or_broken_list_is_refused_whole(
    document: dict[str, object], message: str
) -> None:
    with pytest.raises(CommsiteError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_followers(document, NOW)


def test_the_list_is_asked_for_under_base_url_without_an_inbox_url(tmp_path: Path) -> None:
    root = tmp_path / "s"
    root.mkdir()
    (root / "commsite.yaml").write_text("title: T\nbase_url: https://fix.example/club/\n")
    config, _ = load_config(root)
    assert config is not None
    assert followers_url(config) == "https://fix.example/club/ap/followers"
    with_inbox = replace(
        config, federation=replace(config.federation, inbox_url="https://in.example/club/ap/inbox")
    )
    assert followers_url(with_inbox) == "https://in.example/club/ap/followers"
