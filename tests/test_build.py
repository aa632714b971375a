"""The build: reproducible, atomic, drafts and future stories, static files, the
output writer, the clock and the CLI."""

from __future__ import annotations

import gc
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsite.build import document_batches, document_reads, parallel
from commsite.build import render as build_render
from commsite.build.clock import build_now
from commsite.build.run import Builder, BuildOptions, build_site
from commsite.cli import main
from commsite.errors import CommsiteError
from golden.regenerate import SITE, golden_now


@contextmanager
def _beside_a_thread() -> Iterator[None]:
    """Another thread waits while the block runs, as serve's server and watcher do."""
    other = threading.Event()
    beside = threading.Thread(target=other.wait)
    beside.start()
    try:
        yield
    finally:
        other.set()
        beside.join()


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def mtimes(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()
    }


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    return root


# The search index is Pagefind's, not rendered: a build's `rendered` leaves it out.
_NOT_RENDERED = re.compile(r"^pagefind/")


def rendered_outputs(output: Path) -> set[str]:
    files = (p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file())
    return {f for f in files if not _NOT_RENDERED.search(f)}


def build(root: Path, **options: object) -> tuple[bool, list[str]]:
    now = options.pop("now", golden_now())
    result = build_site(BuildOptions(root=root, jobs=1, **options), now=now)  # type: ignore[arg-type]
    return result.ok, [d.format() for d in result.diagnostics]


# --- the clock -------------------------------------------------------------------


def test_build_now_reads_source_date_epoch() -> None:
    assert build_now({"SOURCE_DATE_EPOCH": "1790856000"}) == datetime(2026, 10, 1, 12, tzinfo=UTC)
    before = datetime.now(UTC)
    assert before - timedelta(seconds=1) <= build_now({}) <= datetime.now(UTC)


@pytest.mark.parametrize("bad", ["", "soon", "-5", "1.5", "99999999999999999999"])
def test_bad_source_date_epoch_is_a_clear_error(bad: str) -> None:
    with pytest.raises(CommsiteError, match="SOURCE_DATE_EPOCH"):
        build_now({"SOURCE_DATE_EPOCH": bad})


# --- reproducible ------------------------------------------------------------------


