"""Inbox admission against hostile and broken input: the real sidecar under waitress.

Deliveries are signed by `apsig` (an independent implementation) on behalf of a
loopback "remote instance" whose actors and keys it serves itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sidecar_peer import PUBLIC, Remote, SidecarServer, SiteOrigin, get, post, running, write_site

# Every test runs on SQLite, then on PostgreSQL (tests/pg.py).
pytestmark = pytest.mark.usefixtures("module_backend")


@pytest.fixture(scope="module")
def remote() -> Iterator[Remote]:
    peer = Remote(users=("alice", "bob", "carol", "gus")).start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def origin() -> Iterator[SiteOrigin]:
    o = SiteOrigin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    origin: SiteOrigin,
    remote: Remote,
    module_backend: str,
) -> Path:
    root = tmp_path_factory.mktemp("site")
    write_site(
        root,
        origin.base_url,
        moderation=(
            f"  blocked_domains: [spam.example]\n  blocked_actors: ['{remote.actor('carol')}']\n"
        ),
    )
    return root


@pytest.fixture(scope="module")
def sidecar(site: Path) -> Iterator[SidecarServer]:
    with running(site) as server:
        yield server


_counter = iter(range(1_000_000))


def note_create(remote: Remote, user: str = "alice", **note: object) -> dict[str, object]:
    n = next(_counter)
    actor = remote.actor(user)
    obj = {
        "id": f"{actor}/statuses/{n}",
        "type": "Note",
        "attributedTo": actor,
        "content": f"<p>hello {n}</p>",
        "to": [PUBLIC],
        **note,
    }
    return {"id": f"{actor}/statuses/{n}/activity", "type": "Create", "actor": actor, "object": obj}


def stored(sidecar: SidecarServer, activity_id: str) -> int:
    with sidecar.db() as conn:
        return int(
            conn.execute(
                "SELECT COUNT(*) FROM inbox_activities WHERE id = ?", (activity_id,)
            ).fetchone()[0]
        )


def test_healthz(sidecar: SidecarServer) -> None:
    from sidecar_peer import get

    reply = get(sidecar.base + "/healthz")
    assert reply.status == 200
    assert reply.json["status"] == "ok"


def test_a_signed_delivery_is_stored_and_answered_202(
    sidecar: SidecarServer, remote: Remote
) -> None:
    activity = note_create(remote)
    reply = remote.deliver(sidecar.inbox, activity)
    assert reply.status == 202, reply.body
    assert reply.json == {"status": "accepted"}
    assert stored(sidecar, str(activity["id"])) == 1


def test_the_actor_inbox_takes_deliveries_too(sidecar: SidecarServer, remote: Remote) -> None:
    activity = note_create(remote)
    reply = remote.deliver(sidecar.base + "/ap/inbox", activity)
    assert reply.status == 202, reply.body


def test_the_same_delivery_twice_is_stored_once(sidecar: SidecarServer, remote: Remote) -> None:
    """A byte-identical replay (same signature) and a redelivery are both 202 and do nothing."""
    activity = note_create(remote)
    body = json.dumps(activity).encode()
    headers = remote.signed_headers("alice", sidecar.inbox, body)
    first = post(sidecar.inbox, body, headers)
    replay = post(sidecar.inbox, body, headers)
    resigned = remote.deliver(sidecar.inbox, activity)
    assert (first.status, replay.status, resigned.status) == (202, 202, 202)
    assert first.json == {"status": "accepted"}
    assert replay.json == resigned.json == {"status": "duplicate"}
    assert stored(sidecar, str(activity["id"])) == 1


def test_body_over_one_mebibyte_is_413(sidecar: SidecarServer, remote: Remote) -> None:
    activity = note_create(remote, content="x" * (1024 * 1024))
    reply = remote.deliver(sidecar.inbox, activity)
    assert reply.status == 413
    assert "larger than" in reply.json["error"]


def test_chunked_body_over_one_mebibyte_is_413(sidecar: SidecarServer, remote: Remote) -> None:
    """No Content-Length to trust: the body is counted as it is read."""
    activity = note_create(remote, content="x" * (2 * 1024 * 1024))
    body = json.dumps(activity).encode()
    headers = remote.signed_headers("alice", sidecar.inbox, body)
    reply = post(sidecar.inbox, body, headers, chunked=True)
    assert reply.status == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_415(
    sidecar: SidecarServer, remote: Remote, content_type: str
) -> None:
    activity = note_create(remote)
    reply = remote.deliver(sidecar.inbox, activity, content_type=content_type)
    assert reply.status == 415


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        "application/ld+json",
        "application/json; charset=utf-8",
    ],
)
def test_activitypub_content_types_are_accepted(
    sidecar: SidecarServer, remote: Remote, content_type: str
) -> None:
    reply = remote.deliver(sidecar.inbox, note_create(remote), content_type=content_type)
    assert reply.status == 202, reply.body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not JSON"),
        (b"[1, 2]", "body is not a JSON object"),
        (b'{"type": "Create", "actor": "x"}', "activity has no id"),
        (b'{"id": "https://a.example/1", "actor": "https://a.example/u"}', "activity has no type"),
        (b'{"id": "https://a.example/1", "type": "Create"}', "activity has no actor"),
        (b"[" * 200_000 + b"]" * 200_000, "body is not JSON: nested too deeply"),
        # Deep enough for the readers after the parser (they recurse), not for json.loads.
        (b'{"a": ' * 900 + b"1" + b"}" * 900, "body is not JSON: nested deeper than 64 levels"),
        ('{"id": "x"}'.encode("utf-16"), "body is not JSON: 'utf-8' codec can't decode"),
    ],
)
def test_not_an_activity_is_400(
    sidecar: SidecarServer, remote: Remote, body: bytes, reason: str
) -> None:
    reply = post(sidecar.inbox, body, remote.signed_headers("alice", sidecar.inbox, body))
    assert reply.status == 400
    assert reply.json["error"].startswith(reason)


def test_an_integer_of_5000_digits_is_400_not_500(sidecar: SidecarServer, remote: Remote) -> None:
    """Python refuses to convert it (a ValueError json.loads does not wrap): that was a 500."""
    body = json.dumps(note_create(remote)).encode()[:-1] + b', "n": ' + b"7" * 5000 + b"}"
    reply = post(sidecar.inbox, body, remote.signed_headers("alice", sidecar.inbox, body))
    assert reply.status == 400
    assert reply.json == {"error": "body is not JSON: an integer of 5000 digits is too long"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"NaN", "NaN is not a JSON value"),
        (b"-Infinity", "-Infinity is not a JSON value"),
        (b"1e999", "the number 1e999 is out of range"),
        (b'"\\ud800"', "a string holds a lone surrogate (surrogates not allowed)"),
    ],
)
def test_what_json_loads_lets_through_but_is_not_json_is_400(
    sidecar: SidecarServer, remote: Remote, value: bytes, reason: str
) -> None:
    body = json.dumps(note_create(remote)).encode()[:-1] + b', "n": ' + value + b"}"
    reply = post(sidecar.inbox, body, remote.signed_headers("alice", sidecar.inbox, body))
    assert (reply.status, reply.json) == (400, {"error": f"body is not JSON: {reason}"})


def test_a_key_fetch_redirected_to_a_file_url_is_401_not_500(
    sidecar: SidecarServer, remote: Remote
) -> None:
    remote.redirects["/moved"] = "file:///etc/passwd"
    actor = remote.base + "/moved"
    activity = {"id": actor + "/1", "type": "Like", "actor": actor, "object": "https://x/1"}
    reply = remote.deliver(sidecar.inbox, activity, key_id=actor + "#main-key")
    assert reply.status == 401, reply.body
    assert reply.json["error"].startswith(f"could not fetch key {actor}#main-key")
    assert "file:///etc/passwd" in reply.json["error"]
    assert remote.deliver(sidecar.inbox, note_create(remote)).status == 202


def test_activity_id_on_another_host_is_400(sidecar: SidecarServer, remote: Remote) -> None:
    activity = note_create(remote)
    activity["id"] = "https://elsewhere.example/activity/1"
    reply = remote.deliver(sidecar.inbox, activity)
    assert reply.status == 400
    assert reply.json == {"error": "activity id is not on the actor's host"}


def test_unsigned_is_401(sidecar: SidecarServer, remote: Remote) -> None:
    body = json.dumps(note_create(remote)).encode()
    reply = post(sidecar.inbox, body, {"Content-Type": "application/activity+json"})
    assert reply.status == 401
    assert reply.json == {"error": "request is not signed"}


def test_malformed_signature_is_400(sidecar: SidecarServer, remote: Remote) -> None:
    body = json.dumps(note_create(remote)).encode()
    headers = remote.signed_headers("alice", sidecar.inbox, body)
    headers["Signature"] = f'keyId="{remote.key_id("alice")}",algorithm="rsa-sha256",headers="date"'
    reply = post(sidecar.inbox, body, headers)
    assert reply.status == 400
    assert "signature" in reply.json["error"].lower()


def test_signature_by_another_key_is_401(sidecar: SidecarServer, remote: Remote) -> None:
    """alice's keyId, bob's private key."""
    reply = remote.deliver(sidecar.inbox, note_create(remote), key=remote.keys["bob"])
    assert reply.status == 401
    assert reply.json["error"].startswith("Verification failed")


def test_expired_signature_is_401(sidecar: SidecarServer, remote: Remote) -> None:
    old = datetime.now(UTC) - timedelta(hours=3)
    reply = remote.deliver(sidecar.inbox, note_create(remote), date=old)
    assert reply.status == 401
    assert "expired" in reply.json["error"].lower() or "date" in reply.json["error"].lower()


def test_body_changed_after_signing_is_401(sidecar: SidecarServer, remote: Remote) -> None:
    activity = note_create(remote)
    body = json.dumps(activity).encode()
    headers = remote.signed_headers("alice", sidecar.inbox, body)
    tampered = body.replace(b"hello", b"HELLO")
    reply = post(sidecar.inbox, tampered, headers)
    assert reply.status == 401
    assert "digest" in reply.json["error"].lower()
    assert stored(sidecar, str(activity["id"])) == 0


def test_actor_who_is_not_the_key_owner_is_401(sidecar: SidecarServer, remote: Remote) -> None:
    """bob's activity signed (validly) with alice's key."""
    activity = note_create(remote, user="bob")
    reply = remote.deliver(sidecar.inbox, activity, user="alice")
    assert reply.status == 401
    assert reply.json["error"] == (
        f"actor {remote.actor('bob')} is not the owner of key {remote.key_id('alice')}"
    )
    assert stored(sidecar, str(activity["id"])) == 0


def test_blocked_actor_is_202_and_dropped(sidecar: SidecarServer, remote: Remote) -> None:
    activity = note_create(remote, user="carol")
    reply = remote.deliver(sidecar.inbox, activity, user="carol")
    assert reply.status == 202
    assert reply.json == {"status": "dropped"}
    assert stored(sidecar, str(activity["id"])) == 0


def test_blocked_domain_is_202_and_dropped_without_a_key_fetch(
    sidecar: SidecarServer, remote: Remote
) -> None:
    actor = "https://spam.example/users/x"
    activity = {
        "id": actor + "/1",
        "type": "Create",
        "actor": actor,
        "object": {"id": actor + "/n"},
    }
    reply = remote.deliver(sidecar.inbox, activity, key_id=actor + "#main-key")
    assert reply.status == 202
    assert reply.json == {"status": "dropped"}


def test_unknown_type_is_202_and_ignored(sidecar: SidecarServer, remote: Remote) -> None:
    actor = remote.actor("alice")
    activity = {"id": actor + "/emoji-react/1", "type": "EmojiReact", "actor": actor, "object": "x"}
    reply = remote.deliver(sidecar.inbox, activity)
    assert reply.status == 202
    assert reply.json == {"status": "ignored"}
    assert stored(sidecar, str(activity["id"])) == 0


def test_rotated_key_is_refetched_once(tmp_path: Path, origin: SiteOrigin, remote: Remote) -> None:
    write_site(tmp_path, origin.base_url)
    with running(tmp_path, key_refresh_after=0.0) as server:
        assert (
            remote.deliver(server.inbox, note_create(remote, user="gus"), user="gus").status == 202
        )
        remote.rotate("gus")
        reply = remote.deliver(server.inbox, note_create(remote, user="gus"), user="gus")
        assert reply.status == 202, reply.body


def test_get_on_the_inbox_is_405(sidecar: SidecarServer) -> None:
    from sidecar_peer import get

    reply = get(sidecar.inbox)
    assert reply.status == 405
    assert reply.headers["allow"] == "POST"


def test_followers_collection_has_only_a_count(sidecar: SidecarServer) -> None:
    from sidecar_peer import get

    reply = get(sidecar.base + "/ap/followers")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/activity+json"
    doc = reply.json
    assert doc["type"] == "OrderedCollection"
    assert doc["totalItems"] == 0
    assert "orderedItems" not in doc and "first" not in doc


# --- rate limits and SSRF ------------------------------------------------------


def test_flood_from_one_domain_is_429_with_retry_after(
    tmp_path: Path, origin: SiteOrigin, remote: Remote
) -> None:
    write_site(tmp_path, origin.base_url)
    with running(tmp_path, rate=0.5, burst=3) as server:
        statuses = [remote.deliver(server.inbox, note_create(remote)).status for _ in range(5)]
        assert statuses[:3] == [202, 202, 202]
        reply = remote.deliver(server.inbox, note_create(remote))
        assert reply.status == 429
        assert int(reply.headers["retry-after"]) >= 1
        assert reply.json == {"error": "too many requests"}


def test_too_many_new_keys_at_once_is_429_whatever_host_they_claim(
    tmp_path: Path, origin: SiteOrigin, remote: Remote
) -> None:
    write_site(tmp_path, origin.base_url)
    with running(tmp_path, key_fetch_rate=0.01, key_fetch_burst=1) as server:
        assert remote.deliver(server.inbox, note_create(remote, "alice")).status == 202
        reply = remote.deliver(server.inbox, note_create(remote, "bob"), user="bob")
        assert reply.status == 429
        assert reply.json == {"error": "too many new senders at once"}
        assert int(reply.headers["retry-after"]) > 1
        # A sender whose key is cached is not held up.
        assert remote.deliver(server.inbox, note_create(remote, "alice")).status == 202


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254"])
def test_key_at_a_private_address_is_not_fetched(
    tmp_path: Path, origin: SiteOrigin, remote: Remote, host: str
) -> None:
    write_site(tmp_path, origin.base_url, allow_private=False)
    fetched = len(remote.fetches)
    with running(tmp_path, fetch_timeout=3.0) as server:
        if host == "127.0.0.1":
            activity = note_create(remote)
            reply = remote.deliver(server.inbox, activity)
        else:
            actor = f"http://{host}/users/x"
            activity = {"id": actor + "/1", "type": "Like", "actor": actor, "object": "x"}
            reply = remote.deliver(server.inbox, activity, key_id=actor + "#main-key")
        assert reply.status == 401
        assert "could not fetch key" in reply.json["error"]
        assert stored(server, str(activity["id"])) == 0
    assert len(remote.fetches) == fetched  # refused before connecting


def test_a_bug_is_a_500_with_json_not_a_crash() -> None:
    """Nothing reaches the WSGI server: an exception is logged and answered 500 JSON."""
    import io

    from commsite.config import SiteConfig
    from commsite.sidecar.app import SidecarApp

    class Broken:
        def admit(self, request: object) -> object:
            raise RuntimeError("boom")

    app = SidecarApp(
        config=SiteConfig(title="t", base_url="https://x.example/"),
        store=None,  # type: ignore[arg-type]
        admission=Broken(),  # type: ignore[arg-type]
    )
    seen: list[str] = []
    body = b"{}"
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/inbox",
        "CONTENT_TYPE": "application/activity+json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    out = b"".join(app(environ, lambda status, headers: seen.append(status)))
    assert seen == ["500 Internal Server Error"]
    assert json.loads(out) == {"error": "internal error"}


# --- the signed Host must be ours ---------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "EVIL.example:443", "127.0.0.2"])
def test_a_delivery_signed_for_another_host_is_401(
    sidecar: SidecarServer, remote: Remote, host: str
) -> None:
    """Signed for `Host: evil.example` and sent with that Host: a valid signature, not for us.

    It is also what replaying here a delivery made to another server looks like."""
    activity = note_create(remote)
    body = json.dumps(activity).encode()
    headers = remote.signed_headers("alice", f"http://{host}/inbox", body)
    assert headers["host"] == host  # signed, and sent as is
    reply = post(sidecar.inbox, body, headers)
    assert reply.status == 401
    assert reply.json["error"].startswith(f"the request was signed for {host}, not for this site")
    assert stored(sidecar, str(activity["id"])) == 0


def test_a_delivery_that_does_not_sign_its_host_is_401(
    sidecar: SidecarServer, remote: Remote
) -> None:
    activity = note_create(remote)
    body = json.dumps(activity).encode()
    headers = remote.signed_headers("alice", sidecar.inbox, body, signed_headers=["date", "digest"])
    reply = post(sidecar.inbox, body, headers)
    assert reply.status == 401
    assert reply.json["error"].startswith("The Host header must be signed")
    assert stored(sidecar, str(activity["id"])) == 0


def test_the_site_host_with_its_default_port_and_an_alias_are_ours(
    tmp_path: Path, origin: SiteOrigin, remote: Remote
) -> None:
    write_site(tmp_path, "https://Club.Example/", host_aliases=("www.club.example",))
    with running(tmp_path) as server:
        for host in ("club.example", "CLUB.example:443", "www.club.example:8080"):
            activity = note_create(remote)
            body = json.dumps(activity).encode()
            headers = remote.signed_headers("alice", f"https://{host}/inbox", body)
            reply = post(server.inbox, body, headers)
            assert reply.status == 202, (host, reply.body)
        headers = remote.signed_headers("alice", "https://club.example:8443/inbox", body)
        reply = post(server.inbox, body, headers)
        assert reply.status == 401, reply.body


# --- every refusal is logged --------------------------------------------------------


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused ")]


def test_the_actor_who_is_not_the_key_owner_is_logged(
    sidecar: SidecarServer, remote: Remote, caplog: pytest.LogCaptureFixture
) -> None:
    activity = note_create(remote, user="bob")
    with caplog.at_level(logging.INFO, logger="commsite.sidecar"):
        reply = remote.deliver(sidecar.inbox, activity, user="alice")
    assert reply.status == 401
    bob, key = remote.actor("bob"), remote.key_id("alice")
    assert _refusals(caplog) == [
        f"refused 401 from 127.0.0.1, key {key}, actor {bob}, activity {activity['id']}:"
        f" actor {bob} is not the owner of key {key}"
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "refused 400 from 127.0.0.1, key {key}: body is not JSON: "),
        (b"x" * (1024 * 1024 + 1), "refused 413 from 127.0.0.1, key {key}: body larger than"),
    ],
)
def test_a_400_and_a_413_are_logged_with_their_reason(
    sidecar: SidecarServer,
    remote: Remote,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    expected: str,
) -> None:
    headers = remote.signed_headers("alice", sidecar.inbox, body)
    with caplog.at_level(logging.INFO, logger="commsite.sidecar"):
        reply = post(sidecar.inbox, body, headers)
    assert reply.status == int(expected.split()[1])
    (line,) = _refusals(caplog)
    assert line.startswith(expected.format(key=remote.key_id("alice"))), line


def test_a_refusal_before_admission_is_logged_too(
    sidecar: SidecarServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A Content-Length that is not a number (http.client would not send it: the app directly)."""
    import io

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/inbox",
        "REMOTE_ADDR": "192.0.2.7",
        "CONTENT_TYPE": "application/activity+json",
        "CONTENT_LENGTH": "12x",
        "wsgi.input": io.BytesIO(b"{}"),
    }
    statuses: list[str] = []
    with caplog.at_level(logging.INFO, logger="commsite.sidecar"):
        sidecar.sidecar.app(environ, lambda status, _headers: statuses.append(status))
        reply = get(sidecar.inbox)
    assert statuses == ["400 Bad Request"] and reply.status == 405
    assert _refusals(caplog) == [
        "refused 400 from 192.0.2.7: Content-Length is not a number",
        "refused 405 from 127.0.0.1: the inbox only takes POST",
    ]


