"""No request can make the sidecar answer 500: admission fuzzed with Hypothesis.

The real sidecar (open_sidecar: SQLite store, key cache, SSRF-safe fetcher) on a
site on disk, with real RSA keys: a loopback peer (`Remote`) serves its actors'
keys, deliveries are signed by apsig (draft-cavage) and http-message-signatures
(RFC 9421), and then bodies, headers, signature parameters, paths and queries
are bent: huge integers, NaN, lone surrogates, deep nesting, wrong types for
id/actor/object/type, junk keyIds (a redirect to file://, an invalid IPv6 URL,
an unknown user), junk created/expires/Date/Digest, lying Content-Length,
foreign or malformed Host. Every answer must be 2xx, 3xx or 4xx, and a valid
delivery must still get 202 afterwards.

The WSGI test drives the app as a WSGI server would (many examples, fast); the
HTTP test sends raw requests to it under waitress on 127.0.0.1. Both run with
a fixed seed and a bounded number of examples; raise that number for a longer
hunt, and give a seed to explore other requests:

    COMMSITE_FUZZ_EXAMPLES=5000 COMMSITE_FUZZ_SEED=1 .venv/bin/python -m pytest \
        tests/test_sidecar_fuzz.py -q
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import http_message_signatures as hms
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from sidecar_peer import PUBLIC, Remote, SidecarServer, post, running, write_site

EXAMPLES = int(os.environ.get("COMMSITE_FUZZ_EXAMPLES", "250"))
SEED = os.environ.get("COMMSITE_FUZZ_SEED")  # another seed explores other requests
SITE_HOST = "club.example"
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=SEED is None,  # a fixed seed: CI sees the same requests every run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _seeded(test: Any) -> Any:
    return seed(int(SEED))(test) if SEED is not None else test


@pytest.fixture(scope="module")
def remote() -> Iterator[Remote]:
    peer = Remote(users=("alice", "bob")).start()
    peer.redirects["/moved"] = "file:///etc/passwd"
    peer.redirects["/bad-v6"] = "http://[::1/x"
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, remote: Remote) -> Iterator[SidecarServer]:
    root = tmp_path_factory.mktemp("fuzz-site")
    write_site(root, f"https://{SITE_HOST}/", moderation="  blocked_domains: [spam.example]\n")
    # No rate limits: every example should reach as deep as its input allows.
    with running(
        root, rate=1e9, burst=10**9, key_fetch_rate=1e9, key_fetch_burst=10**9, fetch_timeout=3.0
    ) as s:
        yield s


# --- what a request is made of ---------------------------------------------------------

_counter = iter(range(10**9))

# Raw JSON text that json.loads accepts, or nearly: the values that used to slip through.
ODD_JSON = [
    "7" * 5000,
    "-" + "9" * 4301,
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"a\\u0000b"',
    '{"\\ud800": 1}',
    "[" * 50_000 + "]" * 50_000,
    '{"a":' * 2_000 + "1" + "}" * 2_000,
    "null",
    "true",
    "0",
    "-0",
    "1.5",
    "[]",
    "{}",
    '""',
    '"http://[::1"',
    '"file:///etc/passwd"',
    '{"id": 5}',
    '{"id": "http://[::1"}',
    '["https://a.example/1", 2]',
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
odd_json = st.sampled_from(ODD_JSON) | json_values.map(json.dumps)
latin1 = st.text(alphabet=st.characters(max_codepoint=255), max_size=60)


def _usually(draw: st.DrawFn, usual: Any, others: st.SearchStrategy[Any], pct: int = 80) -> Any:
    """`usual` pct% of the time, else one of `others` (one_of and sampled_from weigh evenly)."""
    return usual if draw(st.integers(0, 99)) < pct else draw(others)


@dataclass
class Body:
    raw: bytes
    actor: str


@st.composite
def bodies(draw: st.DrawFn, remote: Remote) -> Body:
    """A Create from alice or bob whose fields may be replaced by odd JSON, or junk bytes."""
    user = draw(st.sampled_from(["alice", "bob"]))
    actor = remote.actor(user)
    n = draw(st.integers(0, 10**12))  # drawn, not counted: Hypothesis replays examples
    fields: dict[str, str] = {
        "@context": json.dumps("https://www.w3.org/ns/activitystreams"),
        "id": json.dumps(f"{actor}/fuzz/{n}"),
        "type": json.dumps(draw(st.sampled_from(["Create", "Like", "Follow", "Delete", "Undo"]))),
        "actor": json.dumps(actor),
        "object": json.dumps(
            {"id": f"{actor}/fuzz/{n}/note", "type": "Note", "content": "hi", "to": [PUBLIC]}
        ),
    }
    odd = st.lists(st.sampled_from([*fields, "extra", "to"]), min_size=1, max_size=3)
    for name in _usually(draw, (), odd, 70):
        fields[name] = draw(odd_json)
    text = "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}"
    shape = _usually(draw, "json", st.sampled_from(["truncated", "bytes", "utf-16"]), 90)
    if shape == "truncated":
        text = text[: draw(st.integers(0, len(text)))]
    raw = text.encode("utf-8")
    if shape == "bytes":
        raw = draw(st.binary(max_size=200))
    elif shape == "utf-16":
        raw = text.encode("utf-16")
    return Body(raw, actor)


def _cavage(remote: Remote, body: Body, url: str, user: str, key_id: str | None) -> dict[str, str]:
    return remote.signed_headers(user, url, body.raw, key_id=key_id)


def _rfc9421(remote: Remote, body: Body, url: str, user: str, key_id: str) -> dict[str, str]:
    signer = hms.HTTPMessageSigner(
        signature_algorithm=hms.algorithms.RSA_V1_5_SHA256,
        key_resolver=hms.MappingKeyResolver(
            public_keys={}, private_keys={key_id: remote.keys[user]}
        ),
    )
    headers = {"Host": url.split("/")[2], "Content-Type": "application/activity+json"}
    message = SimpleNamespace(method="POST", url=url, headers=headers)
    try:
        signer.sign(
            message,
            key_id=key_id,
            created=datetime.now(UTC),
            label="sig1",
            covered_component_ids=("@method", "@target-uri", "content-digest"),
            body=body.raw,
        )
    except hms.HTTPMessageSignaturesException:  # e.g. a query it will not sign ("%zz")
        return _rfc9421(remote, body, url.partition("?")[0], user, key_id)
    return headers


def _set_param(header: str, name: str, value: str) -> str:
    """Replace (or add) a draft-cavage parameter, keeping the others."""
    parts = [p for p in header.split(",") if not p.strip().startswith(f"{name}=")]
    return ",".join([*parts, f'{name}="{value}"'])


@st.composite
def key_ids(draw: st.DrawFn, remote: Remote, actor: str) -> str:
    return draw(
        st.sampled_from(
            [
                actor + "#main-key",
                remote.key_id("alice"),
                remote.base + "/users/nobody#main-key",  # 404
                remote.base + "/moved#main-key",  # 302 to file:///etc/passwd
                remote.base + "/bad-v6#main-key",  # 302 to an invalid IPv6 URL
                "http://[::1#main-key",
                "file:///etc/passwd",
                "http://127.0.0.1:1/x#k",  # nothing listens there
                "https://spam.example/users/x#main-key",  # a blocked domain
                "",
                "x",
            ]
        )
        | latin1
    )


@st.composite
def requests_(draw: st.DrawFn, remote: Remote) -> tuple[str, str, dict[str, str], bytes]:
    """(method, request target, headers, body) of a signed delivery, then bent."""
    body = draw(bodies(remote))
    host = _usually(
        draw, SITE_HOST, st.sampled_from(["CLUB.example:443", "127.0.0.1", "evil.example"])
    )
    path = _usually(draw, "/inbox", st.sampled_from(["/ap/inbox", "/ap/followers", "/healthz"]))
    query = _usually(draw, "", st.sampled_from(["a=b", "u=http://x/inbox", "%zz", "a=%00"]), 90)
    target = path + (f"?{query}" if query else "")
    url = f"https://{host}{target}"
    user = "alice" if body.actor.endswith("alice") else "bob"
    signer = _usually(draw, "cavage", st.sampled_from(["rfc9421", "rfc9421", "none"]), 60)
    key_id = draw(key_ids(remote, body.actor))
    if signer == "cavage":
        headers = _cavage(remote, body, url, user, _usually(draw, None, st.just(key_id), 60))
    elif signer == "rfc9421":
        sf_string = key_id.isascii() and key_id.isprintable() and key_id
        headers = _rfc9421(remote, body, url, user, sf_string or remote.key_id(user))
    else:
        headers = {"Host": host, "Content-Type": "application/activity+json"}
    headers = {k.title(): v for k, v in headers.items()}
    for _ in range(_usually(draw, 1, st.sampled_from([0, 2, 3]), 60)):
        headers = draw(_bend(headers, key_id))
    method = _usually(draw, "POST", st.sampled_from(["GET", "HEAD", "PUT", "OPTIONS"]), 95)
    if _usually(draw, False, st.just(True), 95):
        target = draw(
            st.sampled_from(
                [
                    f"http://{host}{target}",  # absolute-form
                    "/x?u=http://x/inbox",
                    "//evil.example/inbox",
                    "/%2e%2e/inbox",
                    "/inbox%00",
                    "*",
                ]
            )
        )
    return method, target, headers, body.raw


@st.composite
def _bend(draw: st.DrawFn, headers: dict[str, str], key_id: str) -> dict[str, str]:
    """One change to the headers: a signature parameter, a header's value, or a header gone."""
    out = dict(headers)
    what = draw(
        st.sampled_from(
            ["param", "param", "hs2019", "signature-input", "date", "digest", "content-type",
             "length", "host", "forwarded", "drop", "junk"]
        )
    )  # fmt: skip
    if what == "param" and "Signature" in out:
        name = draw(
            st.sampled_from(["keyId", "algorithm", "headers", "created", "expires", "signature"])
        )
        value = draw(
            st.sampled_from(
                [
                    key_id,
                    "hs2019",
                    "rsa-sha512",
                    "(request-target) (created) (expires) host digest",
                    "(request-target) host date digest content-type x-missing",
                    "date",
                    "999999999999",
                    "-1",
                    "1.5",
                    "17e9",
                    "",
                    "!!!",
                    base64.b64encode(b"\0" * 256).decode(),
                ]
            )
            | latin1.filter(lambda v: '"' not in v)
        )
        sig = out["Signature"]
        if draw(st.booleans()):
            out["Signature"] = _set_param(sig, name, value)
        else:  # the parameter twice
            out["Signature"] = sig + f',{name}="{value}"'
    elif what == "hs2019" and "Signature" in out:  # (created)/(expires) with odd values
        created, expires = (
            draw(
                st.sampled_from(["999999999999", "1", "0", "-1", "1.5", "1e9", ""])
                | st.integers(0, 10**12).map(str)
            )
            for _ in range(2)
        )
        sig = _set_param(out["Signature"], "algorithm", "hs2019")
        sig = _set_param(sig, "headers", "(request-target) (created) (expires) host digest")
        out["Signature"] = _set_param(_set_param(sig, "created", created), "expires", expires)
    elif what == "signature-input":
        created = draw(st.sampled_from(["1", "999999999999999", "-5", "?1", '"x"', "1.5"]))
        components = draw(
            st.sampled_from(
                ['("@method" "@target-uri" "content-digest")', "()", "x", '("@query-param")']
            )
        )
        out["Signature-Input"] = draw(
            st.sampled_from(
                [
                    f'sig1={components};created={created};keyid="{key_id}";alg="rsa-v1_5-sha256"',
                    f"sig1={components};created={created};expires={created}",
                    "sig1=:AAAA:",
                    "",
                ]
            )
            | latin1
        )
        out.setdefault("Signature", "sig1=:" + base64.b64encode(b"x" * 256).decode() + ":")
        if draw(st.booleans()):
            out["Signature"] = draw(
                st.sampled_from(["sig2=:AAAA:", "sig1=x", "sig1=:!!:"]) | latin1
            )
    elif what == "date":
        out["Date"] = draw(
            st.sampled_from(
                [
                    "yesterday",
                    "Mon, 01 Jan 99999 00:00:00 GMT",
                    "Mon, 01 Jan 0001 00:00:00 GMT",
                    "Fri, 31 Dec 9999 23:59:59 GMT",
                    "Thu, 01 Jan 1970 00:00:00 +9999",
                    "",
                ]
            )
            | latin1
        )
    elif what == "digest":
        out["Digest"] = draw(
            st.sampled_from(
                [
                    "SHA-256=!!!",
                    "SHA-256=" + base64.b64encode(hashlib.sha256(b"").digest()).decode(),
                    "SHA-512=AAAA, SHA-256=",
                    "sha-256",
                    "",
                ]
            )
            | latin1
        )
        out["Content-Digest"] = draw(st.sampled_from(["sha-256=:AAAA:", "sha-256=x", "x"]) | latin1)
    elif what == "content-type":
        out["Content-Type"] = draw(
            st.sampled_from(["application/json", "text/plain", "application/ld+json; x", ""])
            | latin1
        )
    elif what == "length":
        out["Content-Length"] = draw(
            st.sampled_from(["0", "1", "-1", "12x", "1e3", " 5", "99999999999999999999", "2000000"])
            | st.integers(0, 400).map(str)
        )
    elif what == "host":
        out["Host"] = draw(
            st.sampled_from(
                ["[::1", "a:b:c", f"{SITE_HOST}:99999", f"{SITE_HOST}:x", "", f"{SITE_HOST}."]
            )
            | latin1
        )
    elif what == "forwarded":
        out["X-Forwarded-Host"] = draw(st.sampled_from([SITE_HOST, "evil.example", ""]) | latin1)
        out["X-Forwarded-Proto"] = draw(st.sampled_from(["https", "gopher", ""]) | latin1)
    elif what == "drop" and out:
        out.pop(draw(st.sampled_from(sorted(out))))
    elif what == "junk":
        out[draw(st.sampled_from(["Signature", "Date", "Digest", "Host"]))] = draw(latin1)
    return out


