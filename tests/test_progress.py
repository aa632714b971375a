"""Progress of long steps: a terminal line, timed lines in a log, nothing when quiet.

The reporter is driven by a clock the tests set; the end-to-end tests run the
real `commsite build` and `commsite check --external` with stderr a pipe (as on
CI) and a short interval from COMMSITE_PROGRESS_INTERVAL.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from commsite.build.parallel import can_fork
from commsite.links.check import ExternalLink
from commsite.links.external import STAGE, check_external
from commsite.progress import DEFAULT_INTERVAL, INTERVAL_ENV, ProgressReporter, interval_from

ROOT = Path(__file__).parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_every_interval_with_counts_and_elapsed_time() -> None:
    clock, out = Clock(), io.StringIO()
    progress = ProgressReporter(out, "lines", interval=5, clock=clock, timer=False)
    progress("parsing", 0, 6000)
    clock.now += 4.9
    progress("parsing", 3000, 6000)
    assert out.getvalue() == ""  # not yet five seconds
    clock.now += 0.2
    progress("parsing", 3100, 6000)
    clock.now += 1
    progress("parsing", 6000, 6000)  # within the next five seconds: no line
    progress("assembling", 0, 0)
    clock.now += 5
    progress("rendering", 1234, 6000)
    clock.now += 50
    progress("rendering", 6000, 6000)
    clock.now += 2
    progress.unit("search index", "words")
    progress("search index", 40, 0)
    progress.finish()
    assert out.getvalue().splitlines() == [
        "parsing 3,100/6,000 files (51%), 5.1 s elapsed",
        "rendering 1,234/6,000 pages (20%), 11.1 s elapsed",
        "rendering 6,000/6,000 pages (100%), 61.1 s elapsed",
        # (a step lasts until the next one starts)
        "Took 63.1 s: parsing 6,000 files 6.1 s, assembling 5.0 s,"
        " rendering 6,000 pages 52.0 s, search index 40 words 0.0 s",
    ]
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_a_step_without_a_total_shows_its_count_and_a_short_run_prints_nothing() -> None:
    clock, out = Clock(), io.StringIO()
    progress = ProgressReporter(out, "lines", interval=5, clock=clock, timer=False)
    progress("checking links", 3, 10)
    progress.finish()
    assert out.getvalue() == ""  # quicker than the interval: the log stays as it was
    clock.now += 6
    progress("image variants", 17, 0)
    clock.now += 6
    progress("something new", 0, 0)
    assert out.getvalue().splitlines() == [
        "image variants 17 images, 6.0 s elapsed",
        "something new, 12.0 s elapsed",
    ]


class Watched(io.StringIO):
    """A log that says when a line is written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def write(self, text: str) -> int:
        n = super().write(text)
        self.written.set()
        return n


def test_a_step_that_reports_nothing_for_a_while_still_gets_its_line() -> None:
    out = Watched()
    threads = set(threading.enumerate())
    progress = ProgressReporter(out, "lines", interval=0.05)
    try:
        progress("assembling", 0, 0)  # and then nothing, as a long step without counts
        # The timer is no thread: a build that is the one thread still forks its workers.
        assert set(threading.enumerate()) == threads
        if len(threads) == 1:
            assert can_fork()
        # Busy in Python, as a step is: the timer's signal prints between two bytecodes.
        deadline = time.monotonic() + 10
        while not out.written.is_set() and time.monotonic() < deadline:
            sum(range(1000))
        assert out.written.is_set(), "no line from the timer"
    finally:
        progress.finish()  # (whatever failed above: a timer left running kills pytest)
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"assembling, \d+\.\d s elapsed", lines[0]), lines
    assert lines[-1].startswith("Took ") and "assembling" in lines[-1]
    # finish() put things back: no timer, the default handler; and the reporter
    # started no thread (the build forks its workers only when it is the one thread).
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert "progress" not in {t.name for t in threading.enumerate()}


def test_the_timer_leaves_someone_elses_alarm_alone() -> None:
    previous = signal.signal(signal.SIGALRM, lambda *_: None)
    try:
        progress = ProgressReporter(io.StringIO(), "lines", interval=0.05)
        try:
            progress("rendering", 0, 10)
            assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        finally:
            progress.finish()
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_a_terminal_gets_one_line_rewritten_in_place_then_cleared() -> None:
    clock, out = Clock(), Terminal()
    progress = ProgressReporter.for_stream(out, environ={}, clock=clock)
    progress("rendering", 10, 100)
    assert out.getvalue() == ""  # the first half second shows nothing
    clock.now += 0.6
    progress("rendering", 50, 100)
    clock.now += 0.05
    progress("rendering", 60, 100)  # rewritten at most ten times a second
    clock.now += 0.1
    progress("rendering", 70, 100)
    progress.finish()
    assert out.getvalue() == (
        "\r\x1b[Krendering 50/100 pages (50%)\r\x1b[Krendering 70/100 pages (70%)\r\x1b[K"
    )


