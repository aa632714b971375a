"""Pages that record what they read (render/pages/reads.py) need no key: a page
function that starts reading something new is invalidated when that changes,
with no other code changed. Here the event page's function is extended (as a
maintainer would edit it) to show the newest story's title, and a site
template shows it; editing that story's title must reach every event page, in
serve's long-lived builder and in a fresh build that has only the cache. The
same is done to the story pages' function, whose pages serve finds through the
reverse index of reads (PageMemo.changed) rather than by looking at each."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import commsite.themes
import pytest
import yaml

from commsite.build.pagekeys import recorded_reads
from commsite.build.run import Builder, BuildOptions, build_site
from commsite.render import interests
from commsite.render.lookups import index_site
from commsite.render.pages import plan as page_plan
from commsite.render.pages import stories, tags
from commsite.render.pages.reads import QUERIES, SOURCES, ReadValues, SiteReads
from commsite.render.pages.spec import LazyContext, PageSpec
from golden.regenerate import SITE, golden_now
from test_build_cache import clean_build, tree

TEMPLATES = Path(commsite.themes.__file__).parent / "default" / "templates"
EVENT_PAGE = "events/sewing-circle/index.html"
STORY_PAGE = "stories/welcome/index.html"  # (not the newest story's own page)
NEWEST = re.compile(r'<p id="newest-story">([^<]*)</p>')


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    show_newest(root, "event.html")
    original = page_plan.event_page

    def event_page(reads: SiteReads, slug: str, own_calendar: bool) -> PageSpec:
        newest = reads.story_at(0)  # a read no key ever listed for an event page
        spec = original(reads, slug, own_calendar)
        title = newest.title if newest is not None else ""
        return replace(spec, context={**spec.context, "newest": title})

    monkeypatch.setattr(page_plan, "event_page", event_page)
    return root


def show_newest(root: Path, template: str) -> None:
    """A site template overriding the theme's `template` with the newest story's title."""
    templates = root / "theme" / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    assert text.count("{% block content %}") == 1
    shown = '{% block content %}<p id="newest-story">{{ newest }}</p>'
    (templates / template).write_text(text.replace("{% block content %}", shown))


@pytest.fixture
def story_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    show_newest(root, "story.html")
    original = stories._story

    def story_page(slug: str, reads: SiteReads) -> PageSpec:
        newest = reads.story_at(0)  # a read the story pages never made
        spec = original(slug, reads)
        title = newest.title if newest is not None else ""
        return replace(spec, context={**spec.context, "newest": title})

    monkeypatch.setattr(stories, "_story", story_page)
    return root


def newest_shown(output: Path, page: str = EVENT_PAGE) -> str:
    found = NEWEST.search((output / page).read_text(encoding="utf-8"))
    assert found is not None, "the extended event page is not in use"
    return found.group(1)


def retitle_newest(root: Path, output: Path, page: str = EVENT_PAGE) -> str:
    """Give the story the event page shows a new title; returns the new title."""
    retitle(root, html.unescape(newest_shown(output, page)), "Brand new title")
    return "Brand new title"


def retitle(root: Path, title: str, new: str) -> None:
    """Give the story titled `title` the title `new`."""
    for story in (root / "content" / "stories").glob("*.md"):
        text = story.read_text(encoding="utf-8")
        head = yaml.safe_load(text.split("---\n")[1])
        if head["title"] == title:
            line = next(x for x in text.splitlines() if x.startswith("title:"))
            story.write_text(text.replace(line, f"title: {new}", 1), encoding="utf-8")
            return
    raise AssertionError(f"no story is titled {title!r}")


def test_serve_builder_sees_a_read_no_key_lists(site: Path, tmp_path: Path) -> None:
    now = golden_now()
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        new = retitle_newest(site, site / "public")
        result = builder.build(now=now)
        assert result.ok, [d.format() for d in result.diagnostics]
    assert newest_shown(site / "public") == new
    assert EVENT_PAGE in result.rendered
    assert tree(site / "public") == clean_build(site, tmp_path, now)


def test_a_fresh_build_sees_a_read_no_key_lists(site: Path, tmp_path: Path) -> None:
    now = golden_now()
    assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
    new = retitle_newest(site, site / "public")
    result = build_site(BuildOptions(root=site, jobs=1), now=now)  # the cache only
    assert result.ok, [d.format() for d in result.diagnostics]
    assert newest_shown(site / "public") == new
    assert tree(site / "public") == clean_build(site, tmp_path, now)
    again = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert again.rendered == () and again.written == ()


def test_serve_builder_sees_a_story_page_read_no_key_lists(
    story_site: Path, tmp_path: Path
) -> None:
    now = golden_now()
    with Builder(BuildOptions(root=story_site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        assert builder.build(now=now).ok  # (the reverse index of reads is filled)
        new = retitle_newest(story_site, story_site / "public", STORY_PAGE)
        result = builder.build(now=now)
        assert result.ok, [d.format() for d in result.diagnostics]
    assert newest_shown(story_site / "public", STORY_PAGE) == new
    assert STORY_PAGE in result.rendered
    assert tree(story_site / "public") == clean_build(story_site, tmp_path, now)


def test_a_fresh_build_sees_a_story_page_read_no_key_lists(
    story_site: Path, tmp_path: Path
) -> None:
    now = golden_now()
    assert build_site(BuildOptions(root=story_site, jobs=1), now=now).ok
    new = retitle_newest(story_site, story_site / "public", STORY_PAGE)
    result = build_site(BuildOptions(root=story_site, jobs=1), now=now)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert newest_shown(story_site / "public", STORY_PAGE) == new
    assert tree(story_site / "public") == clean_build(story_site, tmp_path, now)


def story_pages(paths: Iterable[str]) -> list[str]:
    return [p for p in paths if p.startswith("stories/") and not p.startswith("stories/page/")]


def test_a_story_edit_remakes_only_the_pages_that_read_it(story_site: Path) -> None:
    """With the story pages reading the newest story, a body edit of an older
    story reaches its own page and its neighbours' (they show its title: not
    changed here, so only its own is rendered), never the other story pages
    (the story lists show its card: they are remade, and are not story pages)."""
    now = golden_now()
    page = story_site / "content" / "stories" / "2025-09-06-welcome.md"
    with Builder(BuildOptions(root=story_site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        page.write_text(page.read_text(encoding="utf-8") + "\nOne more line.\n")
        result = builder.build(now=now)
        assert result.ok
        assert story_pages(result.rendered) == [STORY_PAGE]
        page.write_text(page.read_text(encoding="utf-8") + "\nAnd another.\n")
        result = builder.build(now=now)
        assert story_pages(result.rendered) == [STORY_PAGE]


def lengthen_another_story(root: Path, output: Path) -> None:
    """Add a line to a story the event pages do not read (not the newest, not a
    draft, not an event's recap)."""
    newest = html.unescape(newest_shown(output))
    for story in sorted((root / "content" / "stories").glob("*.md")):
        text = story.read_text(encoding="utf-8")
        head = yaml.safe_load(text.split("---\n")[1])
        if head["title"] != newest and not head.get("draft") and not head.get("event"):
            story.write_text(text + "\nOne more line.\n", encoding="utf-8")
            return
    raise AssertionError("no story to edit")


def test_an_edit_elsewhere_keeps_recording_pages(site: Path) -> None:
    """The record is exact, not everything: an edit of a story the event pages
    do not read leaves them alone, in serve's builder and in a fresh build."""
    now = golden_now()
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        lengthen_another_story(site, site / "public")
        result = builder.build(now=now)
        assert result.ok and result.rendered
        assert not [p for p in result.rendered if p.startswith("events/")]
    lengthen_another_story(site, site / "public")
    result = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert result.ok and result.rendered
    assert not [p for p in result.rendered if p.startswith("events/")]


@pytest.mark.parametrize(
    ("inputs", "reads"),
    [
        (
            b"reads2:" + b"s" * 20 + b"d" * 20 + b'[["event","a"],["story_at","0"]]',
            (("event", "a"), ("story_at", "0")),
        ),
        (b"reads2:" + b"s" * 20 + b"d" * 20 + b"[]", ()),
        (b"reads2:" + b"s" * 20 + b"d" * 20 + b'[["os.system","rm"]]', None),  # not a query
        (b"reads2:" + b"s" * 20 + b"d" * 20 + b'[["event",1]]', None),
        (b"reads2:" + b"s" * 20 + b"d" * 20 + b'[["event","a","b"]]', None),
        (b"reads2:" + b"s" * 20 + b"d" * 20 + b'{"event":"a"}', None),
        (b"reads2:" + b"s" * 20 + b"d" * 20 + b"[", None),
        (b"reads2:" + b"s" * 20 + b"d" * 20 + b"\xff", None),
        (b"reads2:short", None),
        (b"reads1:" + b"d" * 20 + b"[]", None),  # the record of an older commsite
        (b"d" * 20, None),  # a page with a hand-written key
    ],
)
def test_the_record_of_reads_is_checked_data(inputs: bytes, reads: object) -> None:
    """The build cache may come from anyone: recorded reads must name known
    queries with string arguments, or the entry is a miss."""
    assert recorded_reads(inputs) == reads


@pytest.mark.parametrize("argument", ["-1", "99999999999999", "1e3", "", "٣"])
def test_a_strange_story_position_reads_as_no_story(argument: str) -> None:
    from commsite.content.loader import load_site

    site, problems = load_site(SITE, now=golden_now())
    assert site is not None, problems
    values = ReadValues(site, index_site(site))
    assert values.value(("story_at", argument)) is None
    assert values.value(("story_list", argument)) is None


def test_a_query_source_entry_decides_its_answer(tmp_path: Path) -> None:
    """queries.SOURCES is what lets serve skip asking a read again: where a keyed
    source's entry is equal in two sites, the query's answer must be equal too
    (and for a whole source, every answer). Checked across an edit that retitles
    one story and lengthens another, so some entries differ and most do not."""
    from commsite.content.loader import load_site

    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    before, problems = load_site(root, now=golden_now(), drafts=True, future=True)
    assert before is not None, problems
    welcome = root / "content" / "stories" / "2025-09-06-welcome.md"
    text = welcome.read_text(encoding="utf-8").replace("title: Welcome", "title: Hello", 1)
    welcome.write_text(text + "\nOne more line.\n", encoding="utf-8")
    after, problems = load_site(root, now=golden_now(), drafts=True, future=True)
    assert after is not None, problems
    sites = [(site, index_site(site)) for site in (before, after)]
    targets = {f"stories/{s.slug}" for s in after.stories} | {
        f"events/{e.slug}" for e in after.events
    }
    differing = 0
    for query, (keyed, source_of) in SOURCES.items():
        (a, ia), (b, ib) = sites
        first, second = source_of(a, ia), source_of(b, ib)
        if keyed:
            assert isinstance(first, Mapping) and isinstance(second, Mapping)
            arguments = set(first) | set(second) | {"no-such-thing"}
            same = [x for x in arguments if first.get(x) == second.get(x)]
            differing += len(arguments) - len(same)
        else:
            assert first == second  # (the edit touched no interaction)
            same = sorted(targets)
        assert same, query
        for argument in same:
            answers = [QUERIES[query](site, index, argument) for site, index in sites]
            assert answers[0] == answers[1], (query, argument)
    assert differing >= 3  # the story and its two neighbours' entries


# The pages that were made and digested on every build before they recorded
# their reads: each function is extended to show the title of the oldest story,
# which none of them read (the home page shows the newest few, the indexes only
# counts).
# (module, function name, template, output file).
INDEXES: list[tuple[object, str, str, str]] = [
    (page_plan, "home_page", "home.html", "index.html"),
    (page_plan, "welcome_page", "welcome.html", "welcome/index.html"),
    (page_plan, "members_page", "members.html", "members/index.html"),
    (page_plan, "search_page", "search.html", "search/index.html"),
    (tags, "_index", "tags.html", "tags/index.html"),
    (interests, "_index", "interests.html", "interests/index.html"),
]


@pytest.fixture
def indexes_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    for module, name, template, _ in INDEXES:
        show_newest(root, template)
        monkeypatch.setattr(module, name, showing_oldest(getattr(module, name)))
    return root


def showing_oldest(original: Callable[..., PageSpec]) -> Callable[..., PageSpec]:
    """`original` (a page function), reading the oldest story's title as well."""

    def page(*args: object) -> PageSpec:
        reads = next(a for a in args if isinstance(a, SiteReads))
        oldest = reads.story_at(reads.story_count() - 1)  # reads no such page made
        spec = original(*args)
        title = oldest.title if oldest is not None else ""
        return replace(spec, context={**spec.context, "newest": title})

    return page


def test_index_pages_follow_a_read_they_never_made(indexes_site: Path, tmp_path: Path) -> None:
    """Retitling the oldest story reaches each extended page, in serve's builder
    and in a fresh build with only the cache; a build after that makes nothing."""
    now = golden_now()
    pages = [page for *_, page in INDEXES]
    with Builder(BuildOptions(root=indexes_site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        assert builder.build(now=now).ok  # (the reverse index of reads is filled)
        new = retitle_newest(indexes_site, indexes_site / "public", pages[0])
        result = builder.build(now=now)
        assert result.ok, [d.format() for d in result.diagnostics]
        for page in pages:
            assert newest_shown(indexes_site / "public", page) == new, page
            assert page in result.rendered, page
    assert tree(indexes_site / "public") == clean_build(indexes_site, tmp_path / "a", now)
    again = "Brand new title, again"
    retitle(indexes_site, new, again)
    result = build_site(BuildOptions(root=indexes_site, jobs=1), now=now)  # the cache only
    assert result.ok, [d.format() for d in result.diagnostics]
    for page in pages:
        assert html.unescape(newest_shown(indexes_site / "public", page)) == again, page
    assert tree(indexes_site / "public") == clean_build(indexes_site, tmp_path / "b", now)
    result = build_site(BuildOptions(root=indexes_site, jobs=1), now=now)
    assert result.rendered == () and result.written == ()


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the page contexts made (by a page function), in order."""
    found: list[str] = []
    original = LazyContext._context

    def context(self: LazyContext) -> Mapping[str, object]:
        if self._made is None:
            found.append(self._page[0])
        return original(self)

    monkeypatch.setattr(LazyContext, "_context", context)
    return found


def test_a_body_edit_makes_only_the_pages_that_read_the_story(
    tmp_path: Path, made: list[str]
) -> None:
    """No page is made on every build: an unchanged site makes no page context,
    and a body edit of an old story makes only the pages that read it (its own
    page, the list page, tag pages and home page showing its card: the golden
    site has fewer stories than the home page shows; its author's page), in
    serve's builder and in a fresh build with the cache; never an index. (A
    story card shows no body: those pages are made, then found unchanged.)"""
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    now = golden_now()
    story = root / "content" / "stories" / "2025-09-06-welcome.md"
    expected = {"", "stories/welcome/", "stories/page/2/", "members/ada/"}
    with Builder(BuildOptions(root=root, jobs=1)) as builder:
        assert builder.build(now=now).ok
        assert builder.build(now=now).ok
        made.clear()
        assert builder.build(now=now).ok
        assert made == []
        story.write_text(story.read_text(encoding="utf-8") + "\nOne more line.\n")
        assert builder.build(now=now).ok
        in_serve = set(made)
    made.clear()
    assert build_site(BuildOptions(root=root, jobs=1), now=now).ok
    assert made == []
    story.write_text(story.read_text(encoding="utf-8") + "\nAnd another.\n")
    assert build_site(BuildOptions(root=root, jobs=1), now=now).ok
    for found in (in_serve, set(made)):
        assert "stories/welcome/" in found
        assert not found & {"tags/", "interests/", "members/", "welcome/", "search/"}
        assert {p for p in found if not p.startswith(("tags/", "interests/"))} <= expected