# --- driving the app ----------------------------------------------------------------------


def _environ(
    method: str, target: str, headers: dict[str, str], body: bytes, *, raw_key: str
) -> dict[str, Any]:
    """What a WSGI server passes: header values as latin-1 text, the raw target as sent."""
    path, _, query = target.partition("?")
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path.replace("%2e", ".").replace("%00", "\0"),
        "QUERY_STRING": query,
        raw_key: target,
        "REMOTE_ADDR": "192.0.2.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8787",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
    }
    headers = {k.lower(): v for k, v in headers.items()}
    if "content-length" not in headers:
        headers["content-length"] = str(len(body))
    for name, value in headers.items():
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name == "content-length":
            environ["CONTENT_LENGTH"] = value
        else:
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _call(server: SidecarServer, environ: dict[str, Any]) -> int:
    statuses: list[str] = []
    chunks = server.sidecar.app(environ, lambda status, _headers: statuses.append(status))
    b"".join(chunks)
    return int(statuses[0].split()[0])


def _valid_delivery_is_accepted(server: SidecarServer, remote: Remote) -> None:
    actor = remote.actor("alice")
    n = next(_counter)
    note = {"id": f"{actor}/ok/{n}", "type": "Note", "content": "still here", "to": [PUBLIC]}
    activity = {"id": f"{actor}/ok/{n}/a", "type": "Create", "actor": actor, "object": note}
    body = json.dumps(activity).encode()
    headers = remote.signed_headers("alice", server.inbox, body)
    reply = post(server.inbox, body, headers)
    assert reply.status == 202, reply.body
    assert reply.json == {"status": "accepted"}


