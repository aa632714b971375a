"""The outgoing fetcher: address checks, pinning, redirects, limits, signing, key fetching.

Real HTTP servers on loopback. The "allowed" server listens on 127.0.0.2 and the fetcher is told
that network is allowed (`allow_networks`, a real option for operators); 127.0.0.1 stays blocked,
so a redirect from the allowed server to 127.0.0.1 exercises the same check a public server
redirecting to an internal address would.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from apsig.draft.verify import Verifier as ApsigVerifier
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID

from commsite.activitypub.signatures import PublicKey, verify
from commsite.federation.fetch import (
    ACCEPT,
    BlockedAddress,
    Fetcher,
    FetchError,
    Gone,
    TooLarge,
    UnusableKey,
)
from commsite.federation.fetch_guard import blocked_reason
from commsite.federation.keys import public_key_pem
from commsite.federation.public_keys import fetch_public_key

AS_JSON = "application/activity+json"
Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    server: Server  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.handle_any()

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        route = self.server.routes.get(self.path.partition("?")[0])
        if route is None:
            self.send_json({"error": "not found"}, status=404)
        else:
            route(self)

    def send_json(self, doc: object, status: int = 200, content_type: str = AS_JSON) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(ThreadingHTTPServer):
    def __init__(self, host: str) -> None:
        super().__init__((host, 0), Handler)
        self.routes: dict[str, Route] = {}
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.base = f"http://{host}:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def allowed() -> Iterator[Server]:
    """A server on 127.0.0.2, a network the fetcher is told to allow."""
    server = Server("127.0.0.2")
    yield server
    server.close()


@pytest.fixture
def internal() -> Iterator[Server]:
    """A server on 127.0.0.1: an internal service nothing should reach."""
    server = Server("127.0.0.1")
    server.routes["/secret"] = lambda h: h.send_json({"secret": True})
    yield server
    server.close()


def fetcher(**kw: Any) -> Fetcher:
    kw.setdefault("allow_networks", ("127.0.0.2/32",))
    return Fetcher(**kw)


@pytest.fixture(scope="module")
def key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# ------------------------------------------------------------------------- address checks


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:8080/actor",
        "http://10.1.2.3/actor",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "http://[::ffff:169.254.169.254]/",
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
        "http://localhost/",  # a name that resolves to loopback
        "http://localhost:8787/ap/inbox",
        "ftp://example.org/",
        "file:///etc/passwd",
    ],
)
def test_blocked_before_connecting(url: str) -> None:
    with pytest.raises(BlockedAddress):
        Fetcher().get_json(url)
    with pytest.raises(BlockedAddress):
        Fetcher().post(url, b"{}", {})


def test_internal_server_really_unreached(internal: Server) -> None:
    with pytest.raises(BlockedAddress, match="loopback"):
        Fetcher().get_json(internal.url("/secret"))
    assert internal.seen == []


def test_blocked_reason_names_it() -> None:
    assert blocked_reason("127.0.0.1") == "loopback"
    assert blocked_reason("169.254.169.254") == "link-local"
    assert blocked_reason("10.0.0.1") == "private"
    assert blocked_reason("::ffff:10.0.0.1") == "private (embedded in ::ffff:a00:1)"
    assert blocked_reason("93.184.215.14") is None
    assert blocked_reason("2606:4700::1111") is None


def test_any_bad_answer_refuses_the_host(allowed: Server) -> None:
    f = fetcher(resolver=lambda host, port: ["127.0.0.2", "127.0.0.1"])
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1"):
        f.get_json(f"http://peer.test:{allowed.server_address[1]}/actor")


def test_allow_private(internal: Server) -> None:
    assert Fetcher(allow_private=True).get_json(internal.url("/secret")) == {"secret": True}


# ---------------------------------------------------------------- pinning and redirects


def test_connects_to_the_checked_address_and_keeps_the_host(allowed: Server) -> None:
    """DNS is asked once; the connection goes to that answer; Host stays the name."""
    allowed.routes["/actor"] = lambda h: h.send_json({"id": "x"})
    answers = iter([["127.0.0.2"], ["127.0.0.1"]])  # a rebinding resolver
    calls: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return next(answers)

    port = allowed.server_address[1]
    f = fetcher(resolver=resolver)
    assert f.get_json(f"http://peer.test:{port}/actor") == {"id": "x"}
    assert calls == [("peer.test", port)]
    (_method, _path, headers) = allowed.seen[-1]
    assert headers["Host"] == f"peer.test:{port}"
    assert headers["Accept"] == ACCEPT
    assert headers["User-Agent"].startswith("commsite/")


def test_redirect_to_loopback_is_blocked(allowed: Server, internal: Server) -> None:
    allowed.routes["/go"] = lambda h: h.redirect(internal.url("/secret"))
    with pytest.raises(BlockedAddress, match="loopback"):
        fetcher().get_json(allowed.url("/go"))
    assert internal.seen == []


def test_redirect_to_metadata_and_other_schemes_is_blocked(allowed: Server) -> None:
    allowed.routes["/meta"] = lambda h: h.redirect("http://169.254.169.254/latest/meta-data/")
    allowed.routes["/file"] = lambda h: h.redirect("file:///etc/passwd", status=301)
    with pytest.raises(BlockedAddress, match="link-local"):
        fetcher().get_json(allowed.url("/meta"))
    with pytest.raises(BlockedAddress, match="only http and https"):
        fetcher().get_json(allowed.url("/file"))


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "http://[::1/x", "http://x.example:99999/", "//", "http://"]
)
def test_a_hostile_redirect_of_a_signed_get_is_a_fetch_error(
    allowed: Server, key: RSAPrivateKey, location: str
) -> None:
    """A signed GET (a key fetch) redirected where nothing can be signed or parsed.

    The signer raised ValueError for file://, which reached the inbox as a 500."""
    allowed.routes["/odd"] = lambda h: h.redirect(location)
    signed = fetcher(signer=("https://site.example/ap/actor#main-key", key))
    with pytest.raises(FetchError):
        signed.get_json(allowed.url("/odd"))
    with pytest.raises(FetchError):
        fetch_public_key(signed, allowed.url("/odd") + "#main-key")
    with pytest.raises(FetchError):
        fetch_public_key(signed, "http://[::1#main-key")


