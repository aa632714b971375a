"""Inbox admission: check, verify, store durably, answer 202. Nothing else.

The order of the checks is the order of their cost, cheapest first, so a flood
or a hostile sender is refused before it costs a key fetch or a disk write:

1. Content-Length over 1 MiB -> 413 (and the body is counted while read, so a
   lying or absent Content-Length cannot get more in);
2. a content type that is not ActivityPub JSON -> 415;
3. too many requests from the sending domain (the keyId's host) -> 429 with
   Retry-After;
4. not JSON, not an object, no id/type/actor -> 400;
5. a blocked actor or domain -> 202, dropped, logged (no key fetch);
6. a keyId not in the cache while too many new keys are being fetched (all
   hosts together: 5 a second, bursts of 20) -> 429, so invented keyId hosts
   cannot turn us into a fetching machine; a key fetch that finds no free slot
   (sidecar/fetchslots.py: half the server's threads, 2 per remote host) -> 503
   with Retry-After, so slow key servers cannot take every thread;
7. no signature -> 401; a Host that is not this site's (base_url's host,
   inbox_url's, or one of sidecar.host_aliases: see sidecar/hosts.py) -> 401,
   since a delivery signed for another server would verify here too (the
   signature must cover the Host: `verify` refuses one that does not); a
   malformed signature -> 400; a bad, expired or unverifiable one -> 401 with
   JSON {"error": reason}; the activity's actor is not the key's owner -> 401;
8. the activity is stored (INSERT OR IGNORE on its id) and COMMITted, and only
   then is 202 sent. The same activity again is 202 and stored once.

Replays: a request replayed byte for byte carries the same signed body (the
Digest must be signed), hence the same activity id, which is already stored:
it gets 202 and does nothing. Activity ids are kept forever (a purge drops the
body, not the id), which is longer than any signature stays valid, so that
dedupe is a complete replay defence; a separate table of seen signatures would
only duplicate it. A legitimate redelivery (the sender never saw our 202) is
the same case and must be 202, or the sender would log a failure.

Every refusal (4xx) is logged by `refusals.log_refusal`, in one line with the remote
address, the keyId, actor and activity id as far as they are known, and the
reason the sender is told.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from commsite.activitypub.media_types import is_activity_json
from commsite.activitypub.signatures import MalformedSignature, SignatureError, verify
from commsite.config import SiteConfig
from commsite.content.network_text import clean_json
from commsite.federation.fetch import FetchError, Gone
from commsite.sidecar.fetchslots import NoFetchSlot
from commsite.sidecar.hosts import host_rules, is_our_host
from commsite.sidecar.jsonbody import NotJSON, parse_json
from commsite.sidecar.keycache import KeyCache
from commsite.sidecar.moderation import blocked_reason
from commsite.sidecar.notes import host_of, id_of
from commsite.sidecar.ratelimit import Limiter, RateLimiter
from commsite.sidecar.refusals import log_refusal
from commsite.sidecar.store import Store

__all__ = [
    "HANDLED_TYPES",
    "MAX_BODY",
    "Admission",
    "Answer",
    "InboxRequest",
    "acceptable_content_type",
]

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
HANDLED_TYPES = frozenset(
    {"Create", "Update", "Delete", "Follow", "Undo", "Like", "Announce", "Flag"}
    # RSVPs (sidecar/rsvp_intake.py): Mobilizon's Join/Leave, Friendica's answers
    | {"Join", "Leave", "Accept", "TentativeAccept", "Reject"}
)
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class InboxRequest:
    """What admission needs of an HTTP request (built by the WSGI app)."""

    method: str
    path: str  # as the sender signed it
    query: str
    headers: Mapping[str, str]  # lower-case names; Host already the public one
    content_length: int | None
    body: BinaryIO
    remote_addr: str


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    payload: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = field(default=())


def acceptable_content_type(value: str | None) -> bool:
    """ActivityPub JSON: activity+json, ld+json (any profile) or, leniently, plain JSON.

    Mastodon sends application/activity+json; the spec allows ld+json with the
    ActivityStreams profile; a few older servers send application/json, which
    Mastodon itself does not refuse, so neither do we. Anything else is 415.
    """
    return is_activity_json(value)


class _TooLarge(Exception):
    pass


def _read_limited(stream: BinaryIO, declared: int | None) -> bytes:
    """Read at most MAX_BODY bytes, counting them whatever Content-Length said."""
    chunks: list[bytes] = []
    total = 0
    remaining = declared if declared is not None else MAX_BODY + 1
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def signature_key_id(headers: Mapping[str, str]) -> str | None:
    """The keyId a request claims (unverified), from a cavage or RFC 9421 header."""
    for name, marker in (("signature", "keyid="), ("signature-input", "keyid=")):
        value = headers.get(name)
        if not value:
            continue
        lowered = value.lower()
        at = lowered.find(marker)
        if at < 0:
            continue
        rest = value[at + len(marker) :].lstrip()
        if rest.startswith('"'):
            end = rest.find('"', 1)
            return rest[1:end] if end > 0 else None
        return rest.split(",", 1)[0].split(";", 1)[0].strip() or None
    return None


class Admission:
    def __init__(
        self,
        *,
        config: SiteConfig,
        store: Store,
        keys: KeyCache,
        limiter: Limiter,
        clock: Callable[[], datetime],
        fetch_limiter: Limiter | None = None,
        on_stored: Callable[[], None] = lambda: None,
        max_skew: timedelta = timedelta(hours=1),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.store = store
        self.keys = keys
        self.limiter = limiter
        # Key fetches for unknown keyIds, whatever host they claim: the per-domain
        # limit alone would let a sender make us fetch from many invented hosts.
        self.fetch_limiter: Limiter = fetch_limiter or RateLimiter(rate=5.0, burst=20)
        self.clock = clock
        self.on_stored = on_stored
        self.max_skew = max_skew
        self.monotonic = monotonic
        self.hosts = host_rules(config)

    def admit(self, request: InboxRequest) -> Answer:
        seen = _Seen()
        answer = self._admit(request, seen)
        if answer.status >= 300:
            log_refusal(
                request.remote_addr,
                answer.status,
                str(answer.payload.get("error", "")),
                key_id=seen.key_id,
                actor=seen.actor,
                activity_id=seen.activity_id,
            )
        return answer

    def _admit(self, request: InboxRequest, seen: _Seen) -> Answer:
        """The checks, in order; `seen` collects who the request claims to be, for the log."""
        key_id = seen.key_id = signature_key_id(request.headers)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _refuse(413, f"body larger than {MAX_BODY} bytes")
        if not acceptable_content_type(request.headers.get("content-type")):
            return _refuse(
                415, "content type must be application/activity+json or application/ld+json"
            )
        sender = host_of(key_id) or f"addr:{request.remote_addr}"
        wait = self.limiter.take(sender, self.monotonic())
        if wait > 0:
            return _refuse(
                429, "too many requests", (("Retry-After", self.limiter.retry_after(wait)),)
            )
        try:
            body = _read_limited(request.body, request.content_length)
        except _TooLarge:
            return _refuse(413, f"body larger than {MAX_BODY} bytes")
        except OSError as exc:  # the sender went away mid-body (gunicorn: NoMoreData)
            return _refuse(400, f"the body could not be read: {exc}")
        try:
            # Strict JSON (sidecar/jsonbody.py), its strings then cleaned
            # (content/network_text.py): control characters never reach SQLite or an answer.
            activity = clean_json(parse_json(body))
        except NotJSON as exc:
            return _refuse(400, f"body is not JSON: {exc}")
        if not isinstance(activity, dict):
            return _refuse(400, "body is not a JSON object")
        activity_id, type_, actor = (
            activity.get("id"),
            activity.get("type"),
            id_of(activity.get("actor")),
        )
        seen.actor = actor
        seen.activity_id = activity_id if isinstance(activity_id, str) else None
        if not isinstance(activity_id, str) or not activity_id:
            return _refuse(400, "activity has no id")
        if not isinstance(type_, str) or not type_:
            return _refuse(400, "activity has no type")
        if not actor:
            return _refuse(400, "activity has no actor")
        if host_of(activity_id) != host_of(actor):
            return _refuse(400, "activity id is not on the actor's host")

        reason = blocked_reason(self.store, self.config, actor) or (
            blocked_reason(self.store, self.config, key_id) if key_id else None
        )
        if reason:
            log.info("dropped %s %s from %s: %s", type_, activity_id, actor, reason)
            return Answer(202, {"status": "dropped"})
        if type_ not in HANDLED_TYPES:
            log.info("ignored %s %s from %s: type not handled", type_, activity_id, actor)
            return Answer(202, {"status": "ignored"})
        if key_id is None:
            return _refuse(401, "request is not signed")
        host = request.headers.get("host")
        if not is_our_host(host, self.hosts):
            return _refuse(401, _not_our_host(host, self.config))

        if type_ == "Delete" and id_of(activity.get("object")) == actor:
            early = self._actor_deletion(activity_id, actor, key_id)
            if early is not None:
                return early

        if self.keys.cached(key_id) is None:
            busy = self.keys.fetch_busy(key_id)  # before a token: a refusal must not spend one
            if busy is not None:
                return _busy(key_id, busy)
            wait = self.fetch_limiter.take("key-fetch", self.monotonic())
            if wait > 0:
                return _refuse(
                    429,
                    "too many new senders at once",
                    (("Retry-After", self.fetch_limiter.retry_after(wait)),),
                )
        try:
            verified = verify(
                method=request.method,
                path=request.path,
                query=request.query,
                headers=request.headers,
                body=body,
                resolve_key=self.keys.resolve,
                now=self.clock(),
                max_skew=self.max_skew,
            )
        except MalformedSignature as exc:
            return _refuse(400, exc.reason)
        except NoFetchSlot as exc:
            return _busy(key_id, exc)
        except SignatureError as exc:
            if exc.signed_string is not None:
                log.info("the signing string we compared:\n%s", exc.signed_string)
            return _refuse(401, exc.reason)
        if verified.owner != actor:
            return _refuse(401, f"actor {actor} is not the owner of key {verified.key_id}")
        return self._store(activity_id, type_, actor, verified.key_id, body)

    def _actor_deletion(self, activity_id: str, actor: str, key_id: str) -> Answer | None:
        """Delete{actor}: cheap answers for the flood Mastodon sends when an account goes.

        Unknown actor: 202 and nothing to do (no key fetch). Known actor whose key
        we cannot fetch any more (404/410) and that signed with its own key: 202
        and purge, since nothing else can ever prove it. Otherwise None: verify
        as usual (a cached key still works).
        """
        if not self._knows_actor(actor):
            return Answer(202, {"status": "ignored"})
        if key_id.split("#", 1)[0] != actor or self.keys.cached(key_id) is not None:
            return None
        try:
            self.keys.fetch(key_id)
        except NoFetchSlot as exc:
            return _busy(key_id, exc)
        except Gone:
            log.info("actor %s is gone (key fetch 404/410): accepting its Delete", actor)
            return self._store(activity_id, "Delete", actor, key_id, None)
        except FetchError:
            return None  # verify() will try again and answer 401 with the reason
        return None

    def _knows_actor(self, actor: str) -> bool:
        if self.store.followers.get(actor) is not None:
            return True
        conn = self.store.conn
        for query in (
            "SELECT 1 FROM inbox_items WHERE actor = ? LIMIT 1",
            "SELECT 1 FROM inbox_reactions WHERE actor = ? LIMIT 1",
            "SELECT 1 FROM inbox_actors WHERE id = ?",
        ):
            if conn.execute(query, (actor,)).fetchone() is not None:
                return True
        return False

    def _store(
        self, activity_id: str, type_: str, actor: str, key_id: str, body: bytes | None
    ) -> Answer:
        text = (
            body.decode("utf-8")
            if body is not None
            else json.dumps({"id": activity_id, "type": type_, "actor": actor, "object": actor})
        )
        new = self.store.add_activity(
            activity_id=activity_id,
            type_=type_,
            actor=actor,
            key_id=key_id,
            body=text,
            now=self.clock(),
        )
        if new:
            self.on_stored()
            return Answer(202, {"status": "accepted"})
        log.info("duplicate %s %s from %s", type_, activity_id, actor)
        return Answer(202, {"status": "duplicate"})


@dataclass(slots=True)
class _Seen:
    """Who a request claims to be, as far as admission got: for the refusal's log line."""

    key_id: str | None = None
    actor: str | None = None
    activity_id: str | None = None


def _not_our_host(host: str | None, config: SiteConfig) -> str:
    if not host:
        return "the request has no Host header: it must name this site"
    aliases = ", ".join(config.sidecar.host_aliases)
    return (
        f"the request was signed for {host}, not for this site ({urlsplit(config.base_url).netloc}"
        + (f" or {aliases}" if aliases else "")
        + ")"
    )


def _refuse(status: int, reason: str, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, {"error": reason}, headers)


def _busy(key_id: str, exc: NoFetchSlot) -> Answer:
    """503: no slot to fetch `key_id`; the sender retries (logged by `admit`, as every refusal)."""
    return _refuse(503, exc.reason, (("Retry-After", str(exc.retry_after)),))
