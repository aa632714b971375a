"""The search index the build makes with Pagefind (commsite.build.search).

Real builds of the example site and the real Pagefind program; the bundle is
read back as Pagefind's script reads it (gzip streams of JSON fragments), so
each test sees what a visitor's search would find.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commsite.build.run import Builder, BuildOptions, BuildResult, build_site
from commsite.build.search import SEARCH_SOURCES
from commsite.search.tool import BINARY_ENV, pagefind_binary
from commsite.site_files import content_type
from needs import require

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
STORY = "content/stories/2025-10-04-how-we-run-a-repair-cafe.md"
STORY_URL = "/stories/how-we-run-a-repair-cafe/"


@pytest.fixture(autouse=True)
def _pagefind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BINARY_ENV, raising=False)
    require(pagefind_binary() is not None, "Pagefind is not installed (pip install pagefind-bin)")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("public", ".commsite"))
    return dest


def build(site: Path, **options: object) -> BuildResult:
    result = build_site(BuildOptions(root=site, jobs=1, **options), now=NOW)  # type: ignore[arg-type]
    assert result.ok, [d.format() for d in result.diagnostics]
    return result


def fragments(public: Path) -> dict[str, dict[str, object]]:
    """Every indexed page, by URL: what Pagefind's script shows for it."""
    found = {}
    for path in (public / "pagefind" / "fragment").iterdir():
        data = gzip.decompress(path.read_bytes()).removeprefix(b"pagefind_dcd")
        fragment = json.loads(data)
        found[fragment["url"]] = fragment
    return found


