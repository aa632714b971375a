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

This module is the public face; the formats are cavage.py and rfc9421.py, what they share
signature_base.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from commsite.activitypub.cavage import sign_cavage, verify_cavage
from commsite.activitypub.rfc9421 import sign_rfc9421, verify_rfc9421
from commsite.activitypub.signature_base import (
    Headers,
    InvalidSignature,
    KeyResolver,
    MalformedSignature,
    PublicKey,
    SignatureError,
    Verified,
    key_owner_matches,
    require_aware,
)

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
    require_aware(now)
    h = Headers(headers)
    method = method.upper()
    if h.get("signature-input") is not None:
        return verify_rfc9421(method, path, query, h, body, resolve_key, now, max_skew)
    return verify_cavage(method, path, query, h, body, resolve_key, now, max_skew)