def test_a_header_that_would_split_the_response_is_a_500_not_sent() -> None:
    """A route that let request text into a header is a bug: it never reaches the server."""
    import io

    from commsite.config import SiteConfig
    from commsite.sidecar.admission import Answer
    from commsite.sidecar.app import SidecarApp

    class Leaky:
        def admit(self, request: object) -> Answer:
            return Answer(429, {"error": "x"}, (("Retry-After", "1\r\nSet-Cookie: a=b"),))

    app = SidecarApp(
        config=SiteConfig(title="t", base_url="https://x.example/"),
        store=None,  # type: ignore[arg-type]
        admission=Leaky(),  # type: ignore[arg-type]
    )
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/inbox",
        "CONTENT_TYPE": "application/activity+json",
        "CONTENT_LENGTH": "2",
        "wsgi.input": io.BytesIO(b"{}"),
    }
    out = b"".join(app(environ, lambda status, headers: seen.append((status, headers))))
    assert seen[0][0] == "500 Internal Server Error"
    assert all("Set-Cookie" not in value for _, value in seen[0][1])
    assert json.loads(out) == {"error": "internal error"}


def test_a_sender_gone_mid_body_is_400_not_500(sidecar: SidecarServer, remote: Remote) -> None:
    """gunicorn raises an OSError (NoMoreData) from wsgi.input when the client goes away."""

    class Gone:
        def read(self, size: int = -1) -> bytes:
            raise ConnectionResetError("the client went away")

    body = json.dumps(note_create(remote)).encode()
    headers = remote.signed_headers("alice", sidecar.inbox, body)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/inbox",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/activity+json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_SIGNATURE": headers["Signature"],
        "wsgi.input": Gone(),
    }
    statuses: list[str] = []
    out = b"".join(sidecar.sidecar.app(environ, lambda status, _h: statuses.append(status)))
    assert statuses == ["400 Bad Request"]
    assert json.loads(out) == {"error": "the body could not be read: the client went away"}
