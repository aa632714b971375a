"""HTTP Signatures: signing what we send and verifying what we receive.

Two formats, both following Mastodon's rules (reference: activitypub-interop.md §1.5-1.7):

* draft-cavage (``Signature: keyId=…,algorithm=…,headers=…,signature=…``), which every fediverse
  server speaks and the one we sign with by default. Implemented here on ``cryptography``.
* RFC 9421 (``Signature-Input`` + ``Signature``), via the ``http-message-signatures`` library.

`verify` raises `MalformedSignature` (400) when the signature cannot be read at all and
`InvalidSignature` (401) when it can be read but does not hold. It never swallows anything else:
a bug propagates as a bug, not as a forged request. Every reason says exactly what failed, and
failures of the cryptographic check carry the signing string we compared (``signed_string``) so
that an operator can compare it with the sender's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import http_message_signatures as hms
import http_sf
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from commsite.errors import CommsiteError

__all__ = [
    "InvalidSignature",
    "KeyResolver",
    "MalformedSignature",
    "PublicKey",
    "SignatureError",
    "Verified",
    "key_owner_matches",
    "sign_cavage",
    "sign_rfc9421",
    "verify",
]

CAVAGE_ALGORITHMS = ("rsa-sha256", "hs2019")
RFC9421_ALGORITHM = "rsa-v1_5-sha256"
RFC9421_LABEL = "sig1"
# Mastodon (signed_request.rb): a signature without (expires) expires 5 minutes after it was
# made, and never later than 12 hours after; the clock-skew margin (our `max_skew`) is added.
DEFAULT_EXPIRY = timedelta(minutes=5)
EXPIRY_LIMIT = timedelta(hours=12)


class SignatureError(CommsiteError):
    """A request's signature was refused. `status` is the HTTP status to answer with."""

    status: int = 401

    def __init__(self, reason: str, *, signed_string: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.signed_string = signed_string


class MalformedSignature(SignatureError):
    """The signature cannot be read: garbled, no keyId or signature, unknown algorithm."""

    status = 400


class InvalidSignature(SignatureError):
    """The signature is readable but does not authenticate the request."""

    status = 401


@dataclass(frozen=True, slots=True)
class PublicKey:
    key_id: str
    owner: str
    pem: str


# (key_id, refresh) -> key. Raises InvalidSignature when the key cannot be had.
KeyResolver = Callable[[str, bool], PublicKey]


@dataclass(frozen=True, slots=True)
class Verified:
    key_id: str
    owner: str
    scheme: str  # "cavage" | "rfc9421"


def key_owner_matches(verified: Verified, actor: str) -> bool:
    """Whether the activity's actor is the owner of the key that signed it."""
    return bool(actor) and verified.owner == actor


# ------------------------------------------------------------------------------------- signing


def _sha256_b64(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def _http_date(now: datetime) -> str:
    _require_aware(now)
    return format_datetime(now.astimezone(UTC), usegmt=True)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("`now` must be a timezone-aware datetime")


def _authority_and_target(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"cannot sign a request to {url!r}: need an absolute http(s) URL")
    authority = parts.netloc.rpartition("@")[2]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return authority, target


class _Headers:
    """Case-insensitive read-only view of the request headers."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.raw = dict(headers)
        self._lower = {k.lower(): v for k, v in headers.items()}

    def get(self, name: str) -> str | None:
        return self._lower.get(name.lower())


def _rsa_sign(private_key: RSAPrivateKey, data: bytes) -> bytes:
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def cavage_signing_string(components: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in components)


def sign_cavage(
    *,
    method: str,
    url: str,
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey,
    now: datetime,
    headers: Mapping[str, str] = {},
    algorithm: str = "rsa-sha256",
    include_query: bool = True,
) -> dict[str, str]:
    """The full header set for a draft-cavage signed request.

    Signs ``(request-target) host date`` plus ``digest`` when there is a body and
    ``content-type`` when one is given in `headers`. Other given headers are passed through
    unsigned. Sign at send time: Mastodon accepts a signature for about 65 minutes.

    ``(request-target)`` carries the query string, as draft-cavage and Mastodon say;
    `include_query=False` gives the path-only form some verifiers (Fedify 1.5, older Misskey
    and Friendica) expect.
    """
    if algorithm not in CAVAGE_ALGORITHMS:
        raise ValueError(
            f"unknown draft-cavage algorithm {algorithm!r}; use one of {CAVAGE_ALGORITHMS}"
        )
    authority, target = _authority_and_target(url)
    if not include_query:
        target = target.partition("?")[0]
    out: dict[str, str] = {
        k: v for k, v in headers.items() if k.lower() not in {"host", "date", "digest", "signature"}
    }
    out["Host"] = authority
    out["Date"] = _http_date(now)
    components = [
        ("(request-target)", f"{method.lower()} {target}"),
        ("host", authority),
        ("date", out["Date"]),
    ]
    if body is not None:
        out["Digest"] = f"SHA-256={_sha256_b64(body)}"
        components.append(("digest", out["Digest"]))
    content_type = _Headers(headers).get("content-type")
    if content_type is not None:
        components.append(("content-type", content_type))
    signature = _rsa_sign(private_key, cavage_signing_string(components).encode("utf-8"))
    out["Signature"] = ",".join(
        [
            f'keyId="{key_id}"',
            f'algorithm="{algorithm}"',
            f'headers="{" ".join(name for name, _ in components)}"',
            f'signature="{base64.b64encode(signature).decode("ascii")}"',
        ]
    )
    return out


@dataclass
class _Message:
    """The request view http-message-signatures reads (method, absolute url, headers)."""

    method: str
    url: str
    headers: dict[str, str]


class _OneKey(hms.HTTPSignatureKeyResolver):
    def __init__(
        self,
        key_id: str,
        *,
        private: RSAPrivateKey | None = None,
        public: RSAPublicKey | None = None,
    ) -> None:
        self.key_id, self.private, self.public = key_id, private, public

    def resolve_private_key(self, key_id: str) -> RSAPrivateKey:
        assert key_id == self.key_id and self.private is not None
        return self.private

    def resolve_public_key(self, key_id: str) -> RSAPublicKey | None:
        return self.public if key_id == self.key_id else None


def sign_rfc9421(
    *,
    method: str,
    url: str,
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey,
    now: datetime,
    headers: Mapping[str, str] = {},
) -> dict[str, str]:
    """The full header set for an RFC 9421 signed request (label sig1, rsa-v1_5-sha256).

    Covers ``@method @target-uri``, plus ``content-digest`` (RFC 9530 sha-256) when there is a
    body, with ``created`` = `now` — everything Mastodon requires.
    """
    authority, _ = _authority_and_target(url)
    out = {
        k: v
        for k, v in headers.items()
        if k.lower() not in {"host", "date", "content-digest", "signature", "signature-input"}
    }
    out["Host"] = authority
    out["Date"] = _http_date(now)
    message = _Message(method.upper(), url, out)
    signer = hms.HTTPMessageSigner(
        signature_algorithm=hms.algorithms.RSA_V1_5_SHA256,
        key_resolver=_OneKey(key_id, private=private_key),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=now,
        label=RFC9421_LABEL,
        covered_component_ids=("@method", "@target-uri"),
        body=body,
    )
    return out


# ---------------------------------------------------------------------------------- verifying


def verify(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    resolve_key: KeyResolver,
    now: datetime,
    max_skew: timedelta = timedelta(hours=1),
) -> Verified:
    """Verify the request's signature as Mastodon would; return who signed it.

    `path` is the raw (still percent-encoded) request path and `query` the raw query string
    without "?". `headers` are the headers as received (the Host the sender signed). A request
    with ``Signature-Input`` is RFC 9421, otherwise draft-cavage. Raises `MalformedSignature`
    or `InvalidSignature`; anything else that escapes is a bug and propagates.
    """
    _require_aware(now)
    h = _Headers(headers)
    method = method.upper()
    if h.get("signature-input") is not None:
        return _verify_rfc9421(method, path, query, h, body, resolve_key, now, max_skew)
    return _verify_cavage(method, path, query, h, body, resolve_key, now, max_skew)


def _check_time_window(
    created: datetime | None, expires: datetime | None, now: datetime, max_skew: timedelta
) -> None:
    """Mastodon's window: created not > skew in the future; now not > expiry + skew."""
    if created is not None:
        if created > _later(now, max_skew):
            raise InvalidSignature(
                f"Signed request date outside acceptable time window: created {_iso(created)}"
                f" is more than {max_skew} in the future (now {_iso(now)})"
            )
        limit = _later(created, EXPIRY_LIMIT)
        expires = min(expires, limit) if expires is not None else _later(created, DEFAULT_EXPIRY)
    if expires is not None and now > _later(expires, max_skew):
        raise InvalidSignature(
            f"Signed request date outside acceptable time window: expired at {_iso(expires)}"
            f" (+{max_skew} allowed skew), now {_iso(now)}"
        )


def _later(t: datetime, delta: timedelta) -> datetime:
    """t + delta, or the last representable moment when that is past year 9999."""
    try:
        return t + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def _from_epoch(seconds: int, what: str) -> datetime:
    """A Unix time as a datetime; MalformedSignature when no datetime can hold it."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise MalformedSignature(
            f"Invalid {what} parameter: {seconds} is out of range for a date"
        ) from None


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(value: str, what: str) -> datetime:
    if not re.fullmatch(r"\d{1,12}(\.\d+)?", value.strip()):
        raise MalformedSignature(f"Invalid {what} parameter: {value!r} is not a Unix timestamp")
    return _from_epoch(int(float(value)), what)


def _load_public(key: PublicKey) -> RSAPublicKey:
    try:
        loaded = serialization.load_pem_public_key(key.pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidSignature(f"Public key {key.key_id} is not a valid PEM public key") from exc
    if not isinstance(loaded, RSAPublicKey):
        raise InvalidSignature(f"Public key {key.key_id} is not an RSA key")
    return loaded


# -- draft-cavage

_PARAM = re.compile(
    r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^",\s]+))\s*(?:,|$)'
)


def parse_cavage(value: str) -> dict[str, str]:
    """The parameters of a draft-cavage ``Signature`` header; MalformedSignature if garbled."""
    params: dict[str, str] = {}
    pos = 0
    value = value.strip()
    while pos < len(value):
        m = _PARAM.match(value, pos)
        if m is None or m.end() == pos:
            raise MalformedSignature(
                f"Unparsable Signature header at character {pos}: {value[pos : pos + 40]!r}"
            )
        name = m.group(1)
        if name in params:
            raise MalformedSignature(f"Unparsable Signature header: parameter {name!r} given twice")
        params[name] = re.sub(r"\\(.)", r"\1", m.group(2)) if m.group(2) is not None else m.group(3)
        pos = m.end()
    if not params:
        raise MalformedSignature("Unparsable Signature header: it is empty")
    return params


def _verify_cavage(
    method: str,
    path: str,
    query: str,
    h: _Headers,
    body: bytes,
    resolve_key: KeyResolver,
    now: datetime,
    max_skew: timedelta,
) -> Verified:
    raw = h.get("signature")
    if raw is None:
        raise InvalidSignature(
            "Request not signed: there is no Signature or Signature-Input header"
        )
    params = parse_cavage(raw)
    if not params.get("keyId") or not params.get("signature"):
        raise MalformedSignature("Incompatible request signature. keyId and signature are required")
    key_id = params["keyId"]
    algorithm = params.get("algorithm", "hs2019")
    if algorithm not in CAVAGE_ALGORITHMS:
        raise MalformedSignature(
            f"Unsupported signature algorithm {algorithm!r}"
            " (only rsa-sha256 and hs2019 are supported)"
        )
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except ValueError as exc:
        raise MalformedSignature(
            "Invalid signature: the signature parameter is not valid base64"
        ) from exc
    signed = params.get("headers", "(created)" if algorithm == "hs2019" else "date").lower().split()

    # The time window: (created) for hs2019, else the Date header. Unlike Mastodon, only signed
    # values count: an unsigned created= or expires= could stretch the window for a replay.
    created: datetime | None = None
    if algorithm == "hs2019" and "(created)" in signed and params.get("created"):
        created = _epoch(params["created"], "created")
    elif "date" in signed and h.get("date"):
        try:
            created = parsedate_to_datetime(h.get("date") or "")
        except (TypeError, ValueError) as exc:
            raise InvalidSignature(f"Invalid Date header: {h.get('date')!r}") from exc
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
    expires = None
    if "(expires)" in signed and params.get("expires"):
        expires = _epoch(params["expires"], "expires")
    _check_time_window(created, expires, now, max_skew)

    # Strength: what must be covered.
    if "date" not in signed and "(created)" not in signed:
        raise InvalidSignature(
            "Mastodon requires the Date header or (created) pseudo-header to be signed"
        )
    if "digest" not in signed and "(request-target)" not in signed:
        raise InvalidSignature(
            "Mastodon requires the Digest header or (request-target) pseudo-header to be signed"
        )
    if "host" not in signed:  # Mastodon asks it of GETs; a POST without it could be replayed
        raise InvalidSignature(
            "The Host header must be signed (Mastodon requires it for GET requests; commsite"
            " for every request, or a request signed for another server could be replayed here)"
        )
    if method == "POST" and "digest" not in signed:
        raise InvalidSignature(
            "Mastodon requires the Digest header to be signed when doing a POST request"
        )
    if "digest" in signed:
        _check_digest(h.get("digest"), body)

    # The signing strings: (request-target) with the query string, then without (older Mastodons).
    targets = [f"{path}?{query}", path] if query else [path]
    candidates = [_cavage_string(signed, params, algorithm, method, t, h) for t in targets]

    key = resolve_key(key_id, False)
    for attempt in (0, 1):
        public = _load_public(key)
        for candidate in candidates:
            try:
                public.verify(
                    signature, candidate.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
                )
            except CryptoInvalidSignature:
                continue
            return Verified(key_id=key_id, owner=key.owner, scheme="cavage")
        if attempt == 0:
            key = resolve_key(key_id, True)  # the key may have rotated: refetch once
    raise InvalidSignature(
        f"Verification failed for {key.owner} using {algorithm} (RSASSA-PKCS1-v1_5 with SHA-256)"
        f" and key {key_id}",
        signed_string=candidates[0],
    )


def _cavage_string(
    signed: Sequence[str],
    params: Mapping[str, str],
    algorithm: str,
    method: str,
    target: str,
    h: _Headers,
) -> str:
    lines: list[tuple[str, str]] = []
    for name in signed:
        if name == "(request-target)":
            lines.append((name, f"{method.lower()} {target}"))
        elif name in ("(created)", "(expires)"):
            param = name[1:-1]
            if algorithm != "hs2019":
                raise InvalidSignature(f"Invalid pseudo-header {name} for {algorithm}")
            if not params.get(param):
                raise InvalidSignature(
                    f"Pseudo-header {name} used but corresponding argument missing"
                )
            lines.append((name, params[param]))
        else:
            value = h.get(name)
            if value is None:
                raise InvalidSignature(f"The signed header {name!r} is missing from the request")
            lines.append((name, value))
    return cavage_signing_string(lines)


def _check_digest(header: str | None, body: bytes) -> None:
    if header is None:
        raise InvalidSignature("Digest header missing")
    digests = []
    for part in header.split(","):
        algo, _, value = part.strip().partition("=")
        digests.append((algo.lower(), value))
    sha256 = dict(digests).get("sha-256")
    if sha256 is None:
        offered = ", ".join(a for a, _ in digests)
        raise InvalidSignature(
            f"Mastodon only supports SHA-256 in Digest header. Offered algorithms: {offered}"
        )
    computed = _sha256_b64(body)
    if hmac.compare_digest(computed, sha256.strip()):
        return
    try:
        size = len(base64.b64decode(sha256.strip(), validate=True))
    except ValueError:
        raise InvalidSignature(
            "Invalid Digest value. The provided Digest value is not a valid base64 string."
            f" Given digest: {sha256}"
        ) from None
    if size != 32:
        raise InvalidSignature(
            "Invalid Digest value. The provided Digest value is not a SHA-256 digest."
            f" Given digest: {sha256}"
        )
    raise InvalidSignature(
        f"Invalid Digest value. Computed SHA-256 digest: {computed}; given: {sha256}"
    )


# -- RFC 9421


class _Verifier(hms.HTTPMessageVerifier):
    """The library's verifier minus its wall-clock checks: `verify` checks the window itself."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


def _parse_dictionary(h: _Headers, name: str) -> dict[str, Any]:
    value = h.get(name)
    if value is None:
        raise MalformedSignature(f"{name} header missing (Signature-Input needs a Signature)")
    try:
        parsed = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise MalformedSignature(
            f"Unparsable {name} header: not a structured-field dictionary"
        ) from exc
    assert isinstance(parsed, dict)
    return parsed


def _verify_rfc9421(
    method: str,
    path: str,
    query: str,
    h: _Headers,
    body: bytes,
    resolve_key: KeyResolver,
    now: datetime,
    max_skew: timedelta,
) -> Verified:
    inputs = _parse_dictionary(h, "signature-input")
    signatures = _parse_dictionary(h, "signature")
    if len(inputs) != 1:
        raise InvalidSignature(
            f"Mastodon requires exactly one signature, got {len(inputs)} in Signature-Input"
        )
    ((label, (components, raw_params)),) = inputs.items()
    sig_params: dict[str, Any] = dict(raw_params)
    if set(signatures) != {label}:
        raise MalformedSignature(f"Signature and Signature-Input disagree on the label ({label!r})")
    sig_value: Any = signatures[label][0]
    if not isinstance(components, list) or not isinstance(sig_value, bytes):
        raise MalformedSignature(
            f"Signature {label!r}: Signature-Input must be an inner list, Signature bytes"
        )
    key_id = sig_params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise MalformedSignature("Incompatible request signature. keyid is required")
    alg = sig_params.get("alg", RFC9421_ALGORITHM)
    if alg != RFC9421_ALGORITHM:
        raise MalformedSignature(
            f"Unsupported signature algorithm {alg!r} (only rsa-v1_5-sha256 is supported)"
        )
    if not isinstance(sig_params.get("created"), int):
        raise InvalidSignature("Mastodon requires the (created) parameter to be signed")
    expires = sig_params.get("expires")
    if expires is not None and not isinstance(expires, int):
        raise MalformedSignature("Invalid expires parameter: not an integer")
    _check_time_window(
        _from_epoch(sig_params["created"], "created"),
        _from_epoch(expires, "expires") if expires is not None else None,
        now,
        max_skew,
    )
    covered = {name for name, item_params in components if not item_params}
    if "@method" not in covered:
        raise InvalidSignature("Mastodon requires the @method pseudo-header to be signed")
    if "@target-uri" not in covered:
        raise InvalidSignature("Mastodon requires the @target-uri pseudo-header to be signed")
    if method == "POST" and "content-digest" not in covered:
        raise InvalidSignature(
            "Mastodon requires the Content-Digest header to be signed when doing a POST request"
        )
    if "content-digest" in covered:
        _check_content_digest(h, body)

    host = h.get("host")
    if host is None:
        raise InvalidSignature("Host header missing: cannot rebuild @target-uri")
    forwarded = h.get("x-forwarded-proto")
    schemes = [forwarded.split(",")[0].strip()] if forwarded else ["https", "http"]
    target = path + (f"?{query}" if query else "")
    messages = [_Message(method, f"{scheme}://{host}{target}", h.raw) for scheme in schemes]

    key = resolve_key(key_id, False)
    failure = ""
    for attempt in (0, 1):
        public = _load_public(key)
        verifier = _Verifier(
            signature_algorithm=hms.algorithms.RSA_V1_5_SHA256,
            key_resolver=_OneKey(key_id, public=public),
        )
        for message in messages:
            try:
                verifier.verify(message, max_age=None)
            except hms.InvalidSignature as exc:
                failure = str(exc)
                continue
            return Verified(key_id=key_id, owner=key.owner, scheme="rfc9421")
        if attempt == 0:
            key = resolve_key(key_id, True)
    raise InvalidSignature(
        f"Verification failed for {key.owner} using rsa-v1_5-sha256 and key {key_id}"
        f" (target {messages[0].url}): {failure or 'signature mismatch'}"
    )


def _check_content_digest(h: _Headers, body: bytes) -> None:
    value = h.get("content-digest")
    if value is None:
        raise InvalidSignature("Content-Digest header missing")
    try:
        digests = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise InvalidSignature(f"Invalid Content-Digest header: {value!r}") from exc
    assert isinstance(digests, dict)
    member: Any = digests.get("sha-256")
    if member is None or not isinstance(member[0], bytes):
        raise InvalidSignature(
            "Mastodon only supports SHA-256 in Content-Digest header. Offered algorithms: "
            + ", ".join(digests)
        )
    given = member[0]
    computed = hashlib.sha256(body).digest()
    if not hmac.compare_digest(given, computed):
        raise InvalidSignature(
            f"Invalid Digest value. Computed SHA-256 digest: {base64.b64encode(computed).decode()};"
            f" given: {base64.b64encode(given).decode()}"
        )
