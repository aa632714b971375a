"""What both HTTP Signature formats share: the errors (with the HTTP status to
answer), the public key and the result of a verification, Mastodon's time
window, and small helpers of the two signers and verifiers (cavage.py,
rfc9421.py). The public face is signatures.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from commsite.errors import CommsiteError

__all__ = [
    "CAVAGE_ALGORITHMS",
    "DEFAULT_EXPIRY",
    "EXPIRY_LIMIT",
    "RFC9421_ALGORITHM",
    "RFC9421_LABEL",
    "Headers",
    "InvalidSignature",
    "KeyResolver",
    "MalformedSignature",
    "PublicKey",
    "SignatureError",
    "Verified",
    "authority_and_target",
    "check_time_window",
    "epoch",
    "from_epoch",
    "http_date",
    "iso",
    "key_owner_matches",
    "later",
    "load_public",
    "require_aware",
    "rsa_sign",
    "sha256_b64",
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


def sha256_b64(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def http_date(now: datetime) -> str:
    require_aware(now)
    return format_datetime(now.astimezone(UTC), usegmt=True)


def require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("`now` must be a timezone-aware datetime")


def authority_and_target(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"cannot sign a request to {url!r}: need an absolute http(s) URL")
    authority = parts.netloc.rpartition("@")[2]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return authority, target


class Headers:
    """Case-insensitive read-only view of the request headers."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.raw = dict(headers)
        self._lower = {k.lower(): v for k, v in headers.items()}

    def get(self, name: str) -> str | None:
        return self._lower.get(name.lower())


def rsa_sign(private_key: RSAPrivateKey, data: bytes) -> bytes:
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def check_time_window(
    created: datetime | None, expires: datetime | None, now: datetime, max_skew: timedelta
) -> None:
    """Mastodon's window: created not > skew in the future; now not > expiry + skew."""
    if created is not None:
        if created > later(now, max_skew):
            raise InvalidSignature(
                f"Signed request date outside acceptable time window: created {iso(created)}"
                f" is more than {max_skew} in the future (now {iso(now)})"
            )
        limit = later(created, EXPIRY_LIMIT)
        expires = min(expires, limit) if expires is not None else later(created, DEFAULT_EXPIRY)
    if expires is not None and now > later(expires, max_skew):
        raise InvalidSignature(
            f"Signed request date outside acceptable time window: expired at {iso(expires)}"
            f" (+{max_skew} allowed skew), now {iso(now)}"
        )


def later(t: datetime, delta: timedelta) -> datetime:
    """t + delta, or the last representable moment when that is past year 9999."""
    try:
        return t + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def from_epoch(seconds: int, what: str) -> datetime:
    """A Unix time as a datetime; MalformedSignature when no datetime can hold it."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise MalformedSignature(
            f"Invalid {what} parameter: {seconds} is out of range for a date"
        ) from None


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(value: str, what: str) -> datetime:
    if not re.fullmatch(r"\d{1,12}(\.\d+)?", value.strip()):
        raise MalformedSignature(f"Invalid {what} parameter: {value!r} is not a Unix timestamp")
    return from_epoch(int(float(value)), what)


def load_public(key: PublicKey) -> RSAPublicKey:
    try:
        loaded = serialization.load_pem_public_key(key.pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidSignature(f"Public key {key.key_id} is not a valid PEM public key") from exc
    if not isinstance(loaded, RSAPublicKey):
        raise InvalidSignature(f"Public key {key.key_id} is not an RSA key")
    return loaded
