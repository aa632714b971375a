"""HTTP Signatures: our signer and verifier against independent implementations.

Peers: apsig (draft-cavage signer and verifier) and http-message-signatures (RFC 9421, used
directly through its own API). Fedify, over real HTTP, is in test_signatures_fedify.py.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

import http_message_signatures as hms
import pytest
from apsig.draft.sign import Signer as ApsigSigner
from apsig.draft.verify import Verifier as ApsigVerifier
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite.activitypub.signatures import (
    InvalidSignature,
    MalformedSignature,
    PublicKey,
    SignatureError,
    Verified,
    key_owner_matches,
    sign_cavage,
    sign_rfc9421,
    verify,
)

ACTOR = "https://remote.example/users/alice"
KEY_ID = ACTOR + "#main-key"
INBOX = "https://site.example/ap/inbox"
BODY = b'{"type":"Follow","actor":"https://remote.example/users/alice"}'
CT = {"Content-Type": "application/activity+json"}


def _pem(key: RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def alice() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def mallory() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Keys:
    """A KeyResolver that records its calls; `refreshed` is what a refresh returns."""

    def __init__(self, key: RSAPrivateKey, refreshed: RSAPrivateKey | None = None) -> None:
        self.key, self.refreshed = key, refreshed or key
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, key_id: str, refresh: bool) -> PublicKey:
        self.calls.append((key_id, refresh))
        return PublicKey(key_id, ACTOR, _pem(self.refreshed if refresh else self.key))


def check(
    headers: Mapping[str, str],
    key: RSAPrivateKey,
    *,
    method: str = "POST",
    path: str = "/ap/inbox",
    query: str = "",
    body: bytes = BODY,
    now: datetime | None = None,
) -> Verified:
    return verify(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        resolve_key=Keys(key),
        now=now or datetime.now(UTC),
    )


def refused(
    cls: type[SignatureError], headers: Mapping[str, str], key: RSAPrivateKey, **kw: Any
) -> SignatureError:
    with pytest.raises(cls) as info:
        check(headers, key, **kw)
    assert info.value.status == (400 if cls is MalformedSignature else 401)
    return info.value


def ours(key: RSAPrivateKey, **kw: Any) -> dict[str, str]:
    args: dict[str, Any] = dict(
        method="POST", url=INBOX, body=BODY, key_id=KEY_ID, now=datetime.now(UTC), headers=CT
    )
    args.update(kw)
    return sign_cavage(private_key=key, **args)


def apsig(key: RSAPrivateKey, method: str = "POST", url: str = INBOX, **kw: Any) -> dict[str, str]:
    body = BODY if method == "POST" else b""
    return ApsigSigner(dict(CT), key, method, url, KEY_ID, body, **kw).sign()  # type: ignore[no-any-return]


def with_signature_param(headers: Mapping[str, str], name: str, value: str) -> dict[str, str]:
    out = dict(headers)
    sig = out["Signature"]
    start = sig.index(f'{name}="') + len(name) + 2
    out["Signature"] = sig[:start] + value + sig[sig.index('"', start) :]
    return out


# --------------------------------------------------------------------- our signer, shape


def test_cavage_post_sends_what_mastodon_needs(alice: RSAPrivateKey) -> None:
    now = datetime(2026, 11, 22, 3, 4, 5, tzinfo=UTC)
    h = sign_cavage(
        method="POST",
        url="https://Site.example:8443/ap/inbox",
        body=BODY,
        key_id=KEY_ID,
        private_key=alice,
        now=now,
        headers=CT,
    )
    assert h["Host"] == "Site.example:8443"
    assert h["Date"] == "Sun, 22 Nov 2026 03:04:05 GMT"
    assert h["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert h["Content-Type"] == "application/activity+json"
    assert 'algorithm="rsa-sha256"' in h["Signature"]
    assert 'headers="(request-target) host date digest content-type"' in h["Signature"]
    assert f'keyId="{KEY_ID}"' in h["Signature"]


def test_cavage_get_signs_request_target_host_date(alice: RSAPrivateKey) -> None:
    h = sign_cavage(
        method="GET",
        url="https://remote.example/users/bob",
        body=None,
        key_id=KEY_ID,
        private_key=alice,
        now=datetime.now(UTC),
        headers={"Accept": "application/activity+json"},
    )
    assert "Digest" not in h
    assert 'headers="(request-target) host date"' in h["Signature"]
    assert h["Accept"] == "application/activity+json"


# ------------------------------------------------------- cavage: ours <-> apsig, both ways


def test_apsig_verifies_our_post(alice: RSAPrivateKey) -> None:
    h = ours(alice)
    assert ApsigVerifier(_pem(alice), "POST", INBOX, h, BODY).verify(raise_on_fail=True) == KEY_ID


def test_apsig_verifies_our_get(alice: RSAPrivateKey) -> None:
    url = "https://remote.example/users/bob"
    h = sign_cavage(
        method="GET", url=url, body=None, key_id=KEY_ID, private_key=alice, now=datetime.now(UTC)
    )
    assert ApsigVerifier(_pem(alice), "GET", url, h).verify(raise_on_fail=True) == KEY_ID


def test_we_verify_our_own_post_and_get(alice: RSAPrivateKey) -> None:
    assert check(ours(alice), alice) == Verified(KEY_ID, ACTOR, "cavage")
    h = ours(alice, method="GET", body=None, url="https://site.example/ap/actor", headers={})
    assert check(h, alice, method="GET", path="/ap/actor", body=b"").scheme == "cavage"


def test_we_verify_apsig_post(alice: RSAPrivateKey) -> None:
    assert check(apsig(alice), alice) == Verified(KEY_ID, ACTOR, "cavage")


def test_we_verify_apsig_get(alice: RSAPrivateKey) -> None:
    h = apsig(alice, "GET", "https://site.example/ap/actor")
    assert check(h, alice, method="GET", path="/ap/actor", body=b"").owner == ACTOR


def test_header_names_are_case_insensitive(alice: RSAPrivateKey) -> None:
    h = ours(alice)
    assert check({k.upper(): v for k, v in h.items()}, alice).key_id == KEY_ID
    assert check({k.lower(): v for k, v in h.items()}, alice).key_id == KEY_ID


def test_request_target_with_and_without_query_string(alice: RSAPrivateKey) -> None:
    # We sign the query into (request-target), as new Mastodons do ...
    with_query = ours(alice, url=INBOX + "?a=1&b=2")
    assert check(with_query, alice, query="a=1&b=2").key_id == KEY_ID
    # ... apsig (like old Mastodons) signs the path only: both forms are accepted.
    without = apsig(alice, url=INBOX + "?a=1&b=2")
    assert check(without, alice, query="a=1&b=2").key_id == KEY_ID
    # A different query is not the signed one.
    refused(InvalidSignature, with_query, alice, query="a=1&b=3")


# ------------------------------------------------------------------------ hs2019, (created)


def _hs2019(key: RSAPrivateKey, created: int, expires: int, body: bytes = BODY) -> dict[str, str]:
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    lines = [
        "(request-target): post /ap/inbox",
        f"(created): {created}",
        f"(expires): {expires}",
        "host: site.example",
        f"digest: {digest}",
    ]
    sig = key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    return {
        "Host": "site.example",
        "Digest": digest,
        "Signature": f'keyId="{KEY_ID}",algorithm="hs2019",created={created},expires={expires},'
        f'headers="(request-target) (created) (expires) host digest",'
        f'signature="{base64.b64encode(sig).decode()}"',
    }


def test_hs2019_with_created_and_expires(alice: RSAPrivateKey) -> None:
    now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    t = int(now.timestamp())
    assert check(_hs2019(alice, t, t + 300), alice, now=now).key_id == KEY_ID
    # Expired more than the skew ago.
    e = refused(InvalidSignature, _hs2019(alice, t, t + 300), alice, now=now + timedelta(hours=2))
    assert "time window" in e.reason
    # A far expiry is capped at created + 12 h (+1 h skew).
    h = _hs2019(alice, t, t + 86400)
    assert check(h, alice, now=now + timedelta(hours=12, minutes=59)).key_id == KEY_ID
    refused(InvalidSignature, h, alice, now=now + timedelta(hours=13, minutes=1))


def test_unsigned_created_and_expires_do_not_move_the_window(alice: RSAPrivateKey) -> None:
    """A replayed request cannot be freshened by adding unsigned created=/expires=."""
    old = datetime.now(UTC) - timedelta(hours=3)
    h = ours(alice, now=old)
    fresh = int(datetime.now(UTC).timestamp())
    h["Signature"] = f"created={fresh},expires={fresh + 86400}," + h["Signature"]
    refused(InvalidSignature, h, alice)
    hs = with_signature_param(h, "algorithm", "hs2019")
    assert "outside acceptable time window" in refused(InvalidSignature, hs, alice).reason


def test_created_pseudo_header_is_refused_with_rsa_sha256(alice: RSAPrivateKey) -> None:
    t = int(datetime.now(UTC).timestamp())
    h = _hs2019(alice, t, t + 300)
    h["Signature"] = h["Signature"].replace('algorithm="hs2019"', 'algorithm="rsa-sha256"')
    e = refused(InvalidSignature, h, alice)
    assert "(created)" in e.reason and "rsa-sha256" in e.reason


# ------------------------------------------------------------------------- cavage refusals


def test_tampered_body(alice: RSAPrivateKey) -> None:
    e = refused(InvalidSignature, ours(alice), alice, body=BODY.replace(b"Follow", b"Delete"))
    assert e.reason.startswith("Invalid Digest value. Computed SHA-256 digest:")


def test_tampered_digest_header_too(alice: RSAPrivateKey) -> None:
    body = BODY.replace(b"Follow", b"Delete")
    h = ours(alice)
    h["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    e = refused(InvalidSignature, h, alice, body=body)
    assert e.reason.startswith("Verification failed for")
    assert e.signed_string is not None and e.signed_string.startswith("(request-target): post ")


def test_wrong_key(alice: RSAPrivateKey, mallory: RSAPrivateKey) -> None:
    e = refused(InvalidSignature, ours(mallory), alice)
    assert f"Verification failed for {ACTOR}" in e.reason


def test_stale_and_future_date(alice: RSAPrivateKey) -> None:
    now = datetime.now(UTC)
    # Mastodon: valid until Date + 5 min expiry + 1 h skew.
    assert check(ours(alice, now=now - timedelta(minutes=64)), alice, now=now)
    e = refused(InvalidSignature, ours(alice, now=now - timedelta(minutes=66)), alice, now=now)
    assert "outside acceptable time window" in e.reason
    assert check(ours(alice, now=now + timedelta(minutes=59)), alice, now=now)
    e = refused(InvalidSignature, ours(alice, now=now + timedelta(minutes=61)), alice, now=now)
    assert "in the future" in e.reason


def test_unparsable_date(alice: RSAPrivateKey) -> None:
    h = ours(alice)
    h["Date"] = "yesterday"
    assert "Invalid Date header" in refused(InvalidSignature, h, alice).reason


def test_missing_digest_on_post(alice: RSAPrivateKey) -> None:
    h = ours(alice)
    del h["Digest"]
    assert refused(InvalidSignature, h, alice).reason == "Digest header missing"


def test_digest_not_signed_on_post(alice: RSAPrivateKey) -> None:
    h = apsig(alice, signed_headers=["host", "date"])  # apsig still sends a Digest header
    assert "digest" in {k.lower() for k in h}
    e = refused(InvalidSignature, h, alice)
    assert e.reason == "Mastodon requires the Digest header to be signed when doing a POST request"


def test_digest_must_be_sha256(alice: RSAPrivateKey) -> None:
    h = ours(alice)
    h["Digest"] = "SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    e = refused(InvalidSignature, h, alice)
    assert (
        e.reason == "Mastodon only supports SHA-256 in Digest header. Offered algorithms: sha-512"
    )


def test_host_must_be_signed_on_get(alice: RSAPrivateKey) -> None:
    h = apsig(alice, "GET", "https://site.example/ap/actor", signed_headers=["date"])
    e = refused(InvalidSignature, h, alice, method="GET", path="/ap/actor", body=b"")
    assert e.reason.startswith("The Host header must be signed (Mastodon requires it for GET")


def test_host_must_be_signed_on_post_too(alice: RSAPrivateKey) -> None:
    """Without `host` signed, a delivery signed for another server verifies here as well."""
    h = apsig(alice, signed_headers=["date", "digest"])
    assert check(apsig(alice), alice).owner == ACTOR  # the same with host signed is fine
    e = refused(InvalidSignature, h, alice)
    assert e.reason.startswith("The Host header must be signed")
    assert "signed for another server could be replayed" in e.reason


def test_date_or_created_must_be_signed(alice: RSAPrivateKey) -> None:
    h = apsig(alice, signed_headers=["host", "digest"])
    e = refused(InvalidSignature, h, alice)
    assert "Date header or (created) pseudo-header to be signed" in e.reason


def test_a_signed_header_that_is_missing(alice: RSAPrivateKey) -> None:
    h = ours(alice)
    del h["Content-Type"]
    assert "'content-type' is missing" in refused(InvalidSignature, h, alice).reason


def test_unsigned_request() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    e = refused(InvalidSignature, {"Host": "site.example"}, key)
    assert e.reason.startswith("Request not signed")


@pytest.mark.parametrize(
    "signature",
    [
        "garbage",
        'keyId="unterminated',
        'keyId="a",,signature="b"',
        'keyId="a" signature="b"',
        'keyId="a",keyId="b",signature="c"',
        "",
    ],
)
def test_garbled_signature_header(alice: RSAPrivateKey, signature: str) -> None:
    h = ours(alice)
    h["Signature"] = signature
    refused(MalformedSignature, h, alice)


def test_missing_key_id_or_signature(alice: RSAPrivateKey) -> None:
    h = ours(alice)
    h["Signature"] = h["Signature"].replace(f'keyId="{KEY_ID}",', "")
    assert "keyId and signature are required" in refused(MalformedSignature, h, alice).reason


def test_unknown_algorithm(alice: RSAPrivateKey) -> None:
    h = with_signature_param(ours(alice), "algorithm", "rsa-sha512")
    assert (
        "Unsupported signature algorithm 'rsa-sha512'"
        in refused(MalformedSignature, h, alice).reason
    )


def test_bad_base64(alice: RSAPrivateKey) -> None:
    h = with_signature_param(ours(alice), "signature", "not base64!!")
    assert "not valid base64" in refused(MalformedSignature, h, alice).reason


# ------------------------------------------------------------------------ keys and rotation


def test_key_rotation_refreshes_once(alice: RSAPrivateKey, mallory: RSAPrivateKey) -> None:
    # The cached key is old (mallory's here); the sender now signs with the new one.
    keys = Keys(mallory, refreshed=alice)
    got = verify(
        method="POST",
        path="/ap/inbox",
        query="",
        headers=ours(alice),
        body=BODY,
        resolve_key=keys,
        now=datetime.now(UTC),
    )
    assert got.key_id == KEY_ID
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


def test_refresh_happens_once_only(alice: RSAPrivateKey, mallory: RSAPrivateKey) -> None:
    keys = Keys(alice)
    with pytest.raises(InvalidSignature):
        verify(
            method="POST",
            path="/ap/inbox",
            query="",
            headers=ours(mallory),
            body=BODY,
            resolve_key=keys,
            now=datetime.now(UTC),
        )
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


def test_no_key_fetch_for_a_request_refused_on_its_face(alice: RSAPrivateKey) -> None:
    keys = Keys(alice)
    h = ours(alice)
    del h["Digest"]
    with pytest.raises(InvalidSignature):
        verify(
            method="POST",
            path="/ap/inbox",
            query="",
            headers=h,
            body=BODY,
            resolve_key=keys,
            now=datetime.now(UTC),
        )
    assert keys.calls == []


def test_resolver_errors_propagate(alice: RSAPrivateKey) -> None:
    def unavailable(key_id: str, refresh: bool) -> PublicKey:
        raise InvalidSignature(f"Public key not found for key {key_id}")

    def broken(key_id: str, refresh: bool) -> PublicKey:
        raise RuntimeError("a bug")

    args: dict[str, Any] = dict(
        method="POST",
        path="/ap/inbox",
        query="",
        headers=ours(alice),
        body=BODY,
        now=datetime.now(UTC),
    )
    with pytest.raises(InvalidSignature, match="Public key not found"):
        verify(resolve_key=unavailable, **args)
    with pytest.raises(RuntimeError, match="a bug"):  # never swallowed
        verify(resolve_key=broken, **args)


def test_a_key_that_is_not_rsa_pem(alice: RSAPrivateKey) -> None:
    def bad(key_id: str, refresh: bool) -> PublicKey:
        return PublicKey(
            key_id, ACTOR, "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"
        )

    with pytest.raises(InvalidSignature, match="not a valid PEM public key"):
        verify(
            method="POST",
            path="/ap/inbox",
            query="",
            headers=ours(alice),
            body=BODY,
            resolve_key=bad,
            now=datetime.now(UTC),
        )


def test_key_owner_matches() -> None:
    v = Verified(KEY_ID, ACTOR, "cavage")
    assert key_owner_matches(v, ACTOR)
    assert not key_owner_matches(v, "https://remote.example/users/bob")
    assert not key_owner_matches(v, "")


def test_naive_now_is_a_programming_error(alice: RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check(ours(alice), alice, now=datetime.now())


# --------------------------------------------------- RFC 9421: ours <-> http-message-signatures


def _library_verifier(key: RSAPrivateKey) -> hms.HTTPMessageVerifier:
    return hms.HTTPMessageVerifier(
        signature_algorithm=hms.algorithms.RSA_V1_5_SHA256,
        key_resolver=hms.MappingKeyResolver(
            public_keys={KEY_ID: key.public_key()}, private_keys={}
        ),
    )


def test_library_verifies_our_rfc9421_post(alice: RSAPrivateKey) -> None:
    now = datetime.now(UTC)
    url = INBOX + "?x=1"
    h = sign_rfc9421(
        method="POST", url=url, body=BODY, key_id=KEY_ID, private_key=alice, now=now, headers=CT
    )
    assert h["Content-Digest"] == (
        "sha-256=:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":"
    )
    assert h["Signature-Input"].startswith('sig1=("@method" "@target-uri" "content-digest")')
    (result,) = _library_verifier(alice).verify(
        SimpleNamespace(method="POST", url=url, headers=h),
        require_components=("@method", "@target-uri", "content-digest"),
        body=BODY,
    )
    assert result.parameters["created"] == int(now.timestamp())
    assert result.parameters["alg"] == "rsa-v1_5-sha256"
    assert result.label == "sig1"
    # And by us.
    assert check(h, alice, query="x=1") == Verified(KEY_ID, ACTOR, "rfc9421")


def test_library_verifies_our_rfc9421_get(alice: RSAPrivateKey) -> None:
    url = "https://remote.example/users/bob"
    h = sign_rfc9421(
        method="GET", url=url, body=None, key_id=KEY_ID, private_key=alice, now=datetime.now(UTC)
    )
    assert "Content-Digest" not in h
    _library_verifier(alice).verify(
        SimpleNamespace(method="GET", url=url, headers=h),
        require_components=("@method", "@target-uri"),
    )


def library_signed(
    key: RSAPrivateKey,
    *,
    url: str = INBOX,
    covered: tuple[str, ...] = ("@method", "@target-uri", "@authority"),
    body: bytes | None = BODY,
    created: datetime | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """An RFC 9421 request signed with http-message-signatures directly, as a peer would."""
    signer = hms.HTTPMessageSigner(
        signature_algorithm=hms.algorithms.RSA_V1_5_SHA256,
        key_resolver=hms.MappingKeyResolver(public_keys={}, private_keys={KEY_ID: key}),
    )
    headers = {"Host": "site.example", **CT}
    message = SimpleNamespace(
        method="POST" if body is not None else "GET", url=url, headers=headers
    )
    signer.sign(
        message,
        key_id=KEY_ID,
        created=created or datetime.now(UTC),
        label=label,
        covered_component_ids=covered,
        body=body,
    )
    return headers


def test_we_verify_library_signed_rfc9421(alice: RSAPrivateKey) -> None:
    assert check(library_signed(alice), alice).scheme == "rfc9421"
    h = library_signed(alice, url="https://site.example/ap/actor", body=None)
    assert check(h, alice, method="GET", path="/ap/actor", body=b"").owner == ACTOR
    # A plain-http target (e.g. a loopback peer) is tried too.
    h = library_signed(alice, url="http://site.example/ap/inbox?q=%20x", label="pyhms")
    assert check(h, alice, query="q=%20x").key_id == KEY_ID


def test_rfc9421_refusals(alice: RSAPrivateKey, mallory: RSAPrivateKey) -> None:
    e = refused(InvalidSignature, library_signed(alice), alice, body=BODY + b" ")
    assert e.reason.startswith("Invalid Digest value")
    e = refused(InvalidSignature, library_signed(mallory), alice)
    assert e.reason.startswith(f"Verification failed for {ACTOR} using rsa-v1_5-sha256")
    e = refused(InvalidSignature, library_signed(alice, covered=("@method", "@authority")), alice)
    assert e.reason == "Mastodon requires the @target-uri pseudo-header to be signed"
    e = refused(InvalidSignature, library_signed(alice, covered=("@target-uri",)), alice)
    assert e.reason == "Mastodon requires the @method pseudo-header to be signed"
    old = datetime.now(UTC) - timedelta(hours=2)
    e = refused(InvalidSignature, library_signed(alice, created=old), alice)
    assert "outside acceptable time window" in e.reason


def test_rfc9421_post_must_cover_content_digest(alice: RSAPrivateKey) -> None:
    now = datetime.now(UTC)
    h = sign_rfc9421(method="POST", url=INBOX, body=None, key_id=KEY_ID, private_key=alice, now=now)
    e = refused(InvalidSignature, h, alice)
    assert e.reason == (
        "Mastodon requires the Content-Digest header to be signed when doing a POST request"
    )


def test_rfc9421_created_required(alice: RSAPrivateKey) -> None:
    h = library_signed(alice)
    h["Signature-Input"] = h["Signature-Input"].replace(
        f";created={h['Signature-Input'].split('created=')[1].split(';')[0]}", ""
    )
    assert "created" not in h["Signature-Input"]
    e = refused(InvalidSignature, h, alice)
    assert e.reason == "Mastodon requires the (created) parameter to be signed"


def test_rfc9421_malformed(alice: RSAPrivateKey) -> None:
    h = library_signed(alice)
    refused(MalformedSignature, {**h, "Signature-Input": "sig1=(((("}, alice)
    refused(MalformedSignature, {**h, "Signature": "sig1=notbytes"}, alice)
    refused(MalformedSignature, {**h, "Signature": "other=:AAAA:"}, alice)
    without = {k: v for k, v in h.items() if k != "Signature"}
    refused(MalformedSignature, without, alice)
    no_keyid = {**h, "Signature-Input": h["Signature-Input"].replace(f';keyid="{KEY_ID}"', "")}
    assert "keyid is required" in refused(MalformedSignature, no_keyid, alice).reason
    other_alg = {**h, "Signature-Input": h["Signature-Input"].replace("rsa-v1_5-sha256", "ed25519")}
    assert "Unsupported signature algorithm" in refused(MalformedSignature, other_alg, alice).reason


def test_rfc9421_exactly_one_signature(alice: RSAPrivateKey) -> None:
    h = library_signed(alice)
    two = {
        **h,
        "Signature-Input": h["Signature-Input"]
        + ", "
        + h["Signature-Input"].replace("sig1=", "sig2="),
        "Signature": h["Signature"] + ", " + h["Signature"].replace("sig1=", "sig2="),
    }
    e = refused(InvalidSignature, two, alice)
    assert e.reason == "Mastodon requires exactly one signature, got 2 in Signature-Input"


def test_rfc9421_key_rotation(alice: RSAPrivateKey, mallory: RSAPrivateKey) -> None:
    keys = Keys(mallory, refreshed=alice)
    got = verify(
        method="POST",
        path="/ap/inbox",
        query="",
        headers=library_signed(alice),
        body=BODY,
        resolve_key=keys,
        now=datetime.now(UTC),
    )
    assert got.scheme == "rfc9421"
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


def test_date_header_format_is_rfc7231(alice: RSAPrivateKey) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert ours(alice, now=now)["Date"] == format_datetime(now, usegmt=True)


# ------------------------------------------------------------- times no datetime can hold


@pytest.mark.parametrize("param", ["created", "expires"])
def test_a_cavage_timestamp_past_year_9999_is_malformed_not_a_crash(
    alice: RSAPrivateKey, param: str
) -> None:
    """created="999999999999" is year 33658: datetime raised ValueError (a 500)."""
    h = with_signature_param(ours(alice, algorithm="hs2019"), "headers", "(created) (expires) host")
    h["Signature"] += ',created="1",expires="1"'
    h = with_signature_param(h, param, "999999999999")
    e = refused(MalformedSignature, h, alice)
    assert e.reason == f"Invalid {param} parameter: 999999999999 is out of range for a date"


def test_an_expiry_at_the_end_of_time_is_refused_not_a_crash(alice: RSAPrivateKey) -> None:
    """expires = 9999-12-31T23:59:59 plus the allowed skew overflowed datetime (a 500)."""
    h = with_signature_param(ours(alice, algorithm="hs2019"), "headers", "(expires) host digest")
    h["Signature"] += ',expires="253402300799"'
    e = refused(InvalidSignature, h, alice)
    assert e.reason.startswith("Mastodon requires the Date header or (created)")


def test_an_rfc9421_created_past_year_9999_is_malformed_not_a_crash(alice: RSAPrivateKey) -> None:
    h = library_signed(alice)
    h["Signature-Input"] = h["Signature-Input"].replace(
        h["Signature-Input"].split("created=")[1].split(";")[0], "999999999999999"
    )
    e = refused(MalformedSignature, h, alice)
    assert e.reason == "Invalid created parameter: 999999999999999 is out of range for a date"
