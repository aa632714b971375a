"""The sidecar's WSGI application: routes, JSON answers, and the last line of defence.

Routes (paths under the site's base_url path):

* POST `inbox` (shared) and `ap/inbox` (the actor's): `Admission.admit`;
* GET `ap/followers`: an OrderedCollection with `totalItems` only; signed with
  the community's own key (`commsite publish --sync-followers` on a CI runner),
  the followers too, with their inboxes (an unverifiable signature is 401);
* GET `healthz`: database reachable, queue length, dead letters;
* with `site_files`: every other GET/HEAD is the built site (and
  `.well-known/webfinger` is answered live).

No exception reaches the WSGI server: `__call__` logs it with its traceback and
answers 500 with a JSON body, and so it does for a response header that would
break the response (CR, LF, NUL, not latin-1). A 500 is a bug: every problem with
the request itself is answered 4xx before (tests/test_sidecar_fuzz.py checks it).
Works under waitress (what `commsite sidecar` runs) and any other WSGI server
(gunicorn for several processes).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from commsite import urls
from commsite.activitypub.media_types import ACTIVITY_JSON
from commsite.activitypub.signatures import InvalidSignature, PublicKey, SignatureError, verify
from commsite.config import SiteConfig
from commsite.federation.followers import Follower
from commsite.sidecar.admission import Admission, Answer, InboxRequest
from commsite.sidecar.health import health
from commsite.sidecar.refusals import log_refusal
from commsite.sidecar.responses import Response, json_response
from commsite.sidecar.site_files import SiteFiles
from commsite.sidecar.store import Store

__all__ = ["SidecarApp", "StartResponse", "WSGIEnviron"]

log = logging.getLogger(__name__)

# How old a signed request for the follower list may be: a copy of one is
# useless to anyone after this.
OWN_SKEW = timedelta(minutes=5)


def follower_item(follower: Follower) -> dict[str, object]:
    """One follower in the signed follower list: what delivery needs."""
    item: dict[str, object] = {
        "id": follower.actor,
        "inbox": follower.inbox,
        "published": follower.since.isoformat(),
    }
    if follower.shared_inbox:
        item["endpoints"] = {"sharedInbox": follower.shared_inbox}
    return item


WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]


def _headers(environ: WSGIEnviron, trust_forwarded_host: bool) -> dict[str, str]:
    """Request headers by lower-case name; Host is the one the sender signed."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    forwarded = headers.get("x-forwarded-host")
    if trust_forwarded_host and forwarded:
        headers["host"] = forwarded.split(",", 1)[0].strip()
    return headers


_ABSOLUTE_FORM = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def _raw_path(environ: WSGIEnviron) -> str:
    """The path as sent (still percent-encoded): what (request-target) signed.

    Only the path routes a request. An origin-form target (`/inbox?x=1`) is cut
    at its `?`, whatever its query holds (`/x?u=http://h/healthz` is `/x`); an
    absolute-form one (`http://host/inbox`, RFC 9112 3.2.2, which a proxy may
    send) gives the path of that URL. Anything else is returned as is and
    matches no route.
    """
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw:
        target = str(raw).split("#", 1)[0].split("?", 1)[0]
        if _ABSOLUTE_FORM.match(target):
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        return target
    script = environ.get("SCRIPT_NAME", "")
    path = environ.get("PATH_INFO", "")
    return quote((script + path).encode("latin-1"), safe="/:@!$&'()*+,;=-._~%")