def test_redirects_are_followed_up_to_the_limit(allowed: Server) -> None:
    allowed.routes["/actor"] = lambda h: h.send_json({"id": "actor"})
    for i in range(3):  # /r2 -> /r1 -> /r0 -> /actor: three redirects
        allowed.routes[f"/r{i}"] = (
            lambda n: lambda h: h.redirect(f"/r{n - 1}" if n else "/actor")
        )(i)
    assert fetcher(max_redirects=3).get_json(allowed.url("/r2")) == {"id": "actor"}
    with pytest.raises(FetchError, match="more than 2 redirects"):
        fetcher(max_redirects=2).get_json(allowed.url("/r2"))


def test_post_is_checked_and_not_redirected(allowed: Server, internal: Server) -> None:
    def inbox(h: Handler) -> None:
        h.send_json({"got": h.body.decode()}, status=202, content_type="application/json")

    allowed.routes["/inbox"] = inbox
    allowed.routes["/moved"] = lambda h: h.redirect(internal.url("/secret"), status=307)
    r = fetcher().post(allowed.url("/inbox"), b'{"a":1}', {"Content-Type": AS_JSON})
    assert r.status_code == 202
    assert r.json() == {"got": '{"a":1}'}
    assert fetcher().post(allowed.url("/moved"), b"{}", {}).status_code == 307
    assert internal.seen == []


def _self_signed(tmp: Any, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.crt", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_https_pinned_keeps_sni_and_certificate_checks(tmp_path: Any) -> None:
    """Connected to the checked IP, TLS still names and verifies the URL's host."""
    cert, cert_key = _self_signed(tmp_path, "peer.test")
    server = Server("127.0.0.2")
    seen_sni: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, cert_key)
    context.sni_callback = lambda sock, name, ctx: seen_sni.append(name)  # type: ignore[assignment]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.routes["/actor"] = lambda h: h.send_json({"id": "tls"})
    port = server.server_address[1]
    try:
        f = fetcher(resolver=lambda host, p: ["127.0.0.2"], verify_tls=cert)
        assert f.get_json(f"https://peer.test:{port}/actor") == {"id": "tls"}
        assert seen_sni == ["peer.test"]
        # The certificate is for peer.test: another name on the same address fails.
        with pytest.raises(FetchError, match=r"(?i)certificate|hostname"):
            f.get_json(f"https://other.test:{port}/actor")
        # And without our CA the self-signed certificate is refused.
        with pytest.raises(FetchError, match=r"(?i)certificate"):
            fetcher(resolver=lambda host, p: ["127.0.0.2"]).get_json(
                f"https://peer.test:{port}/actor"
            )
    finally:
        server.close()


