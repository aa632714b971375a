"""`commsite check --external`: outside links asked over real HTTP on loopback.

The servers are the standard library's http.server (not commsite code): 200,
404, 410, a HEAD-refusing server, redirects (to a 404, to ftp:), 403, and one
that never answers, which must come back as "could not check" within the
timeout.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsite.cli import main
from commsite.links.check import ExternalLink
from commsite.links.external import LINK_CACHE, MAX_AGE, check_external
from test_content_invalid import make_site

FIXTURES = Path(__file__).parent / "fixtures"


class _Peer:
    """What the server saw: requests per path, and the most at once."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.lock = threading.Condition()
        self.active = 0
        self.most = 0
        self.release = threading.Event()  # lets the never-answering handler go


def _handler(peer: _Peer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, location: str | None = None) -> None:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def do_GET(self) -> None:
            self._serve("GET")

        def _serve(self, method: str) -> None:
            path = self.path
            with peer.lock:
                peer.seen[f"{method} {path}"] += 1
            if path == "/ok":
                self._answer(200)
            elif path == "/gone":
                self._answer(404)
            elif path == "/removed":
                self._answer(410)
            elif path == "/forbidden":
                self._answer(403)
            elif path == "/no-head":
                self._answer(405 if method == "HEAD" else 200)
            elif path == "/moved":
                self._answer(301, "/gone")
            elif path == "/to-ftp":
                self._answer(302, "ftp://files.example/x")
            elif path == "/slow":
                peer.release.wait(10)
                self._answer(200)
            elif path.startswith("/busy/"):
                with peer.lock:
                    peer.active += 1
                    peer.most = max(peer.most, peer.active)
                    peer.lock.notify_all()
                    # Held until a third request comes in at once (never, when at
                    # most two are sent to a host together) or briefly.
                    peer.lock.wait_for(lambda: peer.active >= 3, timeout=0.2)
                    peer.active -= 1
                self._answer(200)
            else:
                self._answer(500)

    return Handler


@pytest.fixture
def peer() -> Iterator[tuple[str, _Peer]]:
    state = _Peer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _links(base: str, *paths: str) -> list[ExternalLink]:
    return [ExternalLink(f"{base}{p}", "content/stories/x.md", n) for n, p in enumerate(paths, 6)]


def test_each_answer_is_reported_as_it_should(peer: tuple[str, _Peer], tmp_path: Path) -> None:
    base, _ = peer
    refused = f"http://127.0.0.1:{_closed_port()}/x"
    links = [
        *_links(base, "/ok", "/gone", "/removed", "/no-head", "/moved", "/to-ftp", "/forbidden"),
        ExternalLink(refused, "content/pages/about.md", 3),
    ]
    report = check_external(links, tmp_path / LINK_CACHE, timeout=2)
    assert [d.format() for d in report.broken] == [
        f"content/stories/x.md:7: warning: broken link '{base}/gone' (the server answered 404)",
        f"content/stories/x.md:8: warning: broken link '{base}/removed' (the server answered 410)",
        f"content/stories/x.md:10: warning: broken link '{base}/moved' (the server answered 404)",
    ]
    notes = [n.format() for n in report.unchecked]
    assert notes[0] == (
        f"content/stories/x.md:11: note: could not check '{base}/to-ftp'"
        " (it redirects to a non-http address)"
    )
    assert notes[1] == (
        f"content/stories/x.md:12: note: could not check '{base}/forbidden'"
        " (the server answered 403)"
    )
    assert notes[2].startswith(
        f"content/pages/about.md:3: note: could not check '{refused}' (cannot connect"
    )
    assert len(notes) == 3


def test_a_server_that_never_answers_is_a_note_within_the_timeout(
    peer: tuple[str, _Peer],
) -> None:
    import time

    base, _ = peer
    started = time.monotonic()
    report = check_external(_links(base, "/slow", "/ok"), None, timeout=0.3)
    assert time.monotonic() - started < 3
    assert report.broken == ()
    assert [n.format() for n in report.unchecked] == [
        f"content/stories/x.md:6: note: could not check '{base}/slow' (no answer within 0.3 s)"
    ]


def test_answers_are_kept_a_day_and_failures_asked_again(
    peer: tuple[str, _Peer], tmp_path: Path
) -> None:
    base, state = peer
    cache = tmp_path / LINK_CACHE
    links = _links(base, "/ok", "/gone", "/slow")
    first = check_external(links, cache, timeout=0.3, now=lambda: 1_000_000.0)
    state.release.set()  # the slow one answers from now on
    assert state.seen == Counter({"HEAD /ok": 1, "HEAD /gone": 1, "HEAD /slow": 1})
    assert sorted(json.loads(cache.read_text())["answers"]) == [f"{base}/gone", f"{base}/ok"]
    later = check_external(links, cache, timeout=2, now=lambda: 1_000_000.0 + MAX_AGE - 1)
    assert state.seen == Counter({"HEAD /ok": 1, "HEAD /gone": 1, "HEAD /slow": 2})
    assert later.broken == first.broken and later.unchecked == ()
    check_external(links, cache, timeout=2, now=lambda: 1_000_000.0 + MAX_AGE + 1)
    assert state.seen == Counter({"HEAD /ok": 2, "HEAD /gone": 2, "HEAD /slow": 2})
    cache.write_text("{not json", encoding="utf-8")  # a damaged cache is asked around
    assert check_external(links, cache, timeout=2).broken == first.broken


def test_at_most_two_requests_go_to_one_host_at_once(peer: tuple[str, _Peer]) -> None:
    base, state = peer
    links = _links(base, *(f"/busy/{n}" for n in range(6)))
    report = check_external(links, None, timeout=2, workers=8, per_host=2)
    assert report.broken == () and report.unchecked == ()
    assert state.most == 2
    assert sum(state.seen.values()) == 6


def test_check_external_from_the_command_line(peer: tuple[str, _Peer], tmp_path: Path) -> None:
    base, _ = peer
    site = make_site(FIXTURES / "links" / "valid_links", tmp_path)
    story = site / "content" / "stories" / "2026-04-10-links.md"
    refused = f"http://127.0.0.1:{_closed_port()}/x"
    story.write_text(
        story.read_text(encoding="utf-8")
        + f"\n[fine]({base}/ok) [gone]({base}/gone)\n[down]({refused})\n",
        encoding="utf-8",
    )
    member = site / "content" / "members" / "ada.md"  # front matter links are asked too
    member.write_text(
        member.read_text(encoding="utf-8").replace("https://ada.example", f"{base}/removed"),
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(main, ["check", str(site), "--external"])
    assert result.exit_code == 0, result.output
    where = "content/stories/2026-04-10-links.md:24"
    assert f"{where}: warning: broken link '{base}/gone' (the server answered 404)" in result.output
    assert f"{where.replace(':24', ':25')}: note: could not check '{refused}'" in result.output
    assert (
        f"content/members/ada.md:8: warning: broken link '{base}/removed'"
        " (the server answered 410)" in result.output
    )
    assert (site / ".commsite" / LINK_CACHE).is_file()
    # Without --external nothing is asked; with --strict the 404 fails, the note never does.
    assert f"{base}/gone" not in runner.invoke(main, ["check", str(site)]).output
    strict = runner.invoke(main, ["check", str(site), "--external", "--strict"])
    assert strict.exit_code == 1
    assert f"{where}: error: broken link '{base}/gone'" in strict.output