def test_quiet_and_a_closed_stream_show_nothing_and_never_fail() -> None:
    out = io.StringIO()
    quiet = ProgressReporter.for_stream(out, quiet=True, environ={INTERVAL_ENV: "0.001"})
    for n in range(1000):
        quiet("rendering", n, 1000)
    quiet.finish()
    assert out.getvalue() == ""
    closed = io.StringIO()
    progress = ProgressReporter(closed, "lines", interval=0.000001)
    closed.close()
    progress("rendering", 1, 2)  # ValueError from the closed stream: swallowed, then off
    progress.finish()
    assert progress.mode == "off"


def test_the_interval_comes_from_the_environment() -> None:
    assert interval_from({}) == DEFAULT_INTERVAL == 5.0
    assert interval_from({INTERVAL_ENV: "0.25"}) == 0.25
    for wrong in ("", "soon", "0", "-3", "nan", "inf"):
        assert interval_from({INTERVAL_ENV: wrong}) == DEFAULT_INTERVAL, wrong
    assert ProgressReporter.for_stream(io.StringIO(), environ={INTERVAL_ENV: "2"}).interval == 2
    assert ProgressReporter.for_stream(io.StringIO(), environ={}).mode == "lines"
    assert ProgressReporter.for_stream(Terminal(), environ={"TERM": "dumb"}).mode == "lines"


# --- the real commands, stderr a pipe ------------------------------------------------


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "benchmarks" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_build", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """benchmarks/build.py's synthetic site, small: 120 stories, 12 members, 6 events."""
    root = tmp_path_factory.mktemp("progress") / "site"
    _bench().generate_site(root, 120)
    return root


def _commsite(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commsite", *args],
        env={**os.environ, **env},
        capture_output=True,  # stderr a pipe, as on CI
        text=True,
        check=False,
        timeout=300,
    )


LINE = re.compile(
    r"^(scanning|parsing|assembling|images|planning|rendering|writing)"
    r"( [\d,]+(/[\d,]+)? (files|pages) \(\d+%\))?, \d+\.\d s elapsed$"
)


def test_a_build_piped_to_a_log_prints_progress_lines_then_a_summary(generated: Path) -> None:
    # An interval shorter than any step: every call after the first prints.
    result = _commsite(["build", str(generated), "--jobs", "1"], **{INTERVAL_ENV: "0.000001"})
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    # (the search index's one line comes after the steps' summary: build/search.py)
    indexed = [line for line in lines if line.startswith("Indexed ")]
    assert len(indexed) == 1 and re.fullmatch(r"Indexed [\d,]+ pages for search in .*", indexed[0])
    lines = [line for line in lines if line not in indexed]
    progress, took, built = lines[:-2], lines[-2], lines[-1]
    assert progress and all(LINE.match(line) for line in progress), lines
    stages = [line.split()[0] for line in progress]
    assert stages.index("parsing") < stages.index("rendering") < stages.index("writing")
    rendered = [line for line in progress if line.startswith("rendering")]
    assert re.match(r"rendering ([\d,]+)/\1 pages \(100%\)", rendered[-1])
    assert re.fullmatch(
        r"Took \d+\.\d s: scanning \d+\.\d s, parsing [\d,]+ files \d+\.\d s, .*rendering .*", took
    )
    assert built.startswith("Built ") and "\r" not in result.stderr
    # --quiet: nothing at all for a site without problems.
    (generated / "content" / "stories" / "extra.md").write_text(
        "---\ntitle: One more\ndate: 2026-01-02\n---\nNew.\n", encoding="utf-8"
    )
    quiet = _commsite(["build", str(generated), "-q"], **{INTERVAL_ENV: "0.000001"})
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""
    checked = _commsite(["check", str(generated), "--quiet"], **{INTERVAL_ENV: "0.000001"})
    assert checked.returncode == 0 and checked.stderr == ""


def test_check_piped_to_a_log_counts_the_files_it_parses(generated: Path) -> None:
    result = _commsite(["check", str(generated)], **{INTERVAL_ENV: "0.000001"})
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert re.fullmatch(r"parsing [\d,]+ files, \d+\.\d s elapsed", lines[0]), lines
    assert lines[-2].startswith("Took ") and lines[-1] == "No problems found."


@pytest.fixture
def answering() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self.send_response(200 if self.path.startswith("/ok") else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_outside_links_report_each_answer_as_it_comes(answering: str) -> None:
    seen: list[tuple[str, int, int]] = []
    lock = threading.Lock()

    def progress(stage: str, done: int, total: int) -> None:
        with lock:
            seen.append((stage, done, total))

    links = [
        ExternalLink(f"{answering}/{'ok' if n % 3 else 'gone'}/{n}", "content/x.md", n)
        for n in range(12)
    ]
    report = check_external([*links, links[0]], None, timeout=2, progress=progress)
    assert len(report.broken) == 5  # links[0] twice, as two places link to it
    assert seen[0] == (STAGE, 0, 12) and seen[-1] == (STAGE, 12, 12)
    assert [done for _, done, _ in seen] == list(range(13))
