"""RFC 9421 HTTP Message Signatures (``Signature-Input`` + ``Signature``):
signing and verifying as Mastodon does, through the ``http-message-signatures``
library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import http_message_signatures as hms
import http_sf
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from commsite.activitypub.signature_base import (
    RFC9421_ALGORITHM,
    RFC9421_LABEL,
    Headers,
    InvalidSignature,
    KeyResolver,
    MalformedSignature,
    Verified,
    authority_and_target,
    check_time_window,
    from_epoch,
    http_date,
    load_public,
)

__all__ = ["sign_rfc9421", "verify_rfc9421"]


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
    authority, _ = authority_and_target(url)
    out = {
        k: v
        for k, v in headers.items()
        if k.lower() not in {"host", "date", "content-digest", "signature", "signature-input"}
    }
    out["Host"] = authority
    out["Date"] = http_date(now)
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


class _Verifier(hms.HTTPMessageVerifier):
    """The library's verifier minus its wall-clock checks: `verify` checks the window itself."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


def _parse_dictionary(h: Headers, name: str) -> dict[str, Any]:
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


def verify_rfc9421(
    method: str,
    path: str,
    query: str,
    h: Headers,
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
    check_time_window(
        from_epoch(sig_params["created"], "created"),
        from_epoch(expires, "expires") if expires is not None else None,
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
        public = load_public(key)
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


def _check_content_digest(h: Headers, body: bytes) -> None:
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
