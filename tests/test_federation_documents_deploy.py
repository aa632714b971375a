"""Deploy configs: _headers/_redirects for Netlify and Cloudflare Pages, and the
nginx and Caddy snippets, which are also run for real when nginx or caddy is
installed (Debian packages nginx-light and caddy): every typed output must come
back with content_type_for()'s Content-Type, _deploy/ must be refused, and the
sidecar's routes must reach the sidecar with the sender's Host header."""

from __future__ import annotations

import dataclasses
import functools
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from commsite import urls
from commsite.activitypub.documents import federation_documents
from commsite.config import FederationConfig, SidecarConfig
from commsite.content.model import Site
from commsite.feeds import atom_feed, events_calendar, json_feed
from commsite.site_files import content_type_for
from commsite.site_files.deploy import deploy_configs, sidecar_upstream
from handmade_site import site
from web_servers import free_port, running_caddy, running_nginx


def _text(s: Site, name: str) -> str:
    return deploy_configs(s)[name].decode()


def test_files_written() -> None:
    assert sorted(deploy_configs(site())) == [
        ".nojekyll",
        "_deploy/Caddyfile",
        "_deploy/nginx.conf",
        "_headers",
        "_redirects",
    ]


def test_headers_name_every_content_type() -> None:
    headers = _text(site(), "_headers")
    assert "/.well-known/webfinger\n  Content-Type: application/jrd+json\n" in headers
    assert "/ap/*\n  Content-Type: application/activity+json\n" in headers
    assert "/events.ics\n  Content-Type: text/calendar; charset=utf-8\n" in headers
    # WebFinger's CORS comes from the .well-known/* block, and only from it:
    # Cloudflare Pages joins a header two matching blocks send ("*, *").
    webfinger_block = headers.split("/.well-known/webfinger\n", 1)[1].split("\n/", 1)[0]
    assert "Access-Control-Allow-Origin" not in webfinger_block
    assert "/.well-known/*\n  Access-Control-Allow-Origin: *\n" in headers
    nodeinfo = "/nodeinfo/2.1\n  Content-Type: application/json\n  Access-Control-Allow-Origin: *\n"
    assert nodeinfo in headers


def test_redirects_without_a_public_sidecar_are_commented_out() -> None:
    redirects = _text(site(), "_redirects")
    assert "/_deploy/*  /404.html  404!\n/_deploy/*  /  302\n" in redirects
    assert "# /ap/inbox  https://SIDECAR.EXAMPLE/ap/inbox  200!" in redirects
    active = [line for line in redirects.splitlines() if line and not line.startswith("#")]
    assert all(line.startswith("/_deploy/") for line in active)


def test_redirects_proxy_to_the_public_sidecar() -> None:
    s = site(federation=FederationConfig(inbox_url="https://side.example.net/ap/inbox"))
    redirects = _text(s, "_redirects")
    for path in ("/inbox", "/ap/inbox", "/ap/followers"):
        assert f"\n{path}  https://side.example.net{path}  200!\n" in redirects


def test_no_sidecar_routes_without_federation() -> None:
    s = site(federation=FederationConfig(enabled=False))
    for name in ("_redirects", "_deploy/nginx.conf", "_deploy/Caddyfile"):
        assert "/ap/inbox" not in _text(s, name)


def test_without_federation_only_the_feeds_get_types() -> None:
    s = site(federation=FederationConfig(enabled=False))
    for name in ("_headers", "_deploy/nginx.conf", "_deploy/Caddyfile"):
        text = _text(s, name)
        assert "/feed.xml" in text and "/events.ics" in text
        for path in ("webfinger", "nodeinfo", "host-meta", "/ap/", "activity+json"):
            assert path not in text, (name, path)


def test_paths_follow_the_base_path() -> None:
    s = site(base_url="https://example.org/club/")
    assert "location = /club/ap/inbox {" in _text(s, "_deploy/nginx.conf")
    assert "respond /club/_deploy/* 404" in _text(s, "_deploy/Caddyfile")
    assert "/club/ap/*\n" in _text(s, "_headers")


def test_sidecar_upstream_uses_loopback_for_wildcards() -> None:
    def upstream(host: str) -> str:
        return sidecar_upstream(site(sidecar=SidecarConfig(host=host, port=9000)))

    assert upstream("0.0.0.0") == "127.0.0.1:9000"
    assert upstream("::") == "[::1]:9000"
    assert upstream("10.0.0.5") == "10.0.0.5:9000"


# --- real servers -------------------------------------------------------------------


