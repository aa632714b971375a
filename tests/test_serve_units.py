"""The preview server's parts, without a build: real HTTP on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from commsite.errors import Diagnostic, Severity
from commsite.serve.changes import Debouncer, is_relevant
from commsite.serve.errorpage import error_page
from commsite.serve.livereload import EVENTS_PATH, inject_reload_script, reload_script
from commsite.serve.server import PreviewServer, PreviewState


def test_script_goes_before_the_last_body_end() -> None:
    html = b"<html><body><p>x</p><!-- </body> in a comment --></BODY ></html>"
    out = inject_reload_script(html, "b-1")
    assert out.endswith(reload_script("b-1").encode() + b"</BODY ></html>")
    assert b'const served="b-1"' in out
    assert out.count(b"EventSource") == 1


def test_script_is_appended_when_there_is_no_body_end() -> None:
    assert inject_reload_script(b"<p>fragment", "b-1").startswith(b"<p>fragment<script>")


@pytest.mark.parametrize(
    ("name", "relevant"),
    [
        ("content/stories/a.md", True),
        ("commsite.yaml", True),
        ("theme/templates/base.html", True),
        ("static/img/x.png", True),
        ("interactions/replies/a/b.md", True),
        ("content/stories/.a.md.swp", False),
        ("content/stories/a.md~", False),
        ("content/stories/4913", False),
        ("content/stories/.#a.md", False),
        ("content/stories/#a.md#", False),
        ("content/stories/a.md___jb_tmp___", False),
        ("public/index.html", False),
        (".commsite/preview/index.html", False),
        ("README.md", False),
    ],
)
def test_relevant_files(tmp_path: Path, name: str, relevant: bool) -> None:
    assert is_relevant(tmp_path, tmp_path / name) is relevant


def test_debouncer_groups_a_burst_into_one_flush() -> None:
    flushed: list[set[Path]] = []
    done = threading.Event()

    def flush(paths: set[Path]) -> None:
        flushed.append(paths)
        done.set()

    debouncer = Debouncer(flush, quiet=0.05, longest=1.0)
    now = time.monotonic()
    for i in range(5):
        debouncer.add([Path(f"f{i % 2}")], now + i * 0.001)
    assert done.wait(5)
    time.sleep(0.1)
    assert flushed == [{Path("f0"), Path("f1")}]


def test_error_page_lists_every_diagnostic_escaped() -> None:
    page = error_page(
        [
            Diagnostic("content/stories/a.md", 3, "'date' is not a date (got \"<b>\")"),
            Diagnostic(
                "commsite.yaml", 7, "unknown key 'titel'", Severity.WARNING, "did you mean 'title'?"
            ),
        ]
    ).decode()
    expected = (
        "content/stories/a.md:3: error: &#x27;date&#x27; is not a date (got &quot;&lt;b&gt;&quot;)"
    )
    assert expected in page
    assert "commsite.yaml:7: warning: unknown key" in page
    assert "1 error, 1 warning" in page


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, PreviewState, Path]]:
    out = tmp_path / "out"
    (out / "stories" / "a").mkdir(parents=True)
    (out / "stories" / "a" / "index.html").write_text("<!doctype html><body><p>A</p></body>")
    (out / "404.html").write_text("<!doctype html><body>missing</body>")
    (out / "ap").mkdir()
    (out / "ap" / "actor").write_text('{"id": "x"}')
    (out / "style.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("secret")
    state = PreviewState(out)

    def webfinger(resource: str) -> bytes | None:
        known = resource.lower() == "acct:fixers@127.0.0.1"
        return b'{"subject": "acct:fixers@127.0.0.1"}' if known else None

    server = PreviewServer(("127.0.0.1", 0), state, webfinger=webfinger)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state, out
    finally:
        server.shutdown()
        server.server_close()


def test_pages_get_the_script_other_files_do_not(served: tuple[str, PreviewState, Path]) -> None:
    base, _, _ = served
    page = requests.get(f"{base}/stories/a/", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "EventSource" in page.text
    css = requests.get(f"{base}/style.css", timeout=5)
    assert "EventSource" not in css.text
    actor = requests.get(f"{base}/ap/actor", timeout=5)
    assert actor.headers["Content-Type"].startswith("application/activity+json")


def test_redirect_404_and_no_escape_from_the_output(served: tuple[str, PreviewState, Path]) -> None:
    base, _, _ = served
    r = requests.get(f"{base}/stories/a", timeout=5, allow_redirects=False)
    assert r.status_code == 301 and r.headers["Location"] == "/stories/a/"
    missing = requests.get(f"{base}/nope/", timeout=5)
    assert missing.status_code == 404 and "missing" in missing.text
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=5) as s:
        s.sendall(b"GET /../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    assert b"secret" not in raw.split(b"\r\n\r\n", 1)[1]


def test_failed_build_replaces_pages_with_errors(served: tuple[str, PreviewState, Path]) -> None:
    base, state, _ = served
    state.publish(failed=True, diagnostics=[Diagnostic("content/stories/a.md", 2, "broken")])
    r = requests.get(f"{base}/stories/a/", timeout=5)
    assert r.status_code == 500
    assert "content/stories/a.md:2: error: broken" in r.text and "EventSource" in r.text
    assert requests.get(f"{base}/style.css", timeout=5).status_code == 200
    state.publish(failed=False, diagnostics=[])
    assert "<p>A</p>" in requests.get(f"{base}/stories/a/", timeout=5).text


def test_webfinger_is_answered_with_cors(served: tuple[str, PreviewState, Path]) -> None:
    base, _, _ = served
    ok = requests.get(f"{base}/.well-known/webfinger?resource=acct:FIXERS@127.0.0.1", timeout=5)
    assert ok.status_code == 200
    assert ok.headers["Content-Type"] == "application/jrd+json"
    assert ok.headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(ok.text)["subject"] == "acct:fixers@127.0.0.1"
    other = requests.get(f"{base}/.well-known/webfinger?resource=acct:x@127.0.0.1", timeout=5)
    assert other.status_code == 404


def test_event_stream_announces_each_build(served: tuple[str, PreviewState, Path]) -> None:
    base, state, _ = served
    with requests.get(f"{base}{EVENTS_PATH}", stream=True, timeout=5) as r:
        assert r.headers["Content-Type"] == "text/event-stream"
        lines = r.iter_lines(chunk_size=1, decode_unicode=True)
        seen = [next(lines) for _ in range(3)]
        assert seen == ["retry: 500", "event: build", f"data: {state.boot}-0"]
        threading.Timer(0.05, lambda: state.publish(failed=False, diagnostics=[])).start()
        rest = []
        for line in lines:
            rest.append(line)
            if line.startswith("data:"):
                break
        assert rest[-2:] == ["event: build", f"data: {state.boot}-1"]
