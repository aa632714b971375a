"""`commsite sidecar --serve-site`: the built site and live WebFinger; proxies' Host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from sidecar_peer import PUBLIC, Remote, SidecarServer, get, post, running, write_site


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from commsite.build.run import BuildOptions, build_site

    root = tmp_path_factory.mktemp("site")
    write_site(root, "https://fixers.example/")
    result = build_site(BuildOptions(root=root, cache=False, jobs=1))
    assert result.ok, [d.format() for d in result.diagnostics]
    return root


@pytest.fixture(scope="module")
def server(built: Path) -> Iterator[SidecarServer]:
    with running(built, serve_site=True) as s:
        yield s


def test_pages_and_documents_have_their_content_types(server: SidecarServer) -> None:
    home = get(server.base + "/")
    assert home.status == 200 and home.headers["content-type"].startswith("text/html")
    actor = get(server.base + "/ap/actor")
    assert actor.status == 200
    assert actor.headers["content-type"] == "application/activity+json"
    assert json.loads(actor.body)["type"] == "Group"
    feed = get(server.base + "/feed.xml")
    assert feed.headers["content-type"].startswith("application/atom+xml")


def test_a_directory_without_slash_redirects_and_missing_is_the_404_page(
    server: SidecarServer,
) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port)
    conn.request("GET", "/stories/first-meetup")
    response = conn.getresponse()
    assert (response.status, response.getheader("Location")) == (301, "/stories/first-meetup/")
    conn.close()
    missing = get(server.base + "/no/such/page/")
    assert missing.status == 404 and missing.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "path", ["/../commsite.yaml", "/%2e%2e/commsite.yaml", "/..%2fcommsite.yaml"]
)
def test_nothing_outside_the_output_is_served(server: SidecarServer, path: str) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status in (400, 404)
    assert b"base_url" not in body


@pytest.mark.parametrize(
    "resource",
    ["acct:repair@fixers.example", "acct:REPAIR@Fixers.Example", "https://fixers.example/ap/actor"],
)
def test_webfinger_answers_its_names_in_any_case(server: SidecarServer, resource: str) -> None:
    reply = get(server.base + "/.well-known/webfinger?resource=" + quote(resource))
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/jrd+json"
    assert reply.headers["access-control-allow-origin"] == "*"
    jrd = reply.json
    assert jrd["subject"] == "acct:repair@fixers.example"
    assert [link["href"] for link in jrd["links"] if link["rel"] == "self"] == [
        "https://fixers.example/ap/actor"
    ]


@pytest.mark.parametrize(
    "query", ["resource=acct:someone@fixers.example", "resource=acct:repair@evil.example"]
)
def test_webfinger_404s_for_anyone_else(server: SidecarServer, query: str) -> None:
    reply = get(server.base + "/.well-known/webfinger?" + query)
    assert reply.status == 404
    assert reply.headers["access-control-allow-origin"] == "*"


def test_webfinger_without_a_resource_is_400(server: SidecarServer) -> None:
    assert get(server.base + "/.well-known/webfinger").status == 400


def test_the_inbox_still_answers_with_the_site_served(server: SidecarServer) -> None:
    reply = post(server.inbox, b"{}", {"Content-Type": "text/plain"})
    assert reply.status == 415


# --- behind a proxy -------------------------------------------------------------


def _activity(remote: Remote, n: int) -> dict[str, object]:
    actor = remote.actor("alice")
    note = {"id": f"{actor}/s/{n}", "type": "Note", "attributedTo": actor, "to": [PUBLIC]}
    return {"id": f"{actor}/s/{n}/a", "type": "Create", "actor": actor, "object": note}


@pytest.mark.parametrize(("trust", "status"), [(True, 202), (False, 401)])
def test_signatures_are_checked_against_the_forwarded_host_only_when_trusted(
    tmp_path: Path, trust: bool, status: int
) -> None:
    remote = Remote(users=("alice",)).start()
    try:
        write_site(tmp_path, "https://public.example/")
        with running(tmp_path, trust_forwarded_host=trust) as server:
            body = json.dumps(_activity(remote, 1)).encode()
            # The sender signs for the public URL; the proxy passes it on to 127.0.0.1.
            headers = remote.signed_headers("alice", "https://public.example/inbox", body)
            headers = {k: v for k, v in headers.items() if k.lower() != "host"}
            headers["Host"] = f"127.0.0.1:{server.port}"
            headers["X-Forwarded-Host"] = "public.example"
            reply = post(server.inbox, body, headers)
            assert reply.status == status, reply.body
    finally:
        remote.stop()


# --- routing by path only ---------------------------------------------------------


def _raw(
    server: SidecarServer, method: str, target: str, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Send `target` exactly as written (http.client would not rewrite it)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        if body:
            conn.putheader("Content-Type", "application/activity+json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_a_url_in_the_query_does_not_route_the_request(server: SidecarServer) -> None:
    """`GET /x?u=http://x/healthz` is /x (a 404 page), not /healthz."""
    status, headers, body = _raw(server, "GET", "/x?u=http://x/healthz")
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert b'"queued"' not in body


def test_a_url_in_the_query_does_not_reach_the_inbox(server: SidecarServer) -> None:
    """`POST /whatever?n=http://x/inbox` is a POST to /whatever: 405, not the inbox's 415."""
    status, headers, _ = _raw(server, "POST", "/whatever?n=http://x/inbox", b"{}")
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_an_absolute_form_target_routes_by_its_path(server: SidecarServer) -> None:
    """RFC 9112 absolute-form (what a proxy may send) is still the path of that URL."""
    status, _, body = _raw(server, "GET", f"http://127.0.0.1:{server.port}/healthz?x=http://a/b")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, _, body = _raw(server, "POST", f"http://127.0.0.1:{server.port}/inbox", b"{}")
    assert (status, json.loads(body)) == (400, {"error": "activity has no id"})  # the inbox


def test_an_unencoded_url_resource_is_looked_up_by_webfinger(server: SidecarServer) -> None:
    """`resource=https://HOST/ap/actor`, unencoded, is a resource: the JRD, not the actor."""
    status, headers, body = _raw(
        server, "GET", "/.well-known/webfinger?resource=https://fixers.example/ap/actor"
    )
    assert status == 200
    assert headers["content-type"] == "application/jrd+json"
    assert json.loads(body)["subject"] == "acct:repair@fixers.example"


def test_a_name_too_long_for_the_file_system_is_404_not_500(server: SidecarServer) -> None:
    """ENAMETOOLONG from the file system was an OSError, hence a 500 (found by the fuzz test)."""
    status, headers, _ = _raw(server, "GET", "/" + "a" * 300)
    assert status == 404 and headers["content-type"].startswith("text/html")