class FakeSidecar(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None]]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append(("POST", self.path, self.headers.get("Host")))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_sidecar() -> Iterator[tuple[int, list[tuple[str, str, str | None]]]]:
    seen: list[tuple[str, str, str | None]] = []
    handler = type("Handler", (FakeSidecar,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def _write_site(root: Path, s: Site) -> dict[str, bytes]:
    documents, _ = federation_documents(s)
    outputs = {
        **documents,
        urls.FEED_ATOM: atom_feed(s),
        urls.FEED_JSON: json_feed(s),
        urls.EVENTS_ICS: events_calendar(s),
        **deploy_configs(s),
    }
    for path, body in outputs.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(body)
    return outputs


def _request(url: str, data: bytes | None = None) -> tuple[int, dict[str, str]]:
    """Status and headers; a header sent twice comes back joined with ", "."""

    def joined(message: Message) -> dict[str, str]:
        return {k.lower(): ", ".join(message.get_all(k) or []) for k in set(message.keys())}

    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as r:
            return r.status, joined(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, joined(err.headers)


def _check_served(port: int, outputs: dict[str, bytes], seen: list[Any]) -> None:
    base = f"http://127.0.0.1:{port}/"
    typed = [p for p in outputs if content_type_for(p)]
    assert urls.ACTOR in typed and urls.WEBFINGER in typed
    for path in typed:
        query = "?resource=acct:riverside@127.0.0.1" if path == urls.WEBFINGER else ""
        status, headers = _request(base + path + query)
        assert status == 200, path
        expected = content_type_for(path)
        assert expected is not None
        got = headers["content-type"].replace(" ", "").lower()
        assert got == expected.replace(" ", "").lower(), path
    status, headers = _request(base + urls.WEBFINGER)
    assert headers.get("access-control-allow-origin") == "*"
    assert _request(base + "_deploy/nginx.conf")[0] == 404
    assert _request(base + "_deploy/Caddyfile")[0] == 404
    assert _request(base + "_headers")[0] == 404
    assert _request(base + "_redirects")[0] == 404
    for path in (urls.INBOX, urls.SHARED_INBOX):
        status, headers = _request(base + path, data=b"{}")
        assert status == 202
        # The sidecar's own answer, not dressed as a file under ap/.
        assert "access-control-allow-origin" not in headers, path
        assert "activity+json" not in headers.get("content-type", ""), path
    assert seen == [
        ("POST", "/" + urls.INBOX, f"127.0.0.1:{port}"),
        ("POST", "/" + urls.SHARED_INBOX, f"127.0.0.1:{port}"),
    ]


def _local_site(port: int, sidecar_port: int) -> Site:
    s = site(base_url=f"http://127.0.0.1:{port}/")
    sidecar = SidecarConfig(host="127.0.0.1", port=sidecar_port)
    return dataclasses.replace(s, config=dataclasses.replace(s.config, sidecar=sidecar))


def test_nginx_serves_types_hides_deploy_and_proxies(
    tmp_path: Path, fake_sidecar: tuple[int, list[Any]]
) -> None:
    port = free_port()
    root = tmp_path / "public"
    outputs = _write_site(root, _local_site(port, fake_sidecar[0]))
    with running_nginx(tmp_path, port, f"root {root};\n        include {root}/_deploy/nginx.conf;"):
        _check_served(port, outputs, fake_sidecar[1])


class StaticHost(SimpleHTTPRequestHandler):
    """Stands in for GitHub Pages: guesses types from extensions (octet-stream for
    ap/actor), ignores the query string."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize("files", ["local", "proxied static host"])
def test_caddy_serves_types_hides_deploy_and_proxies(
    tmp_path: Path, fake_sidecar: tuple[int, list[Any]], files: str
) -> None:
    port = free_port()
    root = tmp_path / "public"
    outputs = _write_site(root, _local_site(port, fake_sidecar[0]))
    upstream = None
    if files == "local":
        serve_files = f"root * {root}\n    file_server"
    else:
        handler = functools.partial(StaticHost, directory=str(root))
        upstream = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=upstream.serve_forever, daemon=True).start()
        serve_files = f"reverse_proxy 127.0.0.1:{upstream.server_address[1]}"
    try:
        with running_caddy(tmp_path, port, f"import {root}/_deploy/Caddyfile\n    {serve_files}"):
            _check_served(port, outputs, fake_sidecar[1])
    finally:
        if upstream is not None:
            upstream.shutdown()
            upstream.server_close()
