"""The preview's HTTP server: the built site, the reload stream and the error page.

The server never serves a half-built site: requests hold a shared lock while
they read the output and a rebuild holds it exclusively while it builds and
writes, so a page is either all before or all after a change. While the last
build failed, every HTML page is replaced by the error page; otherwise every
HTML page gets the banner (the build's warnings, the preview mark) at its top
and the reload script at its end, on the way out.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from commsite import urls
from commsite.errors import Diagnostic
from commsite.serve.banner import banner_html, inject_banner, warnings_key, warnings_of
from commsite.serve.errorpage import error_page
from commsite.serve.livereload import EVENTS_PATH, build_event, inject_reload_script
from commsite.site_files import (
    content_type,
    extra_headers,
    not_found_body,
    resolve,
    rule_for,
    slash_location,
    wants_slash,
)

__all__ = ["HISTORY", "PreviewServer", "PreviewState", "SharedLock"]

KEEPALIVE_SECONDS = 10.0
# How many builds back a reconnecting page can be told what changed.
HISTORY = 64


class SharedLock:
    """Many readers or one writer; a waiting writer holds back new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


@dataclass
class PreviewState:
    """What the server shows: the output folder and the outcome of the last build."""

    output: Path
    site_title: str = "commsite"
    federation: bool = True  # whether the served files table's federation rows apply
    generation: int = 0
    # Distinguishes this server's builds from a previous run's, so open tabs
    # reload after a restart even when the build counters happen to match.
    boot: str = field(default_factory=lambda: secrets.token_hex(4))
    diagnostics: Sequence[Diagnostic] = ()
    failed: bool = False
    # Where the site will live (commsite.yaml's base_url) and where the preview
    # is: pages say so at their top when they differ (banner.py).
    live_url: str | None = None
    preview_url: str = ""
    warnings: str = ""  # the key of the last build's warnings (banner.warnings_key)
    banner: bytes = b""  # what is added to the top of every page now
    lock: SharedLock = field(default_factory=SharedLock)
    changed: threading.Condition = field(default_factory=threading.Condition)
    # What each recent build wrote or removed (None: unknown), oldest first,
    # ending with the current build: generation - len + 1 .. generation.
    _history: deque[tuple[str, ...] | None] = field(default_factory=lambda: deque(maxlen=HISTORY))

    def publish(
        self,
        *,
        failed: bool,
        diagnostics: Sequence[Diagnostic],
        changed: Iterable[str] | None = None,
    ) -> None:
        """Record a finished build and wake every open page's reload stream.

        `changed`: the output files it wrote or removed; None (the default)
        when that is not known, so every open page reloads."""
        with self.changed:
            self.failed = failed
            self.diagnostics = tuple(diagnostics)
            warnings = warnings_of(self.diagnostics)
            self.warnings = warnings_key(warnings)
            self.banner = banner_html(
                warnings, live_url=self.live_url, preview_url=self.preview_url
            )
            self._history.append(None if changed is None else tuple(changed))
            self.generation += 1
            self.changed.notify_all()

    @property
    def build_id(self) -> str:
        return self._id(self.generation)

    def _id(self, generation: int) -> str:
        return f"{self.boot}-{generation}"

    def generation_of(self, build: str | None) -> int | None:
        """The generation of one of this server's builds from its id; None for
        anything else (a previous run's build, a malformed id, no id)."""
        boot, _, number = (build or "").rpartition("-")
        if boot != self.boot or not number.isdigit():
            return None
        generation = int(number)
        return generation if generation <= self.generation else None

    def event(self, since: int | None) -> tuple[int, bytes]:
        """The current build's number and its `build` event for a reader that
        has seen build `since` (None: unknown), listing every output file
        changed after it, or None when that is not known (too far back)."""
        with self.changed:
            if since is None:  # a reader from nowhere: the build before, nothing of what changed
                after = self._id(self.generation - 1) if self.generation else None
                files = None
            else:
                after, files = self._id(since), self._changed_after(since)
            return self.generation, build_event(
                self.build_id,
                after=after,
                failed=self.failed,
                changed=files,
                warnings=self.warnings,
            )

    def _changed_after(self, since: int) -> list[str] | None:
        missed = self.generation - since
        if missed > len(self._history):
            return None
        union: set[str] = set()
        for files in list(self._history)[len(self._history) - missed :]:
            if files is None:
                return None
            union.update(files)
        return sorted(union)

    def wait_for_change(self, seen: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.generation != seen, timeout=timeout)
            return self.generation


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True  # open reload streams must not hold up Ctrl-C
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        state: PreviewState,
        *,
        webfinger: Callable[[str], bytes | None] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.state = state
        self.webfinger = webfinger
        self.log = log
        self.stopping = threading.Event()
        super().__init__(address, PreviewHandler)

    def shutdown(self) -> None:
        self.stopping.set()
        with self.state.changed:
            self.state.changed.notify_all()
        super().shutdown()


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"
    server_version = "commsite-serve"

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            self.server.log(format % args)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    # -- routing ---------------------------------------------------------------

    def _respond(self, *, head: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        if path == EVENTS_PATH:
            self._stream_events(url.query)
            return
        state = self.server.state
        with state.lock.shared():
            if path == "/" + urls.WEBFINGER and self.server.webfinger is not None:
                self._webfinger(url.query, head=head)
                return
            file = resolve(state.output, path)
            is_page = file is None or file.suffix == ".html"
            if state.failed and is_page:
                self._send(
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    "text/html; charset=utf-8",
                    inject_reload_script(
                        error_page(state.diagnostics, site_title=state.site_title),
                        state.build_id,
                        error=True,
                    ),
                    head=head,
                )
                return
            if file is None and wants_slash(state.output, path):
                location = slash_location("/", path)
                self._redirect(location + (f"?{url.query}" if url.query else ""))
                return
            if file is None:
                self._send(
                    HTTPStatus.NOT_FOUND,
                    "text/html; charset=utf-8",
                    inject_reload_script(
                        inject_banner(not_found_body(state.output), state.banner),
                        state.build_id,
                        not_found=True,
                        warnings=state.warnings,
                    ),
                    head=head,
                )
                return
            body = file.read_bytes()
            # Read under the same lock as the page they stamp.
            build, warnings, banner = state.build_id, state.warnings, state.banner
            ctype = content_type(state.output, file, federation=state.federation)
            headers = extra_headers(state.output, file, federation=state.federation)
        if ctype.startswith("text/html"):
            body = inject_reload_script(inject_banner(body, banner), build, warnings=warnings)
        self._send(HTTPStatus.OK, ctype, body, head=head, headers=headers)

    def _webfinger(self, query: str, *, head: bool) -> None:
        assert self.server.webfinger is not None
        rule = rule_for(urls.WEBFINGER)
        headers = rule.headers if rule is not None else ()
        resource = parse_qs(query).get("resource", [""])[0]
        if not resource:
            self._send(
                HTTPStatus.BAD_REQUEST,
                "application/json",
                b'{"error": "the resource parameter is required"}',
                head=head,
                headers=headers,
            )
            return
        answer = self.server.webfinger(resource)
        if answer is None:
            self._send(
                HTTPStatus.NOT_FOUND,
                "application/json",
                json.dumps({"error": f"unknown resource {resource}"}).encode(),
                head=head,
                headers=headers,
            )
            return
        ctype = rule.content_type if rule is not None and rule.content_type else "application/json"
        self._send(HTTPStatus.OK, ctype, answer, head=head, headers=headers)

    def _stream_events(self, query: str) -> None:
        state = self.server.state
        # The build the page last saw: EventSource sends the last event's id
        # when it reconnects; a page opening its stream names the build it was
        # served from. Taken before the headers are sent: once a page sees the
        # stream open, every later build reaches it as an event.
        since = self.headers.get("Last-Event-ID") or parse_qs(query).get("since", [""])[0]
        seen, first = state.event(state.generation_of(since))
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(b"retry: 500\n" + first)
            self.wfile.flush()
            while not self.server.stopping.is_set():
                if state.wait_for_change(seen, KEEPALIVE_SECONDS) != seen:
                    seen, event = state.event(seen)
                    self.wfile.write(event)
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return  # the tab was closed or reloaded

    # -- responses -------------------------------------------------------------

    def _send(
        self,
        status: HTTPStatus,
        ctype: str,
        body: bytes,
        *,
        head: bool,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