def _check_headers(headers: tuple[tuple[str, str], ...]) -> None:
    """Refuse (as a bug) a header the WSGI server would choke on or that would split the
    response: a route that put request text in a header must not reach start_response."""
    for name, value in headers:
        if any(c in value for c in "\r\n\0") or not _latin1(value):
            raise ValueError(f"response header {name} holds {value!r}")


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _refused(
    environ: WSGIEnviron, status: int, reason: str, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """An inbox refusal decided before admission: logged as admission logs its own."""
    log_refusal(str(environ.get("REMOTE_ADDR", "")), status, reason)
    return json_response(status, {"error": reason}, headers=headers)


class SidecarApp:
    def __init__(
        self,
        *,
        config: SiteConfig,
        store: Store,
        admission: Admission,
        site_files: SiteFiles | None = None,
        trust_forwarded_host: bool = False,
        own_key: PublicKey | None = None,
    ) -> None:
        self.config = config
        self.own_key = own_key  # the community's: who may read the follower list
        self.store = store
        self.admission = admission
        self.site_files = site_files
        self.trust_forwarded_host = trust_forwarded_host
        base = config.base_path
        self.inbox_paths = {base + urls.SHARED_INBOX, base + urls.INBOX}
        self.followers_path = base + urls.FOLLOWERS
        self.health_path = base + "healthz"

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self.route(environ)
            _check_headers(response.headers)
        except Exception:  # the last resort: a bug, since input problems are 4xx by now
            log.exception(
                "internal error answering %r %r",
                environ.get("REQUEST_METHOD"),
                environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO"),
            )
            response = json_response(500, {"error": "internal error"})
        status = f"{response.status} {HTTPStatus(response.status).phrase}"
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(status, headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [response.body]

    def route(self, environ: WSGIEnviron) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = _raw_path(environ)
        if path in self.inbox_paths:
            if method != "POST":
                return _refused(environ, 405, "the inbox only takes POST", (("Allow", "POST"),))
            return self.inbox(environ, path)
        if method not in ("GET", "HEAD"):
            return json_response(
                405, {"error": f"{method} is not allowed here"}, headers=(("Allow", "GET, HEAD"),)
            )
        if path == self.followers_path:
            return self.followers(environ, path)
        if path == self.health_path:
            return self.health()
        if self.site_files is not None:
            return self.site_files.answer(path, str(environ.get("QUERY_STRING", "")))
        return json_response(404, {"error": "not found"})

    def inbox(self, environ: WSGIEnviron, path: str) -> Response:
        length_text = environ.get("CONTENT_LENGTH") or ""
        try:
            length = int(length_text) if length_text else None
        except ValueError:
            return _refused(environ, 400, "Content-Length is not a number")
        if length is not None and length < 0:
            return _refused(environ, 400, "Content-Length is negative")
        request = InboxRequest(
            method="POST",
            path=path,
            query=str(environ.get("QUERY_STRING", "")),
            headers=_headers(environ, self.trust_forwarded_host),
            content_length=length,
            body=environ["wsgi.input"],
            remote_addr=str(environ.get("REMOTE_ADDR", "")),
        )
        answer: Answer = self.admission.admit(request)
        return json_response(answer.status, answer.payload, headers=answer.headers)

    def health(self) -> Response:
        """The database answers; how the inbox and delivery queues stand (health.py)."""
        return json_response(200, health(self.store, self.admission.clock()))

    def followers(self, environ: WSGIEnviron, path: str) -> Response:
        headers = _headers(environ, self.trust_forwarded_host)
        signed = "signature" in headers or "signature-input" in headers
        if signed:
            refusal = self._check_own_signature(environ, path, headers)
            if refusal is not None:
                return refusal
        followers = self.store.followers.all() if signed else []
        document: dict[str, object] = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.config.url(urls.FOLLOWERS),
            "type": "OrderedCollection",
            "totalItems": len(followers) if signed else self.store.followers.count(),
        }
        if signed:
            document["orderedItems"] = [follower_item(f) for f in followers]
            return json_response(
                200, document, content_type=ACTIVITY_JSON, headers=(("Cache-Control", "no-store"),)
            )
        return json_response(200, document, content_type=ACTIVITY_JSON)

    def _check_own_signature(
        self, environ: WSGIEnviron, path: str, headers: dict[str, str]
    ) -> Response | None:
        """None when the community's own key signed the request; else the 401."""
        own = self.own_key

        def resolve(key_id: str, refresh: bool) -> PublicKey:
            if own is None or key_id != own.key_id:
                raise InvalidSignature("only the community's own key may read the follower list")
            return own

        try:
            verify(
                method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
                path=path,
                query=str(environ.get("QUERY_STRING", "")),
                headers=headers,
                body=b"",
                resolve_key=resolve,
                now=datetime.now(UTC),
                max_skew=OWN_SKEW,
            )
        except SignatureError as exc:
            return _refused(environ, 401, f"follower list: {exc}")
        return None