# ------------------------------------------------------------------ answers we refuse


def test_status_and_content_type(allowed: Server) -> None:
    allowed.routes["/gone"] = lambda h: h.send_json({}, status=410)
    allowed.routes["/html"] = lambda h: h.send_json({}, content_type="text/html")
    allowed.routes["/list"] = lambda h: h.send_json([1, 2])
    allowed.routes["/ld"] = lambda h: h.send_json(
        {"ok": 1},
        content_type='application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    )
    allowed.routes["/err"] = lambda h: h.send_json({}, status=500)
    with pytest.raises(Gone) as gone:
        fetcher().get_json(allowed.url("/gone"))
    assert gone.value.status == 410
    with pytest.raises(Gone) as missing:
        fetcher().get_json(allowed.url("/nothing-here"))
    assert missing.value.status == 404
    with pytest.raises(FetchError, match="Content-Type 'text/html'"):
        fetcher().get_json(allowed.url("/html"))
    with pytest.raises(FetchError, match="not an object"):
        fetcher().get_json(allowed.url("/list"))
    assert fetcher().get_json(allowed.url("/ld")) == {"ok": 1}
    with pytest.raises(FetchError, match="HTTP 500") as err:
        fetcher().get_json(allowed.url("/err"))
    assert err.value.status == 500


def test_size_limit(allowed: Server) -> None:
    def declared(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", AS_JSON)
        h.send_header("Content-Length", str(50 * 1024 * 1024))
        h.end_headers()
        h.wfile.write(b"{" + b" " * 1000)

    def undeclared(h: Handler) -> None:  # no Content-Length: read until close
        h.send_response(200)
        h.send_header("Content-Type", AS_JSON)
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(b'{"a": "' + b"x" * 5000 + b'"}')
        h.close_connection = True

    allowed.routes["/declared"] = declared
    allowed.routes["/undeclared"] = undeclared
    with pytest.raises(TooLarge, match="52428800 bytes"):
        fetcher(max_bytes=4096).get_json(allowed.url("/declared"))
    with pytest.raises(TooLarge, match="over 4096 bytes"):
        fetcher(max_bytes=4096).get_json(allowed.url("/undeclared"))
    assert fetcher(max_bytes=6000).get_json(allowed.url("/undeclared"))["a"] == "x" * 5000


def test_timeout_on_a_slow_server(allowed: Server) -> None:
    def slow(h: Handler) -> None:
        time.sleep(3)
        h.send_json({})

    def drip(h: Handler) -> None:  # each byte in time, the whole answer too slow
        h.send_response(200)
        h.send_header("Content-Type", AS_JSON)
        h.send_header("Content-Length", "40")
        h.end_headers()
        for _ in range(40):
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.1)

    allowed.routes["/slow"] = slow
    allowed.routes["/drip"] = drip
    for path in ("/slow", "/drip"):
        started = time.monotonic()
        with pytest.raises(FetchError, match="timed out"):
            fetcher(timeout=0.5).get_json(allowed.url(path))
        assert time.monotonic() - started < 2


def test_one_deadline_for_a_key_document_and_its_owner(allowed: Server, key: RSAPrivateKey) -> None:
    """Each document drips in just within the fetcher's timeout; the key fetch as a whole
    still ends at its own deadline, not at twice the timeout."""
    pem = public_key_pem(key)
    actor = _actor(allowed, "slow", pem)
    key_id = allowed.url("/users/slow/main-key")
    actor["publicKey"]["id"] = key_id

    def drip(doc: dict[str, Any]) -> Route:
        def route(h: Handler) -> None:
            data = json.dumps(doc).encode()
            h.send_response(200)
            h.send_header("Content-Type", AS_JSON)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            for start in range(0, len(data), len(data) // 6 + 1):  # 7 pieces, 0.2 s apart
                h.wfile.write(data[start : start + len(data) // 6 + 1])
                h.wfile.flush()
                time.sleep(0.2)

        return route

    allowed.routes["/users/slow"] = drip(actor)
    allowed.routes["/users/slow/main-key"] = drip(
        {"id": key_id, "owner": actor["id"], "publicKeyPem": pem}
    )
    assert fetch_public_key(fetcher(timeout=5), key_id).pem == pem  # each ~1.4 s: fine
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out after"):
        fetch_public_key(fetcher(timeout=2.5), key_id, timeout=2.0)
    assert time.monotonic() - started < 2.0 + 1.0


def test_name_resolution_is_inside_the_deadline(allowed: Server) -> None:
    """A keyId's domain has the sender's own name server, which may answer slowly."""
    allowed.routes["/object"] = lambda h: h.send_json({"ok": True})
    release = threading.Event()

    def slow_resolver(host: str, port: int) -> list[str]:
        release.wait(10)
        return ["127.0.0.2"]

    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetcher(timeout=0.5, resolver=slow_resolver).get_json(allowed.url("/object"))
    assert time.monotonic() - started < 1.5
    release.set()
    fast = fetcher(timeout=0.5, resolver=lambda host, port: ["127.0.0.2"])
    assert fast.get_json(allowed.url("/object")) == {"ok": True}


# ------------------------------------------------------------------------- signed GETs


def test_signed_get_is_verified_by_apsig(allowed: Server, key: RSAPrivateKey) -> None:
    key_id = "https://site.example/ap/actor#main-key"
    results: list[object] = []

    def check(h: Handler) -> None:
        url = f"http://{h.headers['Host']}{h.path}"
        results.append(ApsigVerifier(public_key_pem(key), "GET", url, dict(h.headers)).verify())
        results.append(
            verify(
                method="GET",
                path=h.path,
                query="",
                headers=dict(h.headers),
                body=b"",
                resolve_key=lambda k, r: PublicKey(
                    k, "https://site.example/ap/actor", public_key_pem(key)
                ),
                now=datetime.now(UTC),
            ).key_id
        )
        h.send_json({"ok": True})

    allowed.routes["/object"] = check
    assert fetcher(signer=(key_id, key)).get_json(allowed.url("/object")) == {"ok": True}
    assert results == [key_id, key_id]
    headers = allowed.seen[-1][2]
    assert 'headers="(request-target) host date"' in headers["Signature"]


def test_signed_get_knocks_again_without_the_query(allowed: Server, key: RSAPrivateKey) -> None:
    """apsig, like Fedify 1.5, checks (request-target) without the query string."""

    def path_only(h: Handler) -> None:
        url = f"http://{h.headers['Host']}{h.path}"
        if ApsigVerifier(public_key_pem(key), "GET", url, dict(h.headers)).verify() is None:
            h.send_json({"error": "bad signature"}, status=401, content_type="application/json")
        else:
            h.send_json({"ok": True})

    allowed.routes["/page"] = path_only
    f = fetcher(signer=("https://site.example/ap/actor#main-key", key))
    assert f.get_json(allowed.url("/page?page=2")) == {"ok": True}
    targets = [h["Signature"] for _m, p, h in allowed.seen if p == "/page?page=2"]
    assert len(targets) == 2  # first with the query, then without


def test_unsigned_get_has_no_signature(allowed: Server) -> None:
    allowed.routes["/object"] = lambda h: h.send_json({})
    fetcher().get_json(allowed.url("/object"))
    assert "Signature" not in allowed.seen[-1][2]


# ---------------------------------------------------------------------- fetch_public_key


def _actor(server: Server, name: str, pem: str, **extra: Any) -> dict[str, Any]:
    actor_id = server.url(f"/users/{name}")
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_id,
        "type": "Person",
        "publicKey": {"id": actor_id + "#main-key", "owner": actor_id, "publicKeyPem": pem},
        **extra,
    }


def serve(server: Server, path: str, doc: dict[str, Any]) -> None:
    server.routes[path] = lambda h: h.send_json(doc)


def test_key_from_an_actor(allowed: Server, key: RSAPrivateKey) -> None:
    pem = public_key_pem(key)
    serve(allowed, "/users/alice", _actor(allowed, "alice", pem))
    got = fetch_public_key(fetcher(), allowed.url("/users/alice#main-key"))
    assert got == PublicKey(allowed.url("/users/alice#main-key"), allowed.url("/users/alice"), pem)


def test_key_id_that_is_the_actor_itself(allowed: Server, key: RSAPrivateKey) -> None:
    pem = public_key_pem(key)
    serve(allowed, "/users/frank", _actor(allowed, "frank", pem))
    got = fetch_public_key(fetcher(), allowed.url("/users/frank"))
    assert got == PublicKey(allowed.url("/users/frank"), allowed.url("/users/frank"), pem)


def test_key_from_a_list_of_keys(allowed: Server, key: RSAPrivateKey) -> None:
    pem = public_key_pem(key)
    actor = _actor(allowed, "alice", pem)
    other = {**actor["publicKey"], "id": actor["id"] + "#other", "publicKeyPem": "x"}
    actor["publicKey"] = [other, actor["publicKey"]]
    serve(allowed, "/users/alice", actor)
    assert fetch_public_key(fetcher(), actor["id"] + "#main-key").pem == pem


def test_key_document_with_owner(allowed: Server, key: RSAPrivateKey) -> None:
    """GoToSocial-style: the keyId is its own document, pointing at its owner."""
    pem = public_key_pem(key)
    actor = _actor(allowed, "bob", pem)
    key_id = allowed.url("/users/bob/main-key")
    actor["publicKey"]["id"] = key_id
    serve(allowed, "/users/bob", actor)
    serve(allowed, "/users/bob/main-key", {"id": key_id, "owner": actor["id"], "publicKeyPem": pem})
    assert fetch_public_key(fetcher(), key_id) == PublicKey(key_id, actor["id"], pem)


def test_key_claiming_another_actor_is_refused(allowed: Server, key: RSAPrivateKey) -> None:
    """A key document naming a victim as owner, where the victim does not list that key."""
    victim_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    serve(allowed, "/users/victim", _actor(allowed, "victim", public_key_pem(victim_key)))
    key_id = allowed.url("/keys/evil")
    serve(
        allowed,
        "/keys/evil",
        {
            "id": key_id,
            "owner": allowed.url("/users/victim"),
            "publicKeyPem": public_key_pem(key),
        },
    )
    with pytest.raises(UnusableKey, match="does not list this key"):
        fetch_public_key(fetcher(), key_id)
    # Nor does a victim whose key entry is not even a string.
    victim = _actor(allowed, "victim", public_key_pem(victim_key))
    victim["publicKey"] = {**victim["publicKey"], "id": key_id, "publicKeyPem": {"x": 1}}
    serve(allowed, "/users/victim", victim)
    with pytest.raises(UnusableKey, match="does not list this key"):
        fetch_public_key(fetcher(), key_id)


def test_actor_document_impersonating_another_is_refused(
    allowed: Server, key: RSAPrivateKey
) -> None:
    evil = _actor(allowed, "evil", public_key_pem(key))
    evil["id"] = "https://victim.example/users/victim"
    evil["publicKey"]["owner"] = evil["id"]
    serve(allowed, "/users/evil", evil)
    with pytest.raises(UnusableKey, match="the document's id"):
        fetch_public_key(fetcher(), allowed.url("/users/evil#main-key"))


def test_key_entry_owned_by_someone_else_is_refused(allowed: Server, key: RSAPrivateKey) -> None:
    actor = _actor(allowed, "carol", public_key_pem(key))
    actor["publicKey"]["owner"] = "https://victim.example/users/victim"
    serve(allowed, "/users/carol", actor)
    with pytest.raises(UnusableKey, match="owned by"):
        fetch_public_key(fetcher(), actor["id"] + "#main-key")


def test_no_such_key_and_gone_actor(allowed: Server, key: RSAPrivateKey) -> None:
    serve(allowed, "/users/dave", _actor(allowed, "dave", public_key_pem(key)))
    with pytest.raises(UnusableKey, match="no publicKey with id"):
        fetch_public_key(fetcher(), allowed.url("/users/dave#other-key"))
    allowed.routes["/users/erin"] = lambda h: h.send_json({}, status=410)
    with pytest.raises(Gone):
        fetch_public_key(fetcher(), allowed.url("/users/erin#main-key"))
