"""Fediverse peers on loopback for the delivery tests: independent of commsite.

Each `Instance` is a threaded http.server that serves its users' actor
documents and an inbox per user plus a shared inbox. Inbox POSTs are checked
the way a receiving server would, with the `apsig` library (not our verifier):
the keyId is fetched over HTTP with urllib, the Digest and the signature are
verified, and the activity is recorded by id. An instance can be slow, fail
the first time, refuse (403), or answer 410 Gone.

`Origin` serves our own site's actor document (so peers can fetch our key);
`write_site` makes a small site on disk to publish (that part uses commsite).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from apsig.draft.verify import Verifier

from commsite import urls
from commsite.activitypub.actor import actor
from commsite.content.loader import load_site
from commsite.federation.keys import generate_keypair, write_keys


@dataclass
class Received:
    inbox: str  # path
    activity_id: str
    type: str
    activity: dict[str, Any]


@dataclass
class Instance:
    """One fediverse server. mode: ok | slow | flaky (500 once, then 202) | gone (410)
    | refuse (403, a permanent failure)."""

    name: str
    mode: str = "ok"
    delay: float = 1.5  # seconds, when slow
    users: tuple[str, ...] = ("alice",)
    received: list[Received] = field(default_factory=list)
    answered: int = 0  # 2xx answers actually written
    rejected: list[str] = field(default_factory=list)  # why signature checks failed
    statuses: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _keys: dict[str, str] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    # -- lifecycle

    def start(self) -> Instance:
        instance = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                instance._get(self)

            def do_POST(self) -> None:
                instance._post(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def actor(self, user: str) -> str:
        return f"{self.base}/users/{user}"

    def inbox(self, user: str) -> str:
        return f"{self.base}/users/{user}/inbox"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    # -- what arrived

    def ids(self, inbox_path: str | None = None) -> Counter[str]:
        with self._lock:
            return Counter(r.activity_id for r in self.received if inbox_path in (None, r.inbox))

    # -- handlers

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "users" and parts[1] in self.users:
            user = parts[1]
            doc = {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": self.actor(user),
                "type": "Person",
                "preferredUsername": user,
                "inbox": self.inbox(user),
                "endpoints": {"sharedInbox": self.shared_inbox},
            }
            _answer(request, 200, json.dumps(doc).encode(), "application/activity+json")
        else:
            _answer(request, 404, b"", "text/plain")

    def _post(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length", "0"))
        body = request.rfile.read(length)
        headers = {k: v for k, v in request.headers.items()}
        url = f"http://{request.headers['Host']}{request.path}"
        try:
            key_id = _signature_param(headers.get("Signature", ""), "keyId")
            pem = self._public_key(key_id)
            Verifier(pem, "POST", url, headers, body).verify(raise_on_fail=True)
        except Exception as exc:
            with self._lock:
                self.rejected.append(f"{type(exc).__name__}: {exc}")
            _answer(request, 401, json.dumps({"error": str(exc)}).encode(), "application/json")
            return
        activity = json.loads(body)
        with self._lock:
            first = not self.statuses
            status = {"gone": 410, "refuse": 403, "flaky": 500 if first else 202}.get(
                self.mode, 202
            )
            self.statuses.append(status)
            if status == 202:  # a real server queues the activity on receipt
                self.received.append(
                    Received(request.path, activity["id"], activity["type"], activity)
                )
        if self.mode == "slow":
            time.sleep(self.delay)
        try:
            _answer(request, status, b"", "text/plain")
        except OSError:  # the sender died while we were slow
            return
        if status == 202:
            with self._lock:
                self.answered += 1

    def _public_key(self, key_id: str) -> str:
        with self._lock:
            cached = self._keys.get(key_id)
        if cached is not None:
            return cached
        request = urllib.request.Request(
            key_id.split("#", 1)[0], headers={"Accept": "application/activity+json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            doc = json.load(response)
        key = doc["publicKey"]
        assert key["id"] == key_id, (key["id"], key_id)
        pem = str(key["publicKeyPem"])
        with self._lock:
            self._keys[key_id] = pem
        return pem


class Origin:
    """Our site's origin: serves fixed documents by path (the actor, for keys)."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                doc = origin.documents.get(self.path)
                if doc is None:
                    _answer(self, 404, b"", "text/plain")
                else:
                    _answer(self, 200, doc, "application/activity+json")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _answer(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)
    request.wfile.flush()


def _signature_param(header: str, name: str) -> str:
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key.strip() == name:
            return value.strip().strip('"')
    raise ValueError(f"no {name} in Signature header {header!r}")


# --- a site on disk to publish ----------------------------------------------------------


def write_site(root: Path, base_url: str, stories: dict[str, tuple[str, str]]) -> None:
    """A minimal site at `root` whose stories are {slug: (date, body)}, with a key pair."""
    (root / "content" / "stories").mkdir(parents=True, exist_ok=True)
    (root / "commsite.yaml").write_text(
        "title: Loopback Repair Café\n"
        f"base_url: {base_url}\n"
        "community:\n  handle: repair\n"
        "federation:\n  allow_private_addresses: true\n",
        encoding="utf-8",
    )
    (root / "content" / "rules.md").write_text(
        "---\ntitle: Rules\n---\n1. Be kind.\n", encoding="utf-8"
    )
    for slug, (day, body) in stories.items():
        write_story(root, slug, day, body)
    write_keys(root, generate_keypair())


def write_story(root: Path, slug: str, day: str, body: str) -> None:
    (root / "content" / "stories" / f"{slug}.md").write_text(
        f"---\ntitle: Story {slug}\ndate: {day}\n---\n{body}\n", encoding="utf-8"
    )


def serve_actor(origin: Origin, root: Path, now: datetime) -> None:
    """Put our actor document (with the public key) where peers will fetch it."""
    site, diagnostics = load_site(root, now=now)
    assert site is not None, [d.format() for d in diagnostics]
    path = "/" + urls.ACTOR
    origin.documents[path] = json.dumps(actor(site)).encode()
