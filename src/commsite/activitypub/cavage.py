"""draft-cavage HTTP Signatures (``Signature: keyId=…,algorithm=…,headers=…,
signature=…``), which every fediverse server speaks and the one we sign with
by default: signing, parsing the header, verifying as Mastodon does. By hand
on ``cryptography``.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite.activitypub.signature_base import (
    CAVAGE_ALGORITHMS,
    Headers,
    InvalidSignature,
    KeyResolver,
    MalformedSignature,
    Verified,
    authority_and_target,
    check_time_window,
    epoch,
    http_date,
    load_public,
    rsa_sign,
    sha256_b64,
)

__all__ = ["cavage_signing_string", "parse_cavage", "sign_cavage", "verify_cavage"]


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
    authority, target = authority_and_target(url)
    if not include_query:
        target = target.partition("?")[0]
    out: dict[str, str] = {
        k: v for k, v in headers.items() if k.lower() not in {"host", "date", "digest", "signature"}
    }
    out["Host"] = authority
    out["Date"] = http_date(now)
    components = [
        ("(request-target)", f"{method.lower()} {target}"),
        ("host", authority),
        ("date", out["Date"]),
    ]
    if body is not None:
        out["Digest"] = f"SHA-256={sha256_b64(body)}"
        components.append(("digest", out["Digest"]))
    content_type = Headers(headers).get("content-type")
    if content_type is not None:
        components.append(("content-type", content_type))
    signature = rsa_sign(private_key, cavage_signing_string(components).encode("utf-8"))
    out["Signature"] = ",".join(
        [
            f'keyId="{key_id}"',
            f'algorithm="{algorithm}"',
            f'headers="{" ".join(name for name, _ in components)}"',
            f'signature="{base64.b64encode(signature).decode("ascii")}"',
        ]
    )
    return out


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


def verify_cavage(
    method: str,
    path: str,
    query: str,
    h: Headers,
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
        created = epoch(params["created"], "created")
    elif "date" in signed and h.get("date"):
        try:
            created = parsedate_to_datetime(h.get("date") or "")
        except (TypeError, ValueError) as exc:
            raise InvalidSignature(f"Invalid Date header: {h.get('date')!r}") from exc
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
    expires = None
    if "(expires)" in signed and params.get("expires"):
        expires = epoch(params["expires"], "expires")
    check_time_window(created, expires, now, max_skew)

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
        public = load_public(key)
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
    h: Headers,
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
    computed = sha256_b64(body)
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