def test_no_request_makes_the_app_answer_500(server: SidecarServer, remote: Remote) -> None:
    answered: dict[int, int] = {}

    @_seeded
    @FUZZ
    @given(request=requests_(remote), raw_key=st.sampled_from(["REQUEST_URI", "RAW_URI", "-"]))
    def one(request: tuple[str, str, dict[str, str], bytes], raw_key: str) -> None:
        status = _call(server, _environ(*request, raw_key=raw_key))
        answered[status] = answered.get(status, 0) + 1
        assert status < 500, request

    one()
    _valid_delivery_is_accepted(server, remote)
    assert {202, 400, 401} <= set(answered), answered  # the fuzz reached past the cheap checks


# --- over HTTP, under waitress ------------------------------------------------------------


def _raw_request(
    port: int, method: str, target: str, headers: dict[str, str], body: bytes
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
    length = headers.get("Content-Length", str(len(body)))
    lines.append(f"Content-Length: {length}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head + body)
        conn.shutdown(socket.SHUT_WR)  # a lying Content-Length must not keep us waiting
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_no_request_over_http_gets_a_500(server: SidecarServer, remote: Remote) -> None:
    @_seeded
    @settings(FUZZ, max_examples=max(EXAMPLES // 5, 20))
    @given(request=requests_(remote))
    def one(request: tuple[str, str, dict[str, str], bytes]) -> None:
        method, target, headers, body = request
        headers = {k: v.replace("\r", "").replace("\n", "") for k, v in headers.items()}
        answer = _raw_request(server.port, method, target, headers, body)
        status = int(answer.split(b" ", 2)[1]) if answer else 0  # 0: closed unanswered
        answered[status] = answered.get(status, 0) + 1
        assert status < 500, (request, answer[:300])

    answered: dict[int, int] = {}
    one()
    _valid_delivery_is_accepted(server, remote)
    assert {400, 401} <= set(answered), answered  # waitress let the fuzz reach the app


# --- GETs of the served site (--serve-site) -----------------------------------------------


@pytest.fixture(scope="module")
def site_app(tmp_path_factory: pytest.TempPathFactory, server: SidecarServer) -> Any:
    """The same sidecar serving a small built-site folder, as `--serve-site` does."""
    from commsite.sidecar.app import SidecarApp
    from commsite.sidecar.site_files import SiteFiles

    out = tmp_path_factory.mktemp("public")
    (out / "stories" / "a").mkdir(parents=True)
    (out / "stories" / "a" / "index.html").write_text("<p>a</p>", encoding="utf-8")
    (out / "index.html").write_text("<p>home</p>", encoding="utf-8")
    (out / "ap").mkdir()
    (out / "ap" / "actor").write_text('{"id": "https://club.example/ap/actor"}', encoding="utf-8")
    (out / ".well-known").mkdir()
    jrd = {
        "subject": "acct:repair@club.example",
        "links": [{"rel": "self", "href": "https://club.example/ap/actor"}],
    }
    (out / ".well-known" / "webfinger").write_text(json.dumps(jrd), encoding="utf-8")
    sidecar = server.sidecar
    return SidecarApp(
        config=sidecar.config,
        store=sidecar.store,
        admission=sidecar.app.admission,
        site_files=SiteFiles(out, sidecar.config.base_path),
    )


segments = st.sampled_from(
    ["", ".", "..", "%2e%2e", "%2f", "%00", "%ff", "%", "stories", "a", "ap", "actor",
     ".well-known", "webfinger", "index.html", "a" * 300, "é", "%C3%A9", "\x7f"]
) | latin1.filter(lambda t: "?" not in t and "#" not in t)  # fmt: skip
queries = st.sampled_from(
    ["", "resource=acct:repair@club.example", "resource=https://club.example/ap/actor",
     "resource=http://x/healthz", "resource=%00", "resource=%ff%fe", "resource=", "resource",
     "resource=a&resource=b", "=&&=", "%"]
) | latin1  # fmt: skip


def test_no_get_of_the_served_site_answers_500(site_app: Any) -> None:
    answered: dict[int, int] = {}

    @_seeded
    @settings(FUZZ, max_examples=max(EXAMPLES // 2, 20))
    @given(
        method=st.sampled_from(["GET", "HEAD"]),
        parts=st.lists(segments, min_size=1, max_size=5),
        query=queries,
        raw_key=st.sampled_from(["REQUEST_URI", "RAW_URI", "-"]),
    )
    def one(method: str, parts: list[str], query: str, raw_key: str) -> None:
        target = "/" + "/".join(parts) + (f"?{query}" if query else "")
        environ = _environ(method, target, {"Host": SITE_HOST}, b"", raw_key=raw_key)
        statuses: list[str] = []
        b"".join(site_app(environ, lambda status, _headers: statuses.append(status)))
        status = int(statuses[0].split()[0])
        answered[status] = answered.get(status, 0) + 1
        assert status < 500, (method, target)

    one()
    assert {200, 404} <= set(answered), answered