def test_two_builds_with_the_same_epoch_are_byte_identical(site: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert build(site, output=a)[0]
    assert build(site, output=b, cache=False)[0]
    assert tree(a) == tree(b)


def test_parallel_rendering_gives_the_same_bytes(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = tmp_path / "one"
    assert build(site, output=one, cache=False)[0]
    # A cold build: pages in forked workers, and the documents too, in batches (an
    # outbox page with the objects it shows); none in a worker of their own.
    monkeypatch.setattr(build_render, "PARALLEL_RENDER_MIN", 1)
    forked: list[object] = []
    monkeypatch.setattr(document_reads, "submit", lambda *a: forked.append(a))
    pids = tmp_path / "pids"  # (written by the workers: their memory is their own)
    made = document_batches.Batch.made

    def spy(self: document_batches.Batch) -> object:
        with pids.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return made(self)

    monkeypatch.setattr(document_batches.Batch, "made", spy)
    two = tmp_path / "two"
    result = build_site(BuildOptions(root=site, output=two, cache=False, jobs=2), now=golden_now())
    assert result.ok
    assert tree(one) == tree(two)
    assert forked == []
    if parallel.can_fork() and parallel.available_cpus() > 1:
        made_in = set(pids.read_text().split())
        assert made_in and str(os.getpid()) not in made_in


def test_documents_made_again_are_made_in_a_worker_of_their_own(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a record (not a cold build), the documents whose reads changed are made
    # while the build fingerprints its pages: in one forked worker when they
    # weigh enough. A new title changes every document.
    output = tmp_path / "out"
    assert build(site, output=output)[0]
    config = site / "commsite.yaml"
    config.write_text(config.read_text().replace("title:", "title: New", 1))
    expected = tmp_path / "expected"
    assert build(site, output=expected, cache=False)[0]
    monkeypatch.setattr(document_reads, "PARALLEL_WEIGHT", 1)
    forked: list[object] = []

    def submit(fn: Callable[..., object], *args: object) -> object:
        background = parallel.submit(fn, *args)
        forked.append(background)
        return background

    monkeypatch.setattr(document_reads, "submit", submit)
    result = build_site(BuildOptions(root=site, output=output, jobs=2), now=golden_now())
    assert result.ok
    assert tree(output) == tree(expected)
    if parallel.can_fork() and parallel.available_cpus() > 1:
        assert len(forked) == 1 and None not in forked  # (the outbox pages: made here)


def test_beside_other_threads_pages_render_in_fork_server_workers(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `commsite serve` builds beside its server threads, where forking is unsafe:
    # a big re-render goes to workers forked from the fork server, the pages
    # pickled to them. The bytes are the same as one process's.
    one = tmp_path / "one"
    assert build(site, output=one, cache=False)[0]
    monkeypatch.setattr(build_render, "PARALLEL_RENDER_MIN_PICKLED", 1)
    pools: list[bool] = []
    pool_map = parallel._pool_map

    def spy(*args: object, fork: bool) -> object:
        pools.append(fork)
        return pool_map(*args, fork=fork)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "_pool_map", spy)
    with _beside_a_thread():
        two = tmp_path / "two"
        options = BuildOptions(root=site, output=two, cache=False, jobs=2)
        assert build_site(options, now=golden_now()).ok
    assert tree(one) == tree(two)
    assert pools == [False]  # (one pool, of the fork server's workers: the render)


# --- atomic --------------------------------------------------------------------------


def test_a_failed_build_leaves_the_previous_output_untouched(site: Path) -> None:
    assert build(site)[0]
    output = site / "public"
    before, before_mtimes = tree(output), mtimes(output)

    story = site / "content" / "stories" / "2025-09-06-welcome.md"
    story.write_text(story.read_text().replace("date: 2025-09-06", "date: tomorrow"))
    (site / "content" / "stories" / "2026-10-01-new.md").write_text(
        "---\ntitle: New\ndate: 2026-09-01\n---\nNew story.\n"
    )
    ok, diagnostics = build(site)
    assert not ok
    assert any(d.startswith("content/stories/2025-09-06-welcome.md:3: error:") for d in diagnostics)
    assert tree(output) == before
    assert mtimes(output) == before_mtimes
    assert not [p for p in site.iterdir() if ".staging" in p.name]


def test_a_template_error_fails_the_build_and_writes_nothing(site: Path) -> None:
    assert build(site)[0]
    before = tree(site / "public")
    (site / "theme" / "templates").mkdir(parents=True)
    (site / "theme" / "templates" / "story.html").write_text("{{ no_such_variable.x }}\n")
    ok, diagnostics = build(site)
    assert not ok
    assert any("theme/templates/story.html" in d for d in diagnostics), diagnostics
    assert tree(site / "public") == before


@pytest.mark.parametrize(
    "template, line, message",
    [
        ("{% extends 'base.html' %}\n\n{% block main %}{% if %}{% endblock %}\n", 3, "Expected"),
        ("<p>\n{{ no_such_variable.x }}\n</p>\n", 2, "'no_such_variable' is undefined"),
    ],
)
def test_a_template_error_is_a_diagnostic_at_its_file_and_line(
    site: Path, template: str, line: int, message: str
) -> None:
    # The renderer raises it as a Diagnostic (SiteError), reported as it is: the
    # theme's file relative to the site, its line, Jinja's message.
    (site / "theme" / "templates").mkdir(parents=True)
    (site / "theme" / "templates" / "story.html").write_text(template)
    result = build_site(BuildOptions(root=site, jobs=1), now=golden_now())
    assert not result.ok
    found = [d for d in result.diagnostics if d.path == "theme/templates/story.html"]
    assert found and found[0].line == line and message in found[0].message, result.diagnostics


def test_strict_turns_warnings_into_errors(site: Path) -> None:
    (site / "content" / "stories" / "notes.txt").write_text("not content")
    ok, diagnostics = build(site)
    assert ok and any(": warning: " in d for d in diagnostics)
    ok, diagnostics = build(site, strict=True)
    assert not ok and all(": error: " in d for d in diagnostics)


def test_unchanged_files_are_not_rewritten(site: Path) -> None:
    assert build(site)[0]
    output = site / "public"
    before = mtimes(output)
    result = build_site(BuildOptions(root=site, jobs=1), now=golden_now())
    assert result.ok and result.written == () and result.rendered == ()
    assert mtimes(output) == before
    # Without the cache (no record), every page is rendered but still nothing is written.
    result = build_site(BuildOptions(root=site, jobs=1, cache=False), now=golden_now())
    assert result.ok and result.written == () and set(result.rendered) == rendered_outputs(output)
    assert mtimes(output) == before


def test_a_deleted_output_file_is_restored(site: Path) -> None:
    assert build(site)[0]
    page = site / "public" / "members" / "ada" / "index.html"
    expected = page.read_bytes()
    page.unlink()
    (site / "public" / "rules" / "index.html").write_text("tampered")
    result = build_site(BuildOptions(root=site, jobs=1), now=golden_now())
    assert set(result.written) == {"members/ada/index.html", "rules/index.html"}
    assert page.read_bytes() == expected


def test_refuses_to_replace_a_folder_that_is_not_a_site(site: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "documents"
    elsewhere.mkdir()
    (elsewhere / "thesis.txt").write_text("precious")
    ok, diagnostics = False, []
    with pytest.raises(CommsiteError, match="refusing to overwrite"):
        build(site, output=elsewhere, cache=False)
    assert (elsewhere / "thesis.txt").read_text() == "precious"
    del ok, diagnostics


# --- what is built -------------------------------------------------------------------


def test_drafts_and_future_stories_only_with_flags(site: Path, tmp_path: Path) -> None:
    plain, drafts, future = tmp_path / "plain", tmp_path / "drafts", tmp_path / "future"
    assert build(site, output=plain)[0]
    assert build(site, output=drafts, drafts=True)[0]
    assert build(site, output=future, future=True)[0]
    assert not (plain / "stories" / "draft-plans").exists()
    assert not (plain / "stories" / "new-year").exists()
    assert (drafts / "stories" / "draft-plans" / "index.html").is_file()
    assert not (drafts / "stories" / "new-year").exists()
    assert (future / "stories" / "new-year" / "index.html").is_file()
    assert not (future / "stories" / "draft-plans").exists()
    # The future story is due once the build time passes its date.
    later = datetime(2027, 1, 2, tzinfo=UTC)
    assert build(site, output=plain, now=later)[0]
    assert (plain / "stories" / "new-year" / "index.html").is_file()


def test_static_files_are_copied_byte_for_byte(site: Path) -> None:
    blob = bytes(range(256)) * 40
    (site / "static" / "files").mkdir()
    (site / "static" / "files" / "data.bin").write_bytes(blob)
    (site / "static" / "CNAME").write_text("golden.example\n")
    assert build(site)[0]
    output = site / "public"
    assert (output / "files" / "data.bin").read_bytes() == blob
    assert (output / "CNAME").read_text() == "golden.example\n"
    for path in (site / "static").rglob("*"):
        if path.is_file():
            rel = path.relative_to(site / "static")
            assert (output / rel).read_bytes() == path.read_bytes()


def test_a_static_file_where_the_build_writes_is_a_warning_and_the_build_wins(
    site: Path,
) -> None:
    static = site / "static"
    for rel in ("feed.xml", "about/index.html", "ap/stories/welcome", "ap/outbox-pages/1"):
        (static / rel).parent.mkdir(parents=True, exist_ok=True)
        (static / rel).write_text("from static/\n")
    ok, diagnostics = build(site)
    assert ok
    hidden = sorted(d for d in diagnostics if "both produce" in d)
    assert hidden == [
        "static/about/index.html: warning: a page and static/about/index.html both produce "
        "'about/index.html'; a page wins; rename static/about/index.html",
        "static/ap/outbox-pages/1: warning: a generated document and static/ap/outbox-pages/1 "
        "both produce 'ap/outbox-pages/1'; a generated document wins; "
        "rename static/ap/outbox-pages/1",
        "static/ap/stories/welcome: warning: a generated document and static/ap/stories/welcome "
        "both produce 'ap/stories/welcome'; a generated document wins; "
        "rename static/ap/stories/welcome",
        "static/feed.xml: warning: a generated document and static/feed.xml both produce "
        "'feed.xml'; a generated document wins; rename static/feed.xml",
    ]
    for rel in ("feed.xml", "about/index.html", "ap/stories/welcome", "ap/outbox-pages/1"):
        assert (site / "public" / rel).read_text() != "from static/\n"


def test_the_last_build_record_names_what_was_rendered(site: Path) -> None:
    import json

    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        first = builder.build(now=golden_now())
        assert first.ok and set(first.rendered) == rendered_outputs(site / "public")
        member = site / "content" / "members" / "gus.md"
        member.write_text(member.read_text().replace("Gus fixes bicycles.", "Gus fixes bikes."))
        second = builder.build([member], now=golden_now())
    assert second.ok
    assert "members/gus/index.html" in second.rendered
    assert "stories/welcome/index.html" not in second.rendered
    record = json.loads((site / ".commsite" / "build-cache" / "last-build.json").read_text())
    assert record["ok"] is True
    assert record["rendered"] == list(second.rendered)
    assert record["written"] == list(second.written)
    # The build's steps, in order, each timed (build/pipeline.py's full_build).
    steps = ["scanning", "scanning", "parsing", "assembling", "planning", "rendering", "writing"]
    assert [name for name, _ in second.steps] == steps
    assert [name for name, _ in record["steps"]] == steps
    assert all(seconds >= 0 for _, seconds in record["steps"])
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        unchanged = builder.build(now=golden_now())
    assert [name for name, _ in unchanged.steps] == ["scanning"]  # (the no-change check)


def test_the_collector_is_off_only_where_the_build_is_alone(site: Path) -> None:
    # The CLI's build is the process's one thread: the cycle collector waits until
    # it is over. Beside other threads (serve's), it is never turned off.
    seen: list[bool] = []
    thresholds: list[tuple[int, ...]] = []

    def progress(stage: str, done: int, total: int) -> None:
        seen.append(gc.isenabled())
        thresholds.append(gc.get_threshold())

    assert gc.isenabled()
    original = gc.get_threshold()
    assert build_site(BuildOptions(root=site, jobs=1), now=golden_now(), progress=progress).ok
    assert seen and not any(seen) and gc.isenabled()
    seen.clear()
    with _beside_a_thread():
        (site / "content" / "pages" / "extra.md").write_text("---\ntitle: Extra\n---\nMore.\n")
        result = build_site(BuildOptions(root=site, jobs=2), now=golden_now(), progress=progress)
    assert result.ok and seen and all(seen) and gc.isenabled()
    # It collects the youngest objects less often while the build runs, and only then.
    from commsite.build.run import YOUNG_BESIDE_THREADS

    assert set(thresholds[-len(seen) :]) == {(YOUNG_BESIDE_THREADS, *original[1:])}
    assert gc.get_threshold() == original


@pytest.mark.parametrize("made, cap, unfreezes", [(400, 64, [3]), (0, 2, [2, 5])])
def test_beside_threads_a_builder_counts_what_it_froze_once_and_adds_what_each_build_made(
    site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    made: int,
    cap: int,
    unfreezes: list[int],
) -> None:
    """Serve's builder freezes what it keeps after each build and gives it back
    when it has doubled. Counting the frozen objects walks them all (35-100 ms
    at 10,000 stories): it counts them at its first build (1,000 here), then
    adds the objects each build made (`made` here); after `cap` builds it gives
    them back whatever the sum. The numbers are by the builds done before."""
    from commsite.build import run

    counted: list[int] = []
    unfrozen: list[int] = []
    done: list[bool] = []
    monkeypatch.setattr(run, "UNFREEZE_AFTER", cap)

    def count() -> int:
        counted.append(len(done))
        return 1000

    monkeypatch.setattr(gc, "get_freeze_count", count)
    monkeypatch.setattr(gc, "get_count", lambda: (made, 0, 0))
    monkeypatch.setattr(gc, "unfreeze", lambda: unfrozen.append(len(done)))
    page = site / "content" / "pages" / "extra.md"
    options = BuildOptions(root=site, output=tmp_path / "out", jobs=1)
    with _beside_a_thread(), Builder(options) as builder:
        for n in range(6):  # (each after an edit)
            page.write_text(f"---\ntitle: Extra\n---\nSaved {n}.\n", encoding="utf-8")
            done.append(builder.build(now=golden_now()).ok)
    assert all(done)
    # 400 + 400 + 400 > 1,000 at the fourth build (3 before it); after giving them
    # back, the next build counts them afresh.
    assert unfrozen == unfreezes
    assert counted == [0, unfreezes[0] + 1]


# --- the command line ---------------------------------------------------------------


def test_cli_build_prints_a_summary(site: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["build", str(site)], env={"SOURCE_DATE_EPOCH": "1790856000"})
    assert result.exit_code == 0, result.output
    count = sum(1 for p in (site / "public").rglob("*") if p.is_file())
    assert f"Built {count} files ({count} written) in " in result.output
    assert "→ " in result.output and "public/" in result.output
    again = runner.invoke(main, ["build", str(site)], env={"SOURCE_DATE_EPOCH": "1790856000"})
    assert f"Built {count} files (0 written) in " in again.output


def test_cli_build_reports_errors_and_exits_1(site: Path) -> None:
    (site / "content" / "members" / "gus.md").write_text("---\nname: Gus\njoined: soon\n---\n")
    result = CliRunner().invoke(main, ["build", str(site)])
    assert result.exit_code == 1
    assert "content/members/gus.md:3: error: " in result.output
    assert "1 error, 0 warnings" in result.output
    assert not (site / "public").exists()


def test_cli_build_rejects_a_bad_source_date_epoch(site: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(site)], env={"SOURCE_DATE_EPOCH": "tomorrow"})
    assert result.exit_code == 1
    assert "SOURCE_DATE_EPOCH must be a whole number of seconds" in result.output


def test_cli_check_writes_nothing(site: Path) -> None:
    before = sorted(p.relative_to(site).as_posix() for p in site.rglob("*"))
    result = CliRunner().invoke(main, ["check", str(site)])
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*")) == before

    (site / "content" / "stories" / "2025-09-06-welcome.md").write_text("no front matter\n")
    result = CliRunner().invoke(main, ["check", str(site)])
    assert result.exit_code == 1
    assert "content/stories/2025-09-06-welcome.md:1: error: " in result.output


def test_cli_check_strict(site: Path) -> None:
    (site / "content" / "stories" / "notes.txt").write_text("not content")
    assert CliRunner().invoke(main, ["check", str(site)]).exit_code == 0
    result = CliRunner().invoke(main, ["check", str(site), "--strict"])
    assert result.exit_code == 1
    assert "content/stories/notes.txt: error: " in result.output


def test_cli_help_has_examples() -> None:
    for command in ("build", "check"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert "Examples:" in result.output


def test_output_option(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "www"
    result = CliRunner().invoke(main, ["build", str(site), "-o", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file()
    assert not (site / "public").exists()
    assert not (site / ".commsite").exists()
    assert os.path.basename(str(out)) in result.output


def test_staging_left_by_a_killed_build_is_removed(site: Path) -> None:
    dead = site / ".public.staging-999999999"
    (dead / "stories").mkdir(parents=True)
    (dead / "stories" / "half.html").write_text("half a build")
    assert build(site)[0]
    assert not dead.exists()
    assert not [p for p in site.iterdir() if ".staging" in p.name]


def test_memoised_context_digests_equal_plain_ones() -> None:
    from commsite.build.fingerprint import ReprMemo, context_digest
    from commsite.content.loader import load_site
    from commsite.render.pages import plan_pages

    site, _ = load_site(SITE, now=golden_now())
    assert site is not None
    specs = plan_pages(site, event_calendars=True)
    memo = ReprMemo()
    assert [context_digest(s.context, memo) for s in specs] == [
        context_digest(s.context) for s in specs
    ]


def test_comma_separated_tags_get_a_page_each(site: Path) -> None:
    """`tags: recap, bouldering` (Hugo/Jekyll style) was one tag "#recap, bouldering";
    it is two tags, each with its page, and a warning shows the list form."""
    story = site / "content" / "stories" / "2026-05-02-bouldering-night.md"
    story.write_text(
        "---\ntitle: Bouldering night\ndate: 2026-05-02\ntags: zz-recap, zz-bouldering\n---\n"
        "Text.\n",
        encoding="utf-8",
    )
    ok, diagnostics = build(site)
    assert ok
    assert (
        "content/stories/2026-05-02-bouldering-night.md:4: warning: 'tags' is one text with"
        ' commas ("zz-recap, zz-bouldering"); read as 2 items; write it as a list:'
        " tags: [zz-recap, zz-bouldering]"
    ) in diagnostics
    for tag in ("zz-recap", "zz-bouldering"):
        page = (site / "public" / "tags" / tag / "index.html").read_text(encoding="utf-8")
        assert "Bouldering night" in page
    assert not list((site / "public" / "tags").glob("zz-recap-*"))
