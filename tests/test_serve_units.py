"""The preview server's parts, without a build: real HTTP on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from commsite.errors import Diagnostic, Severity
from commsite.serve.changes import Debouncer, is_relevant
from commsite.serve.errorpage import error_page
from commsite.serve.livereload import (
    EVENTS_PATH,
    MAX_CHANGED,
    build_event,
    inject_reload_script,
    reaches_pages,
    reload_script,
)
from commsite.serve.server import HISTORY, PreviewServer, PreviewState


def test_script_goes_before_the_last_body_end() -> None:
    html = b"<html><body><p>x</p><!-- </body> in a comment --></BODY ></html>"
    out = inject_reload_script(html, "b-1")
    assert out.endswith(reload_script("b-1").encode() + b"</BODY ></html>")
    assert b'const served = {"id": "b-1", "error": false, "notFound": false};' in out
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


@pytest.mark.parametrize(
    ("name", "relevant"),
    [
        ("mytheme/templates/base.html", True),
        ("mytheme/static/style.css", True),
        ("mytheme/templates/.base.html.swp", False),
        ("mytheme/README.md", False),
        ("other/templates/base.html", False),
    ],
)
def test_relevant_files_in_folders_outside_the_site(
    tmp_path: Path, name: str, relevant: bool
) -> None:
    site = tmp_path / "site"
    outside = [tmp_path / "mytheme" / "templates", tmp_path / "mytheme" / "static"]
    assert is_relevant(site, tmp_path / name, outside) is relevant
    assert not is_relevant(site, tmp_path / name)


@pytest.mark.parametrize(
    ("name", "relevant"),
    [
        ("mytheme/templates/base.html", True),
        ("mytheme/templates/.base.html.swp", False),
        ("mytheme/README.md", False),
        ("content/stories/a.md", True),
        ("other/templates/base.html", False),
    ],
)
def test_relevant_files_in_a_theme_folder_of_the_site(
    name: str, relevant: bool, tmp_path: Path
) -> None:
    """`theme: mytheme`: a folder of the site that is not a watched one."""
    outside = [tmp_path / "mytheme" / "templates"]
    assert is_relevant(tmp_path, tmp_path / name, outside) is relevant


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


def _events(response: requests.Response) -> Iterator[dict[str, Any]]:
    """The `build` events of an open stream, each checked to be one well-framed event."""
    lines: list[str] = []
    for line in response.iter_lines(chunk_size=1, decode_unicode=True):
        if line.startswith("data:"):
            event = json.loads(line.removeprefix("data: "))
            fields = [x for x in lines if x and not x.startswith(":")]
            assert fields[-2:] == ["event: build", f"id: {event['id']}"], fields
            lines = []
            yield event
        else:
            assert not line or line.startswith(("event:", "id:", "retry:", ":")), line
            lines.append(line)


def test_event_stream_announces_each_build(served: tuple[str, PreviewState, Path]) -> None:
    base, state, _ = served
    with requests.get(f"{base}{EVENTS_PATH}", stream=True, timeout=5) as r:
        assert r.headers["Content-Type"] == "text/event-stream"
        lines = r.iter_lines(chunk_size=1, decode_unicode=True)
        seen = [next(lines) for _ in range(4)]
        assert seen[:3] == ["retry: 500", "event: build", f"id: {state.boot}-0"]
        first = json.loads(seen[3].removeprefix("data: "))
        assert first == {"id": f"{state.boot}-0", "after": None, "failed": False, "changed": None}
        # The stream took its first event before its headers were sent: any
        # build from now on is an event of its own.
        state.publish(failed=False, diagnostics=[], changed=["stories/a/index.html"])
        rest = []
        for line in lines:
            rest.append(line)
            if line.startswith("data:"):
                break
        assert rest[-3:-1] == ["event: build", f"id: {state.boot}-1"]
        assert json.loads(rest[-1].removeprefix("data: "))["id"] == f"{state.boot}-1"


def test_events_chain_builds_and_say_what_changed(served: tuple[str, PreviewState, Path]) -> None:
    base, state, _ = served
    boot = state.boot
    with requests.get(f"{base}{EVENTS_PATH}", stream=True, timeout=5) as r:
        events = _events(r)
        assert next(events)["changed"] is None  # the first event of a stream

        # What the page can show or load is listed; documents for other programs are not.
        state.publish(
            failed=False,
            diagnostics=[],
            changed=["stories/a/index.html", "ap/stories/a", "feed.xml", "assets/style.css"],
        )
        assert next(events) == {
            "id": f"{boot}-1",
            "after": f"{boot}-0",
            "failed": False,
            "changed": ["assets/style.css", "stories/a/index.html"],
        }

        state.publish(failed=True, diagnostics=[Diagnostic("content/stories/a.md", 2, "x")])
        assert next(events) == {
            "id": f"{boot}-2",
            "after": f"{boot}-1",
            "failed": True,
            "changed": None,  # publish was not told what changed
        }

        many = [f"stories/s{i}/index.html" for i in range(MAX_CHANGED + 1)]
        state.publish(failed=False, diagnostics=[], changed=many)
        assert next(events)["changed"] is None  # too many: assume everything
        state.publish(failed=False, diagnostics=[], changed=many[:MAX_CHANGED])
        event = next(events)
        assert event["after"] == f"{boot}-3"
        assert event["changed"] == sorted(many[:MAX_CHANGED])

        state.publish(failed=False, diagnostics=[], changed=[])
        assert next(events) == {
            "id": f"{boot}-5",
            "after": f"{boot}-4",
            "failed": False,
            "changed": [],
        }

    # A stream opened later starts with the current build, and nothing of what
    # changed: its page may have been served before builds it never heard of.
    with requests.get(f"{base}{EVENTS_PATH}", stream=True, timeout=5) as r:
        assert next(_events(r)) == {
            "id": f"{boot}-5",
            "after": f"{boot}-4",
            "failed": False,
            "changed": None,
        }


def test_a_stream_opened_late_hears_what_changed_since_its_page(
    served: tuple[str, PreviewState, Path],
) -> None:
    """A page that was still loading when a build finished (or whose stream
    dropped) is told everything changed since its build, so it need not reload."""
    base, state, _ = served
    boot = state.boot
    state.publish(failed=False, diagnostics=[], changed=["stories/a/index.html", "feed.xml"])
    state.publish(failed=False, diagnostics=[], changed=[])
    state.publish(failed=False, diagnostics=[], changed=["b/index.html", "stories/a/index.html"])

    def first_event(url: str, **headers: str) -> dict[str, Any]:
        with requests.get(url, stream=True, timeout=5, headers=headers) as r:
            return next(_events(r))

    assert first_event(f"{base}{EVENTS_PATH}?since={boot}-1") == {
        "id": f"{boot}-3",
        "after": f"{boot}-1",
        "failed": False,
        "changed": ["b/index.html", "stories/a/index.html"],
    }
    since_0 = first_event(f"{base}{EVENTS_PATH}?since={boot}-0")
    assert since_0["after"] == f"{boot}-0"
    assert since_0["changed"] == [
        "b/index.html",
        "stories/a/index.html",
    ]  # feed.xml shows in no tab
    # EventSource reconnecting sends the last id it saw; that wins over the URL's.
    reconnected = first_event(
        f"{base}{EVENTS_PATH}?since={boot}-0", **{"Last-Event-ID": f"{boot}-2"}
    )
    assert (reconnected["after"], reconnected["changed"]) == (
        f"{boot}-2",
        ["b/index.html", "stories/a/index.html"],
    )
    current = first_event(f"{base}{EVENTS_PATH}?since={boot}-3")
    assert (current["id"], current["after"], current["changed"]) == (f"{boot}-3", f"{boot}-3", [])

    # Builds the server cannot vouch for: another run's, a future one, nonsense,
    # one whose changes are unknown (a full build), or one too far back.
    for since in ("ffffffff-1", f"{boot}-9", f"{boot}-x", f"{boot}--1", ""):
        event = first_event(f"{base}{EVENTS_PATH}?since={since}")
        assert (event["after"], event["changed"]) == (f"{boot}-2", None), since
    state.publish(failed=False, diagnostics=[])  # a full build: changes unknown
    assert first_event(f"{base}{EVENTS_PATH}?since={boot}-3")["changed"] is None
    for _ in range(HISTORY):
        state.publish(failed=False, diagnostics=[], changed=[])
    assert first_event(f"{base}{EVENTS_PATH}?since={boot}-4")["changed"] == []
    assert first_event(f"{base}{EVENTS_PATH}?since={boot}-3")["changed"] is None  # forgotten


def test_an_event_is_one_data_line_whatever_the_paths() -> None:
    event = build_event("b-2", after="b-1", failed=False, changed=["a\nb/index.html", "é.html"])
    text = event.decode()
    assert text.endswith("\n\n") and text.count("\n") == 4
    name, build, data, _, _ = text.split("\n")
    assert (name, build) == ("event: build", "id: b-2")
    assert json.loads(data.removeprefix("data: "))["changed"] == ["a\nb/index.html", "é.html"]


@pytest.mark.parametrize(
    ("path", "reaches"),
    [
        ("index.html", True),
        ("stories/a/index.html", True),
        ("404.html", True),
        ("assets/style.css", True),
        ("assets/app.js", True),
        ("images/a.png", True),
        ("fonts/a.woff2", True),
        ("downloads/notes.pdf", True),  # unknown to us: assume a page shows it
        ("ap/stories/a", False),
        ("ap/outbox-pages/2", False),
        (".well-known/webfinger", False),
        ("nodeinfo/2.1", False),
        ("feed.xml", False),
        ("feed.json", False),
        ("events.ics", False),
        ("events/a/event.ics", False),
        ("sitemap.xml", False),
        ("robots.txt", False),
        (".nojekyll", False),
        ("_headers", False),
        ("_deploy/nginx.conf", False),
    ],
)
def test_which_changed_files_can_show_in_a_tab(path: str, reaches: bool) -> None:
    assert reaches_pages(path) is reaches


def test_pages_say_whether_they_are_the_error_or_not_found_page(
    served: tuple[str, PreviewState, Path],
) -> None:
    base, state, _ = served
    ok = requests.get(f"{base}/stories/a/", timeout=5).text
    assert f'{{"id": "{state.boot}-0", "error": false, "notFound": false}}' in ok
    missing = requests.get(f"{base}/nope/", timeout=5).text
    assert f'{{"id": "{state.boot}-0", "error": false, "notFound": true}}' in missing
    state.publish(failed=True, diagnostics=[Diagnostic("content/stories/a.md", 2, "broken")])
    failed = requests.get(f"{base}/stories/a/", timeout=5).text
    assert f'{{"id": "{state.boot}-1", "error": true, "notFound": false}}' in failed
