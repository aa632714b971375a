"""HTTP Signatures against Fedify (@fedify/fedify 1.5.9 on Node), over real HTTP on loopback.

* Fedify verifies what we sign: tests/js/sig-verify-server.mjs runs verifyRequest(), fetching
  our key from a Python actor served on 127.0.0.1.
* We verify what Fedify signs: tests/js/sig-sign.mjs signs with signRequest() and POSTs/GETs to
  a Python inbox that calls our `verify`.

Fedify 1.5.x speaks draft-cavage only (RFC 9421 arrived in 1.6/1.10), so our RFC 9421 signer is
checked by http-message-signatures in test_signatures.py; here we only record that 1.5.9 refuses it.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite.activitypub.signatures import (
    PublicKey,
    SignatureError,
    Verified,
    sign_cavage,
    sign_rfc9421,
    verify,
)
from needs import JS_DIR, executable, node_package

BODY = b'{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow"}'
AS_JSON = "application/activity+json"


class Peer:
    """A Python actor (GET /users/alice) and inbox (POST /inbox, GET /signed) on loopback.

    The inbox verifies with our `verify`, resolving keys from the actor it serves.
    """

    def __init__(self, key: RSAPrivateKey) -> None:
        self.key = key
        self.results: list[Verified | SignatureError] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/users/alice":
                    self.answer(200, peer.actor(), AS_JSON)
                else:
                    self.check(b"")

            def do_POST(self) -> None:
                self.check(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def check(self, body: bytes) -> None:
                path, _, query = self.path.partition("?")
                try:
                    got: Verified | SignatureError = verify(
                        method=self.command,
                        path=path,
                        query=query,
                        headers=dict(self.headers),
                        body=body,
                        resolve_key=peer.resolve,
                        now=datetime.now(UTC),
                    )
                except SignatureError as exc:
                    got = exc
                peer.results.append(got)
                if isinstance(got, SignatureError):
                    self.answer(got.status, {"error": got.reason}, "application/json")
                else:
                    self.answer(202, {"owner": got.owner}, "application/json")

            def answer(self, status: int, doc: object, content_type: str) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def actor_id(self) -> str:
        return f"{self.base}/users/alice"

    @property
    def key_id(self) -> str:
        return f"{self.actor_id}#main-key"

    def pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def actor(self) -> dict[str, object]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor_id,
            "type": "Person",
            "preferredUsername": "alice",
            "inbox": f"{self.base}/inbox",
            "publicKey": {"id": self.key_id, "owner": self.actor_id, "publicKeyPem": self.pem()},
        }

    def resolve(self, key_id: str, refresh: bool) -> PublicKey:
        assert key_id == self.key_id
        return PublicKey(key_id, self.actor_id, self.pem())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def peer(key: RSAPrivateKey) -> Iterator[Peer]:
    p = Peer(key)
    yield p
    p.close()


@pytest.fixture(scope="module")
def fedify_verifier() -> Iterator[str]:
    """Base URL of the Fedify verifying server."""
    node_package("@fedify/fedify")
    node = executable("node")
    proc = subprocess.Popen(
        [node, str(JS_DIR / "sig-verify-server.mjs")],
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
        proc.communicate(timeout=10)  # reaps it and closes the pipes


def fedify_sign_and_send(
    key: RSAPrivateKey, key_id: str, method: str, url: str, body: bytes | None
) -> dict[str, Any]:
    node_package("@fedify/fedify")
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    request = {
        "method": method,
        "url": url,
        "keyId": key_id,
        "pkcs8": base64.b64encode(pkcs8).decode(),
        "body": body.decode() if body is not None else None,
        "contentType": AS_JSON if body is not None else None,
    }
    done = subprocess.run(
        [executable("node"), str(JS_DIR / "sig-sign.mjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ Fedify verifies ours


def send_signed(
    peer: Peer,
    url: str,
    body: bytes | None,
    *,
    sign: Callable[..., dict[str, str]] = sign_cavage,
    sent_body: bytes | None = None,
    **kw: Any,
) -> requests.Response:
    """Sign a request to `url` with the peer's key (by default draft-cavage) and send it;
    `sent_body` replaces the body on the wire (a tampering)."""
    headers = sign(
        method="GET" if body is None else "POST",
        url=url,
        body=body,
        key_id=peer.key_id,
        private_key=peer.key,
        now=datetime.now(UTC),
        headers={"Content-Type" if body is not None else "Accept": AS_JSON},
        **kw,
    )
    if body is None:
        return requests.get(url, headers=headers, timeout=30)
    return requests.post(url, data=sent_body or body, headers=headers, timeout=30)


def test_fedify_verifies_our_cavage_post(peer: Peer, fedify_verifier: str) -> None:
    r = send_signed(peer, f"{fedify_verifier}/inbox", BODY)
    assert r.json() == {
        "verified": True,
        "keyId": peer.key_id,
        "owner": peer.actor_id,
        "error": None,
    }
    assert r.status_code == 200


def test_fedify_verifies_our_signed_get(peer: Peer, fedify_verifier: str) -> None:
    r = send_signed(peer, f"{fedify_verifier}/users/bob", None)
    assert r.status_code == 200, r.text
    assert r.json()["keyId"] == peer.key_id


def test_fedify_1_5_leaves_the_query_out_of_request_target(
    peer: Peer, fedify_verifier: str
) -> None:
    """Recorded fact: Fedify 1.5.9 signs and checks (request-target) as the path only (so did
    Friendica and Misskey); draft-cavage and Mastodon include the query. We sign with the query
    and accept both forms; `sign_cavage(include_query=False)` is the form Fedify 1.5 accepts."""
    url = f"{fedify_verifier}/users/bob?page=2"
    assert send_signed(peer, url, None, include_query=True).status_code == 401
    assert send_signed(peer, url, None, include_query=False).status_code == 200


def test_fedify_refuses_a_tampered_body(peer: Peer, fedify_verifier: str) -> None:
    """The control: the peer is really checking."""
    tampered = BODY.replace(b"Follow", b"Delete")
    r = send_signed(peer, f"{fedify_verifier}/inbox", BODY, sent_body=tampered)
    assert r.status_code == 401
    assert r.json()["verified"] is False


def test_fedify_1_5_does_not_verify_rfc9421(peer: Peer, fedify_verifier: str) -> None:
    """Recorded fact: Fedify 1.5.9 has no RFC 9421 (it arrived later). If this starts passing
    verification, Fedify was upgraded: turn this into a positive interop test."""
    r = send_signed(peer, f"{fedify_verifier}/inbox", BODY, sign=sign_rfc9421)
    assert r.status_code == 401
    assert r.json()["verified"] is False


# ------------------------------------------------------------------- we verify Fedify's


def test_we_verify_fedify_signed_post(peer: Peer) -> None:
    out = fedify_sign_and_send(peer.key, peer.key_id, "POST", f"{peer.base}/inbox", BODY)
    assert out["status"] == 202, out
    assert json.loads(out["body"]) == {"owner": peer.actor_id}
    assert out["signed"]["signature"].count('algorithm="rsa-sha256"') == 1
    assert isinstance(peer.results[-1], Verified) and peer.results[-1].scheme == "cavage"


def test_we_verify_fedify_signed_get(peer: Peer) -> None:
    out = fedify_sign_and_send(peer.key, peer.key_id, "GET", f"{peer.base}/signed?x=1", None)
    assert out["status"] == 202, out


def test_we_refuse_fedify_signed_with_another_key(peer: Peer) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    out = fedify_sign_and_send(other, peer.key_id, "POST", f"{peer.base}/inbox", BODY)
    assert out["status"] == 401, out
    assert json.loads(out["body"])["error"].startswith("Verification failed for")


def test_scripts_exist() -> None:
    for name in ("sig-verify-server.mjs", "sig-sign.mjs"):
        assert (Path(JS_DIR) / name).is_file()
