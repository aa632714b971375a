"""Interop: Fedify (an independent ActivityPub implementation, Node) finds the
community by URL and by @handle@host, and reads its actor, outbox and a story.

The federation documents of the example site are served the way a static host
would serve them: files with the Content-Type from content_type_for(), over TLS
on localhost (Fedify only does WebFinger over https), and the WebFinger query
string ignored. Node trusts the self-signed certificate via NODE_EXTRA_CA_CERTS.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import json
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import needs
from commsite import urls
from commsite.activitypub.content import hashtag_name
from commsite.activitypub.documents import federation_documents
from commsite.content.loader import load_site
from commsite.content.model import Site
from commsite.feeds.links import public_stories
from commsite.site_files import content_type_for

EXAMPLE_SITE = Path(__file__).parent.parent / "example_site"
SCRIPT = Path(__file__).parent / "js" / "fedify-lookup.mjs"
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def _rsa_public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 that is its own CA."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class StaticHost(BaseHTTPRequestHandler):
    """A static host: GET a file under `root`; the query string is ignored."""

    root: Path

    def do_GET(self) -> None:
        path = urlsplit(self.path).path.lstrip("/")
        file = (self.root / path).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            self.send_error(404)
            return
        body = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", content_type_for(path) or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    """(port, document root, certificate) of a TLS static server on localhost."""
    root = tmp_path / "public"
    root.mkdir()
    cert, key = _self_signed(tmp_path)
    handler = type("Handler", (StaticHost,), {"root": root.resolve()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], root, cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _example_site(base_url: str) -> Site:
    site, diagnostics = load_site(EXAMPLE_SITE, now=NOW)
    assert site is not None, [d.format() for d in diagnostics]
    config = dataclasses.replace(site.config, base_url=base_url)
    return dataclasses.replace(site, config=config, public_key_pem=_rsa_public_pem())


def test_fedify_looks_up_actor_outbox_and_story(tls_server: tuple[int, Path, Path]) -> None:
    needs.node_package("@fedify/fedify")
    node = needs.executable("node")
    port, root, cert = tls_server
    base = f"https://localhost:{port}/"
    site = _example_site(base)
    documents, diagnostics = federation_documents(site)
    assert diagnostics == []
    for path, body in documents.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(body)
    story = public_stories(site)[0]
    story_url = base + urls.story_object(story.slug)
    actor_url = base + urls.ACTOR
    handle = f"@{site.config.community.handle}@localhost:{port}"

    env = {
        **os.environ,
        "NODE_EXTRA_CA_CERTS": str(cert),
        "NODE_OPTIONS": "--dns-result-order=ipv4first",
    }
    run = subprocess.run(
        [node, str(SCRIPT), actor_url, handle, story_url],
        cwd=SCRIPT.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    stderr = run.stderr[-4000:]

    actor = result["actor"]
    assert actor["type"] == site.config.community.actor_type, stderr
    assert actor["id"] == actor_url
    assert actor["preferredUsername"] == site.config.community.handle
    assert actor["name"] == site.config.community.name
    assert actor["inbox"] == base + urls.INBOX
    assert actor["sharedInbox"] == base + urls.SHARED_INBOX
    assert actor["outbox"] == base + urls.OUTBOX
    assert actor["followers"] == base + urls.FOLLOWERS
    assert actor["url"] == base
    assert actor["discoverable"] is True
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["publicKey"] == {
        "id": actor_url + "#main-key",
        "owner": actor_url,
        "algorithm": "RSASSA-PKCS1-v1_5",
    }
    assert result["handle"] == actor, stderr  # WebFinger led to the same actor

    outbox = result["outbox"]
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == len(public_stories(site)) + len(site.events)
    assert outbox["first"] == {"type": "OrderedCollectionPage", "id": base + urls.outbox_page(1)}
    assert 0 < len(outbox["items"]) <= 20
    assert all(item["type"] == "Create" and item["actor"] == actor_url for item in outbox["items"])
    objects = [item["object"] for item in outbox["items"]]
    assert {o["type"] for o in objects} <= {"Note", "Event"}
    events = [o for o in objects if o["type"] == "Event"]
    assert events and all(o["startTime"] for o in events)

    note = result["story"]
    assert result["storyIsNoteOrArticle"]
    assert note["type"] == "Note"
    assert note["id"] == story_url
    assert note["url"] == base + urls.story_page(story.slug)
    assert note["attributedTo"] == actor_url
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert note["cc"] == [base + urls.FOLLOWERS]
    assert note["content"].startswith("<p><strong>")
    assert story.tags, "the example's newest story should have tags"
    assert note["tags"] == [
        {"type": "Hashtag", "name": hashtag_name(tag), "href": base + urls.tag_page(tag)}
        for tag in story.tags
    ]


def test_fedify_reads_the_rsvp_poll_as_a_question(tls_server: tuple[int, Path, Path]) -> None:
    """The upcoming event's poll, as Mastodon would read it: options with their
    votes, the closing time, the voters, the event it replies to."""
    needs.node_package("@fedify/fedify")
    node = needs.executable("node")
    port, root, cert = tls_server
    base = f"https://localhost:{port}/"
    site = _example_site(base)
    documents, _ = federation_documents(site)
    for path, body in documents.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(body)
    slug = "spring-repair-day-2027"  # 6 going, 2 maybe, 2 can't (example_site/interactions)
    env = {
        **os.environ,
        "NODE_EXTRA_CA_CERTS": str(cert),
        "NODE_OPTIONS": "--dns-result-order=ipv4first",
    }
    run = subprocess.run(
        [
            node,
            str(SCRIPT.parent / "fedify-poll.mjs"),
            base + urls.event_poll(slug),
            base + urls.event_object(slug),
        ],
        cwd=SCRIPT.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    poll = result["poll"]
    assert poll["type"] == "Question", run.stderr[-4000:]
    assert poll["choices"] == [
        {"name": "Going", "votes": 6},
        {"name": "Maybe", "votes": 2},
        {"name": "Can't go", "votes": 2},
    ]
    assert poll["voters"] == 10
    assert poll["endTime"].startswith("2027-03-13T10:00:00")
    assert poll["closed"] is None  # still open on 1 November 2026
    assert poll["replyTarget"] == base + urls.event_object(slug)
    assert poll["attributedTo"] == base + urls.ACTOR
    assert "Spring repair day 2027" in poll["content"]
    assert result["event"] == {
        "type": "Event",
        "name": "Spring repair day 2027",
        "startTime": poll["endTime"],
    }