def bundle(public: Path) -> dict[str, bytes]:
    root = public / "pagefind"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def set_config(site: Path, line: str) -> None:
    config = site / "commsite.yaml"
    config.write_text(config.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_stories_events_and_members_are_indexed_with_their_filters(site: Path) -> None:
    result = build(site)
    public = site / "public"
    found = fragments(public)
    kinds = {url: f["filters"]["kind"] for url, f in found.items()}  # type: ignore[index]
    stories = {u for u in found if u.startswith("/stories/")}
    assert {u.split("/")[1] for u in found} == {"stories", "events", "members"}
    # Each of them a page about one item: no lists, tags, page 2s or the search page.
    assert all(u.count("/") == 3 for u in found), sorted(found)
    assert all(kinds[u] == ["Story"] for u in stories)
    assert all(kinds[u] == ["Event"] for u in found if u.startswith("/events/"))
    assert all(kinds[u] == ["Member"] for u in found if u.startswith("/members/"))
    # Published stories only: no draft, nothing dated in the future.
    assert "/stories/volunteer-rota-for-december/" not in found
    assert "/stories/five-years-of-fixing/" not in found
    story = found[STORY_URL]
    assert story["meta"]["title"] == "How we run a repair café (and how you could too)"  # type: ignore[index]
    assert story["meta"]["date"] == "4 October 2025"  # type: ignore[index]
    assert story["filters"]["tag"] == ["how-to", "organising"]  # type: ignore[index]
    assert "behind the scenes" in story["content"]  # type: ignore[operator]
    # The prev/next links and the site's header are not the story's words.
    assert "Skip to content" not in story["content"]  # type: ignore[operator]
    members = [f for u, f in found.items() if u.startswith("/members/")]
    assert any(f["filters"].get("interest") for f in members)  # type: ignore[attr-defined]
    assert result.indexed is not None and result.indexed[0] == len(found)
    # The search page and its link in every page's navigation.
    search_page = (public / "search" / "index.html").read_text(encoding="utf-8")
    assert 'data-bundle="/pagefind/"' in search_page
    assert '<a href="/search/"' in (public / "index.html").read_text(encoding="utf-8")


def test_story_text_cannot_fake_a_kind_a_title_or_a_filter(site: Path) -> None:
    """An author's raw HTML (or a reply's) must not make a story look like an
    event in the results, or give it another title."""
    story = site / STORY
    story.write_text(
        story.read_text(encoding="utf-8")
        + '\n<span data-pagefind-filter="kind">Event</span>'
        + '<span data-pagefind-meta="title:Free money">x</span>'
        + '<p data-pagefind-ignore="all" data-pagefind-filter="tag:spam">hidden</p>\n',
        encoding="utf-8",
    )
    build(site)
    fragment = fragments(site / "public")[STORY_URL]
    assert fragment["filters"] == {"kind": ["Story"], "tag": ["how-to", "organising"]}
    assert fragment["meta"]["title"] == "How we run a repair café (and how you could too)"  # type: ignore[index]


def test_an_unchanged_site_is_not_indexed_again(site: Path) -> None:
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        first = builder.build(now=NOW)
        assert first.indexed is not None
        second = builder.build(now=NOW, full=True)  # (through the whole pipeline)
    assert second.ok and second.indexed is None
    assert second.written == () and second.removed == ()
    third = build(site)  # a new process's build: the no-change check
    assert third.indexed is None and third.written == ()


def test_a_story_edit_indexes_again_and_the_old_words_go(site: Path) -> None:
    build(site)
    public = site / "public"
    before = bundle(public)
    story = site / STORY
    story.write_text(
        story.read_text(encoding="utf-8").replace("behind the scenes", "behind the curtain"),
        encoding="utf-8",
    )
    result = build(site)
    assert result.indexed is not None
    content = fragments(public)[STORY_URL]["content"]
    assert "behind the curtain" in content and "scenes" not in content  # type: ignore[operator]
    after = bundle(public)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    # One page changed: its fragment, the word index and the metadata; not the
    # other pages' fragments, nor Pagefind's scripts.
    assert sum(p.startswith("fragment/") for p in after.keys() - before.keys()) == 1
    assert not any(p.endswith(".js") for p in changed), changed
    assert {p for p in result.removed if p.startswith("pagefind/")} == {
        "pagefind/" + p for p in before.keys() - after.keys()
    }


def test_a_page_that_is_not_searched_does_not_index_again(site: Path) -> None:
    build(site)
    rules = site / "content" / "rules.md"
    rules.write_text(rules.read_text(encoding="utf-8") + "\nBe kind to the kettles.\n")
    result = build(site)
    assert "rules/index.html" in result.written
    assert result.indexed is None


def test_two_clean_builds_make_the_same_bundle(site: Path, tmp_path: Path) -> None:
    """Pagefind writes its filters in a varying order; the build sorts them, so
    the same pages give the same bytes (reproducible builds, quiet deploys)."""
    build(site, output=tmp_path / "a", cache=False)
    build(site, output=tmp_path / "b", cache=False)
    a, b = bundle(tmp_path / "a"), bundle(tmp_path / "b")
    assert a == b
    assert len([p for p in a if p.startswith("filter/")]) == 3  # kind, tag, interest


def test_search_false_builds_no_index_page_or_link_and_removes_the_old(site: Path) -> None:
    build(site)
    assert (site / "public" / "pagefind").is_dir()
    set_config(site, "search: false")
    result = build(site)
    public = site / "public"
    assert result.indexed is None
    assert not (public / "pagefind").exists()
    assert not (public / "search").exists()
    assert "/search/" not in (public / "index.html").read_text(encoding="utf-8")
    assert any(p.startswith("pagefind/") for p in result.removed)


def test_search_must_be_true_or_false(site: Path) -> None:
    set_config(site, "search: maybe")
    result = build_site(BuildOptions(root=site, jobs=1), now=NOW)
    assert not result.ok
    assert any("'search'" in d.message for d in result.diagnostics), result.diagnostics


def test_without_pagefind_the_build_warns_and_strict_fails(
    site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build(site)
    public = site / "public"
    before = bundle(public)
    monkeypatch.setenv(BINARY_ENV, str(tmp_path / "no-such-pagefind"))
    strict = build_site(BuildOptions(root=site, jobs=1, strict=True), now=NOW)
    assert not strict.ok
    assert bundle(public) == before  # the previous output is untouched
    result = build(site)
    [warning] = [d for d in result.diagnostics if "Pagefind" in d.message]
    assert warning.format() == (
        "commsite.yaml: warning: search is on but the Pagefind program is not at "
        f"{tmp_path / 'no-such-pagefind'}; the site is built without its search index; "
        "install it with `pip install pagefind-bin` (commsite's install brings it;"
        f" or name the program in {BINARY_ENV}), or set `search: false` in commsite.yaml"
    )
    assert not (public / "pagefind").exists()
    assert (public / "search" / "index.html").is_file()  # (it says search is unavailable)


def test_a_failing_pagefind_is_a_warning_with_its_message(
    site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "pagefind"
    fake.write_text("#!/bin/sh\necho 'Error: out of cheese' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(BINARY_ENV, str(fake))
    result = build(site)
    [warning] = [d for d in result.diagnostics if "Pagefind" in d.message]
    assert warning.message == (
        "the search index could not be made: Pagefind failed (Error: out of cheese);"
        " the site is built without it"
    )
    assert not (site / "public" / "pagefind").exists()
    assert not list((site / ".public.commsite").glob("search-*"))  # no scratch left


def test_a_new_pagefind_indexes_again(
    site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Installing or upgrading Pagefind makes the index again, even when no
    content changed (it is part of the no-change check)."""
    real = pagefind_binary()
    assert real is not None
    build(site)
    copy = tmp_path / "pagefind"
    shutil.copy2(real, copy)
    os.utime(copy, ns=(0, 0))
    monkeypatch.setenv(BINARY_ENV, str(copy))
    result = build(site)
    assert result.indexed is not None


def test_the_bundle_is_served_with_types_a_browser_accepts(site: Path) -> None:
    build(site)
    public = site / "public"
    files = {p.relative_to(public).as_posix(): p for p in (public / "pagefind").rglob("*")}
    types = {rel: content_type(public, path) for rel, path in files.items() if path.is_file()}
    assert types["pagefind/pagefind.js"] == "application/javascript; charset=utf-8" or types[
        "pagefind/pagefind.js"
    ].startswith("text/javascript")
    assert types["pagefind/pagefind-ui.css"] == "text/css; charset=utf-8"
    binary = {rel: t for rel, t in types.items() if not rel.endswith((".js", ".css", ".json"))}
    assert binary and set(binary.values()) == {"application/octet-stream"}, binary


def test_the_record_lists_the_bundle_as_search_outputs(site: Path) -> None:
    from commsite.build.cache import BuildCache

    build(site)
    cache = BuildCache.open(site / ".commsite" / "build-cache", site / "public")
    try:
        record = cache.get_record()
    finally:
        cache.close()
    assert record is not None
    recorded = {p for p, e in record.items() if e.sources == SEARCH_SOURCES}
    on_disk = {"pagefind/" + p for p in bundle(site / "public")}
    assert recorded == on_disk


def test_the_preview_keeps_its_index_while_editing_and_a_fresh_one_makes_it(
    site: Path, tmp_path: Path
) -> None:
    """`commsite serve` shows an edit at once: its builder does not wait for
    Pagefind on every save (seconds at a few thousand pages); its first build,
    and every `commsite build`, index the pages as they are."""
    preview = tmp_path / "preview"
    options = BuildOptions(root=site, output=preview, jobs=1, owned_output=True)
    story = site / STORY
    with Builder(options) as builder:
        assert builder.build(now=NOW).indexed is not None
        before = bundle(preview)
        story.write_text(story.read_text(encoding="utf-8") + "\nKettles galore.\n")
        edited = builder.build(now=NOW)
        assert edited.ok and edited.indexed is None
        assert "stories/how-we-run-a-repair-cafe/index.html" in edited.written
        assert bundle(preview) == before
    with Builder(options) as fresh:
        assert fresh.build(now=NOW).indexed is not None
    assert "Kettles galore" in fragments(preview)[STORY_URL]["content"]  # type: ignore[operator]


def test_a_restart_whose_first_build_fails_indexes_at_its_first_success(
    site: Path, tmp_path: Path
) -> None:
    """What the differential test's seeds 7, 16, 31, 103 and 105 found: serve
    keeps an old index while editing; a restart whose first build fails leaves
    the preview as it was (that old index too), and its first build that
    succeeds indexes the pages as they are. `commsite build` never keeps one."""
    preview = tmp_path / "preview"
    options = BuildOptions(root=site, output=preview, jobs=1, owned_output=True)
    story = site / STORY
    text = story.read_text(encoding="utf-8")
    build(site)  # `commsite build` too, sharing the build cache
    with Builder(options) as builder:
        builder.build(now=NOW)
        story.write_text(text + "\nKettles galore.\n", encoding="utf-8")
        assert builder.build([story], trusted=True, now=NOW).indexed is None  # kept
    kept = bundle(preview)
    story.write_text(text.replace("title:", "title: [", 1) + "\nKettles galore.\n")
    with Builder(options) as restarted:
        failed = restarted.build(now=NOW)
        assert not failed.ok
        assert bundle(preview) == kept  # the failed build touched nothing
        story.write_text(text + "\nKettles galore.\n", encoding="utf-8")
        fixed = restarted.build([story], trusted=True, now=NOW)
        assert fixed.ok and fixed.indexed is not None
    assert "Kettles galore" in fragments(preview)[STORY_URL]["content"]  # type: ignore[operator]
    build(site, output=tmp_path / "clean", cache=False)
    assert bundle(preview) == bundle(tmp_path / "clean")
    build(site)  # `commsite build` again: the index of the pages as they are
    assert bundle(site / "public") == bundle(tmp_path / "clean")
