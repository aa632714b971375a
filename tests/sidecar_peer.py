"""A remote fediverse server on loopback, for the sidecar tests: independent of commsite.

`Remote` is a threaded http.server playing another instance:

* it serves its users' actor documents (with RSA keys it made), can make one
  "gone" (410) or rotate a key;
* it signs deliveries to our inbox with `apsig` (apsig.draft.sign.Signer), not
  with our signer, and sends them with http.client, so every header is as
  written here;
* its inboxes verify what we send (the Accept of a Follow) with apsig's
  Verifier, fetching our key over HTTP with urllib.

`SiteOrigin` serves our own actor document (what a static host would), so the
remote can fetch our key. `write_site` makes the site on disk; `SidecarServer`
runs the real sidecar under waitress on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apsig.draft.sign import Signer
from apsig.draft.verify import Verifier
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import pg
from commsite.database import Connection, connect
from publish_peers import Origin

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS + "#Public"


def _pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _answer(request: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
    request.send_response(status)
    request.send_header("Content-Type", ctype)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Remote:
    users: tuple[str, ...] = ("alice", "bob")
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    fetches: list[str] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)  # path -> Location (302)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Remote:
        for user in self.users:
            self.keys.setdefault(user, new_key())
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                remote._get(self)

            def do_POST(self) -> None:
                remote._post(self)

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

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc

    def actor(self, user: str) -> str:
        return f"{self.base}/users/{user}"

    def key_id(self, user: str) -> str:
        return self.actor(user) + "#main-key"

    def handle(self, user: str) -> str:
        return f"@{user}@{self.host}"

    def rotate(self, user: str) -> None:
        self.keys[user] = new_key()

    def actor_document(self, user: str) -> dict[str, Any]:
        actor = self.actor(user)
        return {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": actor,
            "type": "Person",
            "preferredUsername": user,
            "name": user.capitalize() + " <b>Remote</b>",
            "url": f"{self.base}/@{user}",
            "icon": {"type": "Image", "mediaType": "image/png", "url": f"{self.base}/{user}.png"},
            "inbox": actor + "/inbox",
            "endpoints": {"sharedInbox": self.base + "/inbox"},
            "publicKey": {
                "id": self.key_id(user),
                "owner": actor,
                "publicKeyPem": _pem(self.keys[user]),
            },
        }

    # --- serving -------------------------------------------------------------

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.fetches.append(request.path)
        if request.path in self.redirects:
            request.send_response(302)
            request.send_header("Location", self.redirects[request.path])
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        if request.path.startswith("/.well-known/webfinger?"):
            self._webfinger(request)
            return
        parts = request.path.split("#", 1)[0].strip("/").split("/")
        if len(parts) == 2 and parts[0] == "users" and parts[1] in self.users:
            if parts[1] in self.gone:
                _answer(request, 410, b"", "text/plain")
                return
            body = json.dumps(self.actor_document(parts[1])).encode()
            _answer(request, 200, body, "application/activity+json")
            return
        _answer(request, 404, b"", "text/plain")

    def _webfinger(self, request: BaseHTTPRequestHandler) -> None:
        """WebFinger for its users: acct:USER@HOST, USER compared case-insensitively."""
        query = urllib.parse.parse_qs(urlsplit(request.path).query)
        resource = (query.get("resource") or [""])[0].lower()
        for user in self.users:
            if resource == f"acct:{user}@{self.host}".lower() and user not in self.gone:
                jrd = {
                    "subject": f"acct:{user}@{self.host}",
                    "links": [
                        {
                            "rel": "self",
                            "type": "application/activity+json",
                            "href": self.actor(user),
                        }
                    ],
                }
                _answer(request, 200, json.dumps(jrd).encode(), "application/jrd+json")
                return
        _answer(request, 404, b"", "text/plain")

    def _post(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        headers = dict(request.headers.items())
        url = f"http://{request.headers['Host']}{request.path}"
        try:
            signature = headers.get("Signature", "")
            key_id = next(
                part.split("=", 1)[1].strip('"')
                for part in signature.split(",")
                if part.strip().startswith("keyId=")
            )
            with urllib.request.urlopen(
                urllib.request.Request(
                    key_id.split("#")[0], headers={"Accept": "application/activity+json"}
                ),
                timeout=5,
            ) as response:
                doc = json.load(response)
            assert doc["publicKey"]["id"] == key_id
            Verifier(doc["publicKey"]["publicKeyPem"], "POST", url, headers, body).verify(
                raise_on_fail=True
            )
        except Exception as exc:  # a peer records every refusal
            with self._lock:
                self.rejected.append(f"{type(exc).__name__}: {exc}")
            _answer(request, 401, json.dumps({"error": str(exc)}).encode(), "application/json")
            return
        with self._lock:
            self.received.append({"inbox": request.path, "key_id": key_id, **json.loads(body)})
        _answer(request, 202, b"", "text/plain")

    def wait_for(self, type_: str, count: int = 1, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The activities of a type received so far, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [r for r in self.received if r["type"] == type_]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {type_} arrived within {timeout}s; refused: {self.rejected}")

    # --- sending -------------------------------------------------------------

    def signed_headers(
        self,
        user: str,
        url: str,
        body: bytes,
        *,
        key: rsa.RSAPrivateKey | None = None,
        key_id: str | None = None,
        date: datetime | None = None,
        content_type: str = "application/activity+json",
        signed_headers: list[str] | None = None,
    ) -> dict[str, str]:
        headers = {"Content-Type": content_type}
        if date is not None:
            headers["Date"] = email.utils.format_datetime(date.astimezone(UTC), usegmt=True)
        signed = Signer(
            headers=headers,
            private_key=key or self.keys[user],
            method="POST",
            url=url,
            key_id=key_id or self.key_id(user),
            body=body,
            signed_headers=signed_headers,
        ).sign()
        signed.pop("Authorization", None)
        return dict(signed)

    def deliver(self, url: str, activity: dict[str, Any], user: str = "alice", **kw: Any) -> Reply:
        body = json.dumps(activity).encode()
        return post(url, body, self.signed_headers(user, url, body, **kw))


def post(url: str, body: bytes, headers: dict[str, str], *, chunked: bool = False) -> Reply:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.putrequest(
            "POST",
            parts.path + (f"?{parts.query}" if parts.query else ""),
            skip_host=True,
            skip_accept_encoding=True,
        )
        sent = {k.lower(): v for k, v in headers.items()}
        sent.setdefault("host", parts.netloc)
        for name, value in sent.items():
            if name == "content-length":
                continue
            conn.putheader(name, value)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for start in range(0, len(body), 65536):
                piece = body[start : start + 65536]
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
        response = conn.getresponse()
        return Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        conn.close()


def get(url: str) -> Reply:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


# --- our side -----------------------------------------------------------------


# Our site's static host, serving documents by path (our actor, for our key):
# the same loopback origin the delivery tests use.
SiteOrigin = Origin


def write_site(
    root: Path,
    base_url: str,
    *,
    members: dict[str, str] | None = None,
    moderation: str = "",
    allow_private: bool = True,
    stories: tuple[str, ...] = ("first-meetup",),
    events: tuple[str, ...] = (),
    host_aliases: tuple[str, ...] = ("127.0.0.1",),
    database: str | None = None,
) -> None:
    """A small site on disk: stories, members {id: handle}, three rules, a key pair.

    `database`: `sidecar.database`; by default the active test backend's (tests/pg.py:
    SQLite, or a fresh PostgreSQL database).

    `host_aliases`: the tests reach the sidecar at 127.0.0.1:PORT, not at base_url's
    host, and the peers sign for the address they connect to; the alias lets those
    deliveries in (the inbox takes only the Hosts the site answers to)."""
    from commsite.federation.keys import generate_keypair, write_keys

    database = database or pg.database_url()
    sidecar = [f"  host_aliases: {list(host_aliases)}\n"] if host_aliases else []
    if database:
        sidecar.append(f"  database: '{database}'\n")
    for sub in ("stories", "members", "events"):
        (root / "content" / sub).mkdir(parents=True, exist_ok=True)
    (root / "commsite.yaml").write_text(
        "title: Loopback Repair Café\n"
        f"base_url: {base_url}\n"
        "timezone: UTC\n"
        "community:\n  handle: repair\n"
        f"federation:\n  allow_private_addresses: {'true' if allow_private else 'false'}\n"
        + ("sidecar:\n" + "".join(sidecar) if sidecar else "")
        + (f"moderation:\n{moderation}" if moderation else ""),
        encoding="utf-8",
    )
    (root / "content" / "rules.md").write_text(
        "---\ntitle: Rules\n---\n1. Be kind.\n2. No adverts.\n3. Stay on topic.\n", encoding="utf-8"
    )
    for slug in stories:
        (root / "content" / "stories" / f"2026-01-10-{slug}.md").write_text(
            f"---\ntitle: Story {slug}\ndate: 2026-01-10\n---\nWe met and fixed things.\n",
            encoding="utf-8",
        )
    for slug in events:
        (root / "content" / "events" / f"2026-02-01-{slug}.md").write_text(
            f"---\ntitle: Event {slug}\nstart: 2026-02-01T10:00:00+00:00\n---\nCome along.\n",
            encoding="utf-8",
        )
    for member_id, handle in (members or {}).items():
        (root / "content" / "members" / f"{member_id}.md").write_text(
            f"---\nname: {member_id.capitalize()}\nhandle: '{handle}'\n---\nA member.\n",
            encoding="utf-8",
        )
    write_keys(root, generate_keypair())


def serve_our_actor(origin: SiteOrigin, root: Path) -> None:
    from commsite import urls
    from commsite.activitypub.actor import actor
    from commsite.content.loader import load_site

    site, diagnostics = load_site(root, now=datetime.now(UTC))
    assert site is not None, [d.format() for d in diagnostics]
    origin.documents["/" + urls.ACTOR] = json.dumps(actor(site)).encode()


class SidecarServer:
    """The real sidecar (open_sidecar + its worker) under waitress on 127.0.0.1."""

    def __init__(self, root: Path, *, limits: Any = None, port: int = 0, **options: Any) -> None:
        from commsite.sidecar.server import Options, open_sidecar, waitress_server

        options.setdefault("worker_poll", 0.2)
        options.setdefault("threads", 4)
        self.sidecar = open_sidecar(root, Options(**options))
        self.server = waitress_server(self.sidecar, "127.0.0.1", port, limits=limits)
        self.port = self.server.effective_port
        self.sidecar.start()
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def inbox(self) -> str:
        return self.base + "/inbox"

    def close(self) -> None:
        """Stop waitress from inside its own loop (closing from here races the loop)."""

        def stop() -> None:
            for dispatcher in list(self.server._map.values()):
                dispatcher.handle_close()

        # Seen rarely: the loop had already closed everything and was ending.
        with contextlib.suppress(OSError):
            self.server.trigger.pull_trigger(stop)
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "waitress did not stop"
        self.server.task_dispatcher.shutdown()
        self.sidecar.close()

    @contextmanager
    def db(self) -> Iterator[Connection]:
        """A connection of its own to the sidecar's database, whichever backend."""
        conn = connect(self.sidecar.store.target)
        try:
            yield conn
        finally:
            conn.close()

    def wait_settled(
        self,
        activity_id: str,
        timeout: float = 15.0,
        unsettled: tuple[str, ...] = ("queued", "processing"),
    ) -> str:
        """Wait until the worker is done with an activity (its state is not one of
        `unsettled`; add "retry" to wait past retries); its state."""
        deadline = time.monotonic() + timeout
        with self.db() as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT state, outcome FROM inbox_activities WHERE id = ?", (activity_id,)
                ).fetchone()
                if row is not None and row["state"] not in unsettled:
                    return str(row["state"])
                time.sleep(0.05)
        raise AssertionError(f"{activity_id} was not processed within {timeout}s")


@contextmanager
def running(root: Path, **options: Any) -> Iterator[SidecarServer]:
    server = SidecarServer(root, **options)
    try:
        yield server
    finally:
        server.close()
