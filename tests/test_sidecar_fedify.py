"""A delivery signed by Fedify (@fedify/fedify on Node, a second independent peer) is admitted.

tests/js/sig-sign.mjs signs with Fedify's signRequest() (draft-cavage) and POSTs
to the real sidecar under waitress; the key is served by the loopback remote.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from needs import JS_DIR, executable, node_package
from sidecar_peer import PUBLIC, Remote, SiteOrigin, new_key, running, write_site


@pytest.fixture
def remote() -> Iterator[Remote]:
    peer = Remote(users=("alice",)).start()
    yield peer
    peer.stop()


def fedify_post(
    remote: Remote, url: str, body: bytes, key: rsa.RSAPrivateKey | None = None
) -> dict[str, object]:
    node_package("@fedify/fedify")
    pkcs8 = (key or remote.keys["alice"]).private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    request = {
        "method": "POST",
        "url": url,
        "keyId": remote.key_id("alice"),
        "pkcs8": base64.b64encode(pkcs8).decode(),
        "body": body.decode(),
        "contentType": "application/activity+json",
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


def test_fedify_signed_delivery_is_202_and_one_with_a_stale_key_401(
    tmp_path: Path, remote: Remote
) -> None:
    origin = SiteOrigin()
    try:
        write_site(tmp_path, origin.base_url)
        with running(tmp_path) as server:
            actor = remote.actor("alice")
            note = {"id": f"{actor}/s/1", "type": "Note", "attributedTo": actor, "to": [PUBLIC]}
            activity = {"id": f"{actor}/s/1/a", "type": "Create", "actor": actor, "object": note}
            answer = fedify_post(remote, server.inbox, json.dumps(activity).encode())
            assert answer["status"] == 202, answer
            assert json.loads(str(answer["body"])) == {"status": "accepted"}
            assert "digest" in str(answer["signed"]).lower()
            # Signed with a key that is not the one the actor publishes: refused.
            again = {**activity, "id": f"{actor}/s/2/a"}
            answer = fedify_post(remote, server.inbox, json.dumps(again).encode(), new_key())
            assert answer["status"] == 401, answer
            assert "Verification failed" in str(answer["body"])
    finally:
        origin.stop()
