"""The build cache: after every kind of change, an incremental build's output is
byte-identical to a clean build's, and a damaged cache is ignored."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import commsite.themes
import pytest

from commsite.build import parallel
from commsite.build.cache import DB_NAME
from commsite.build.run import Builder, BuildOptions, BuildResult, build_site
from golden.regenerate import SITE, golden_now

STORIES = Path("content/stories")
THEME_BASE = Path(commsite.themes.__file__).parent / "default" / "templates" / "base.html"


def tree(root: Path) -> dict[str, bytes]:
    """Every output file's bytes, without the search index: serve's builder keeps
    the index of its first build while the organiser edits (build/search.py), and
    tests/test_search_index.py holds the index to the pages it indexes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.relative_to(root).as_posix().startswith("pagefind/")
    }


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    # A site-level template override, so editing "a template in the site's theme/" is real.
    (root / "theme" / "templates").mkdir(parents=True)
    shutil.copy(THEME_BASE, root / "theme" / "templates" / "base.html")
    (root / "static" / "spare.txt").write_text("a file to delete\n")
    # A long body (fingerprints digest long HTML instead of repr'ing it).
    with (root / STORIES / "2026-03-20-repair-day-recap.md").open("a", encoding="utf-8") as story:
        story.write("\n" + "We fixed a *lamp* and a 'radio' \"again\". " * 60 + "The end.\n")
    return root


def clean_build(root: Path, tmp: Path, now: datetime) -> dict[str, bytes]:
    output = tmp / "clean"
    shutil.rmtree(output, ignore_errors=True)
    result = build_site(BuildOptions(root=root, output=output, cache=False, jobs=1), now=now)
    assert result.ok, [d.format() for d in result.diagnostics]
    return tree(output)


def edit_story(root: Path) -> None:
    replace_in(root / STORIES / "2025-09-06-welcome.md", "Welcome to the Menders", "Welcome, all")


def edit_long_story_end(root: Path) -> None:
    replace_in(root / STORIES / "2026-03-20-repair-day-recap.md", "The end.", "The very end.")


def edit_site_template(root: Path) -> None:
    replace_in(root / "theme" / "templates" / "base.html", "</body>", "<!-- edited -->\n</body>")


def edit_config(root: Path) -> None:
    replace_in(root / "commsite.yaml", "per_page: 2", "per_page: 3")
    replace_in(root / "commsite.yaml", 'title: Menders & "Friends" <Golden>', "title: The Menders")


def edit_federation_config(root: Path) -> None:
    # What only the federation objects read (kept between builds by a digest of it).
    replace_in(
        root / "commsite.yaml", "base_url: https://golden.example/", "base_url: https://b.example/"
    )
    with (root / "commsite.yaml").open("a", encoding="utf-8") as config:
        config.write("federation:\n  story_type: Article\n")


def delete_federation_outputs(root: Path) -> None:
    # Made only when needed (see build/objects.py): a missing output is made again.
    (root / "public" / "ap" / "stories" / "welcome").unlink()
    (root / "public" / "ap" / "outbox-pages" / "1").unlink()


def delete_feeds_from_output(root: Path) -> None:
    # Feeds and calendars are not made when the record shows equal inputs: a file
    # of theirs missing from the output is made again all the same.
    (root / "public" / "feed.xml").unlink()
    (root / "public" / "events" / "repair-day" / "event.ics").unlink()


def edit_member(root: Path) -> None:
    replace_in(root / "content/members/ada.md", "name: Ada Okafor", "name: Ada O.")


def edit_event(root: Path) -> None:
    replace_in(root / "content/events/2027-05-08-sewing-circle.md", "T14:00", "T15:00")
    replace_in(root / "content/events/2027-05-08-sewing-circle.md", "Sewing circle", "Sewing club")


def delete_story(root: Path) -> None:
    (root / STORIES / "2026-05-01-tools-and-things.md").unlink()


def rename_story(root: Path) -> None:
    (root / STORIES / "2025-09-06-welcome.md").rename(root / STORIES / "2025-09-06-hello.md")


def add_interaction(root: Path) -> None:
    (root / "interactions" / "replies" / "stories" / "welcome").mkdir(parents=True)
    (root / "interactions" / "replies" / "stories" / "welcome" / "ffeeddccbbaa.md").write_text(
        "---\n"
        "id: https://social.example/users/lee/statuses/9\n"
        "kind: reply\n"
        "target: stories/welcome\n"
        "in_reply_to: https://golden.example/ap/stories/welcome\n"
        "author_name: Lee\n"
        'author_handle: "@lee@social.example"\n'
        "author_url: https://social.example/@lee\n"
        "published: 2026-09-01T10:00:00Z\n"
        "---\n<p>Lovely to meet you all.</p>\n",
        encoding="utf-8",
    )


def add_member_reply(root: Path) -> None:
    """A reply by a member: its thread shows it as theirs, their profile lists it."""
    (root / "interactions" / "replies" / "stories" / "welcome").mkdir(parents=True, exist_ok=True)
    (root / "interactions" / "replies" / "stories" / "welcome" / "aabbccddeeff.md").write_text(
        "---\n"
        "id: https://eastfield.example/users/ada/statuses/99\n"
        "kind: reply\n"
        "target: stories/welcome\n"
        "in_reply_to: https://golden.example/ap/stories/welcome\n"
        "author_name: Ada\n"
        'author_handle: "@ada@eastfield.example"\n'
        "author_url: https://eastfield.example/@ada\n"
        "published: 2026-09-02T10:00:00Z\n"
        "---\n<p>Welcome, everyone.</p>\n",
        encoding="utf-8",
    )


def change_static(root: Path) -> None:
    replace_in(root / "static" / "images" / "visible-mending.svg", "<svg", "<svg data-edited='1'")
    (root / "static" / "favicon.txt").write_text("new static file\n")


def delete_static(root: Path) -> None:
    (root / "static" / "spare.txt").unlink()


def add_page(root: Path) -> None:
    (root / "content" / "pages" / "join.md").write_text(
        "---\ntitle: Join us\n---\nCome along on a Saturday.\n", encoding="utf-8"
    )


def change_an_rsvp(root: Path) -> None:
    """Ada can't make it after all: Sam moves up from the waiting list."""
    rsvps = root / "interactions" / "rsvps" / "sewing-circle.yaml"
    replace_in(rsvps, "  answer: going\n  via: reply", "  answer: not_going\n  via: reply")


def change_who_liked(root: Path) -> None:
    replace_in(root / "interactions" / "reactions.yaml", "- kind: boost", "- kind: like")


EDITS: dict[str, Callable[[Path], None]] = {
    "edit a story": edit_story,
    "edit the end of a long story": edit_long_story_end,
    "edit a template in theme/": edit_site_template,
    "edit commsite.yaml": edit_config,
    "edit commsite.yaml's federation": edit_federation_config,
    "edit a member stories reference": edit_member,
    "delete federation documents from the output": delete_federation_outputs,
    "delete feeds from the output": delete_feeds_from_output,
    "edit an event": edit_event,
    "delete a story": delete_story,
    "rename a story": rename_story,
    "add an interactions/ file": add_interaction,
    "add a member's reply": add_member_reply,
    "change static/": change_static,
    "delete a static file": delete_static,
    "add a page": add_page,
    "change an RSVP": change_an_rsvp,
    "change who liked": change_who_liked,
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_incremental_build_equals_clean_build(
    site: Path, tmp_path: Path, edit: Callable[[Path], None]
) -> None:
    now = golden_now()
    first = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert first.ok
    edit(site)
    second = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert second.ok, [d.format() for d in second.diagnostics]
    assert second.written or second.removed, "the edit changed nothing in the output"
    assert tree(site / "public") == clean_build(site, tmp_path, now)
    # and nothing is left to do afterwards
    third = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert third.rendered == () and third.written == ()


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_a_long_lived_builder_equals_clean_build(
    site: Path, tmp_path: Path, edit: Callable[[Path], None]
) -> None:
    now = golden_now()
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        edit(site)
        result = builder.build(now=now)
        assert result.ok
    assert tree(site / "public") == clean_build(site, tmp_path, now)


@pytest.mark.parametrize("owned", [False, True], ids=["shared output", "owned output"])
def test_one_builder_through_every_edit_equals_clean_builds(
    site: Path, tmp_path: Path, owned: bool
) -> None:
    """One long-lived builder (as `commsite serve` keeps) through all the edits in a
    row: its memos (model objects, page specs, fingerprints, documents) carry over
    from build to build, and after each edit its output equals a clean build's."""
    now = golden_now()
    behind_its_back = (delete_federation_outputs, delete_feeds_from_output)
    edits = [e for e in EDITS.values() if not (owned and e in behind_its_back)]
    with Builder(BuildOptions(root=site, jobs=1, owned_output=owned)) as builder:
        assert builder.build(now=now).ok
        for edit in edits:
            edit(site)
            result = builder.build(now=now)
            assert result.ok, (edit.__name__, [d.format() for d in result.diagnostics])
            assert tree(site / "public") == clean_build(site, tmp_path, now), edit.__name__
            again = builder.build(now=now)
            assert again.rendered == () and again.written == (), edit.__name__


def test_a_long_lived_builder_follows_time(site: Path, tmp_path: Path) -> None:
    """An event becoming past and a future story becoming due change pages that the
    builder's memos would otherwise keep."""
    before = datetime(2026, 10, 1, 12, tzinfo=UTC)
    after = datetime(2027, 5, 9, 12, tzinfo=UTC)  # the sewing circle is over
    future = site / STORIES / "2026-12-01-later.md"
    future.write_text(
        "---\ntitle: Later\ndate: 2026-12-01\nauthor: ada\ntags: [repair]\n---\nSoon.\n",
        encoding="utf-8",
    )
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=before).ok
        assert "stories/later/index.html" not in tree(site / "public")
        result = builder.build(now=after)
        assert "events/index.html" in result.rendered
        assert "stories/later/index.html" in result.rendered
    assert tree(site / "public") == clean_build(site, tmp_path, after)


@pytest.mark.parametrize("folder", ["mytheme", "../mytheme"], ids=["in the site", "beside it"])
def test_a_theme_in_a_folder_of_its_own_is_an_input(
    site: Path, tmp_path: Path, folder: str
) -> None:
    """`theme: mytheme`, a theme in a folder of the site that is not an input folder
    (not theme/), or one beside the site: the build reads its templates, so an edit
    of one is a change, for a fresh build and for serve's builder told of it by its
    watcher. (Found while giving test_incremental_differential such themes: the
    theme in the site was neither scanned as an input folder nor as a folder
    outside the site, and the no-change check kept the old pages.)"""
    templates = (site / folder).resolve() / "templates"
    templates.mkdir(parents=True)
    shutil.copy(THEME_BASE.parent / "page.html", templates / "page.html")
    with (site / "commsite.yaml").open("a", encoding="utf-8") as config:
        config.write(f"theme: {folder}\n")
    now = golden_now()
    preview = tmp_path / "preview"
    assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
    with Builder(BuildOptions(root=site, output=preview, jobs=1, owned_output=True)) as builder:
        assert builder.build(now=now).ok
        assert builder.outside_dirs() == (templates,)
        replace_in(templates / "page.html", "</article>", "<p>Edited</p></article>")
        assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
        assert builder.build([templates / "page.html"], trusted=True, now=now).ok
        assert builder.missed_changes() == []
    clean = clean_build(site, tmp_path, now)
    assert b"<p>Edited</p>" in clean["about/index.html"]
    assert tree(site / "public") == clean
    assert tree(preview) == clean


def test_a_long_lived_builder_sees_files_appear_and_go_in_content(site: Path) -> None:
    """The layout warnings are kept while no folder under content/ changed (by
    mtime, once it is older than the mtime tick): a stray file added or removed
    changes its folder's mtime and the warnings follow."""
    now = golden_now()
    content = site / "content"
    folders = [content, *(d for d in content.iterdir() if d.is_dir())]
    settled = time.time() - 3600

    def settle(offset: float) -> None:
        for folder in folders:
            os.utime(folder, (settled + offset, settled + offset))

    def stray(result: BuildResult) -> bool:
        return any(d.path == "content/stories/notes.txt" for d in result.diagnostics)

    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        settle(0)
        assert not stray(builder.build(now=now))
        (site / STORIES / "notes.txt").write_text("not a story\n", encoding="utf-8")
        settle(60)
        assert stray(builder.build(now=now))
        replace_in(site / STORIES / "2025-09-06-welcome.md", "Welcome to", "Welcome again to")
        assert stray(builder.build(now=now))  # kept: no folder changed
        (site / STORIES / "notes.txt").unlink()
        settle(120)
        assert not stray(builder.build(now=now))


def test_an_empty_folder_in_content_is_a_change(site: Path) -> None:
    """The loader warns of a folder in a content folder, empty or not; an empty one
    has no file for the input scan to hash, and the no-change check kept the last
    build's warnings. (Found by test_incremental_differential.)"""
    now = golden_now()
    folder = site / STORIES / "old"

    def warned(result: BuildResult) -> bool:
        assert result.ok
        return any(d.path == "content/stories/old" for d in result.diagnostics)

    with Builder(BuildOptions(root=site, jobs=1, owned_output=True)) as builder:
        assert not warned(builder.build(now=now))
        folder.mkdir()
        assert warned(build_site(BuildOptions(root=site, jobs=1), now=now))
        assert builder.missed_changes() == [site / "content"]
        assert warned(builder.build([folder], trusted=True, now=now))
        folder.rmdir()
        assert not warned(builder.build([folder], trusted=True, now=now))
    assert not warned(build_site(BuildOptions(root=site, jobs=1), now=now))


def test_a_story_edit_renders_only_what_shows_it(site: Path) -> None:
    now = golden_now()
    assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
    story = site / STORIES / "2026-05-01-tools-and-things.md"
    replace_in(story, "has a drill", "has a big drill")
    result = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert "stories/tools-and-things/index.html" in result.rendered
    for unrelated in ("members/ada/index.html", "events/repair-day/index.html", "rules/index.html"):
        assert unrelated not in result.rendered
    # (the search index is written, not rendered: Pagefind makes it)
    assert {p for p in result.written if not p.startswith("pagefind/")} <= set(result.rendered)


def test_a_long_lived_builder_keeps_the_plan_of_unchanged_object_documents(site: Path) -> None:
    """After a one-story edit, the other items' federation object documents keep
    their planned outputs (the same objects: nothing about them is made again),
    the edited story's is planned anew, and the output equals a clean build's
    (the suite above)."""
    now = golden_now()
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        assert builder.kept.memo is not None
        before = object_outputs(builder.kept.memo.documents.last)
        replace_in(site / STORIES / "2026-05-01-tools-and-things.md", "has a drill", "has a saw")
        assert builder.build(now=now).ok
        after = object_outputs(builder.kept.memo.documents.last)
    assert before.keys() == after.keys() and "ap/stories/welcome" in after
    assert after["ap/stories/tools-and-things"] is not before["ap/stories/tools-and-things"]
    kept = [path for path in after if after[path] is before[path]]
    assert sorted(kept) == sorted(p for p in after if p != "ap/stories/tools-and-things")


def object_outputs(last: Mapping[str, tuple[object, object, object, object]]) -> dict[str, object]:
    """The planned Output of each object document a long-lived builder keeps."""
    return {path: entry[2] for path, entry in last.items() if path.startswith("ap/stories/")}


def test_time_passing_rebuilds_what_it_changes(site: Path, tmp_path: Path) -> None:
    before = datetime(2026, 10, 1, 12, tzinfo=UTC)
    after = datetime(2027, 5, 9, 12, tzinfo=UTC)  # the sewing circle is over
    assert build_site(BuildOptions(root=site, jobs=1), now=before).ok
    assert build_site(BuildOptions(root=site, jobs=1), now=before.replace(hour=13)).written == ()
    result = build_site(BuildOptions(root=site, jobs=1), now=after)
    assert "events/index.html" in result.rendered
    assert tree(site / "public") == clean_build(site, tmp_path, after)


def test_nothing_changed_is_seen_up_to_the_moment_something_flips(site: Path) -> None:
    """The no-change check holds until the very moment the site changes by itself
    (here the sewing circle ends, 2027-05-08 17:00+01:00), not a margin before it:
    a community with an event tomorrow still gets its no-change builds."""
    ends = datetime(2027, 5, 8, 16, tzinfo=UTC)
    assert build_site(BuildOptions(root=site, jobs=1), now=ends - timedelta(hours=3)).ok

    def quick(now: datetime) -> bool:
        with Builder(BuildOptions(root=site, jobs=1)) as builder:
            result = builder.build(now=now)
            assert result.ok and result.written == ()
            # A fresh builder that took the no-change path never loaded the sources.
            return builder.kept.sources is None

    assert quick(ends - timedelta(minutes=1))
    assert quick(ends - timedelta(seconds=5))
    after = ends + timedelta(minutes=1)
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        result = builder.build(now=after)
    assert "events/index.html" in result.rendered  # the circle is now a past event


def test_nothing_changed_ends_when_nodeinfo_activity_flips(site: Path, tmp_path: Path) -> None:
    """NodeInfo's activeHalfyear says whether the newest published post is within
    180 days of the build: in the golden site the story of 2026-05-01 (BST), so it
    flips on 2026-10-28. The no-change check counted the 180 days from the latest
    moment instead, a draft of 2026-06-01, and a build on 2026-11-01 kept the old
    NodeInfo. (Found while giving test_incremental_differential's clock these
    windows to cross.)"""
    assert build_site(BuildOptions(root=site, jobs=1), now=golden_now()).ok
    later = datetime(2026, 11, 1, 12, tzinfo=UTC)
    result = build_site(BuildOptions(root=site, jobs=1), now=later)
    assert result.written == ("nodeinfo/2.1",)
    assert tree(site / "public") == clean_build(site, tmp_path, later)


# --- a damaged cache is ignored ---------------------------------------------------------


def truncate(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def garbage(db: Path) -> None:
    db.write_bytes(b"this is not a database\n" * 500)


def foreign_version(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value='commsite-build-cache 999' WHERE key='format'")


def damaged_entries(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE parsed SET value = substr(value, 1, length(value) / 2)")
        conn.execute("UPDATE record SET fingerprint = x'00', digest = x'00'")


def empty_file(db: Path) -> None:
    db.write_bytes(b"")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": truncate,
    "garbage": garbage,
    "foreign format version": foreign_version,
    "damaged entries": damaged_entries,
    "empty": empty_file,
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_cache_is_ignored(
    site: Path, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    now = golden_now()
    assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
    cache_dir = site / ".commsite" / "build-cache"
    db = cache_dir / DB_NAME
    # Fold the write-ahead log into the file, then damage it.
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    damage(db)
    edit_story(site)
    result: BuildResult = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert tree(site / "public") == clean_build(site, tmp_path, now)
    # The cache was rebuilt: the next build has nothing to do.
    again = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert again.ok and again.rendered == () and again.written == ()


def test_the_cache_is_git_ignored(site: Path) -> None:
    assert build_site(BuildOptions(root=site, jobs=1), now=golden_now()).ok
    ignore = site / ".commsite" / "build-cache" / ".gitignore"
    assert ignore.read_text() == "*\n"


def test_a_builder_used_from_another_thread_keeps_its_cache(site: Path) -> None:
    """`commsite serve` builds first in its main thread, then from the watcher's
    thread: the cache must work from there too (sqlite3 refuses a connection made
    in another thread, and that refusal once read as a damaged cache, which was
    deleted on the first save)."""
    now = golden_now()
    db = site / ".commsite" / "build-cache" / DB_NAME
    results: list[BuildResult] = []
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        edit_story(site)
        worker = threading.Thread(target=lambda: results.append(builder.build(now=now)))
        worker.start()
        worker.join()
        assert results and results[0].ok and results[0].rendered
        assert db.exists()
    # The rebuild's record and parses were kept: a fresh build has nothing to do.
    again = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert again.ok and again.rendered == () and again.written == ()


def _cached(site: Path, table: str) -> int:
    with sqlite3.connect(site / ".commsite" / "build-cache" / DB_NAME) as conn:
        (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(count)


@pytest.mark.parametrize("jobs", [1, 2])
def test_what_a_build_parsed_and_made_is_kept_in_the_cache(site: Path, jobs: int) -> None:
    """The cache is written while the workers render (or at the end): a fresh
    process finds every file's parse there, and every federation object made
    in this process. (A cold build with workers makes its objects in them, and
    keeps none: the first edit after it makes and keeps its outbox page's.)"""
    content = [p for p in (site / "content").rglob("*") if p.suffix in (".md", ".yaml")]
    assert build_site(BuildOptions(root=site, jobs=jobs), now=golden_now()).ok
    assert _cached(site, "parsed") == len(content)
    # Three published stories and three events have federation objects (a draft
    # and a story dated after the build have none).
    workers = jobs > 1 and parallel.can_fork()
    assert _cached(site, "made") == (0 if workers else 6)
    if workers:
        story = site / STORIES / "2025-09-06-welcome.md"
        story.write_text(story.read_text(encoding="utf-8") + "\nOne more line.\n")
        assert build_site(BuildOptions(root=site, jobs=jobs), now=golden_now()).ok
        assert _cached(site, "made") == 6


def test_a_build_with_content_errors_still_keeps_what_it_parsed(site: Path) -> None:
    replace_in(site / STORIES / "2025-09-06-welcome.md", "title:", "titel:")
    result = build_site(BuildOptions(root=site, jobs=1), now=golden_now())
    assert not result.ok
    content = [p for p in (site / "content").rglob("*") if p.suffix in (".md", ".yaml")]
    assert _cached(site, "parsed") == len(content)


def _inputs(root: Path) -> dict[Path, bytes]:
    """Every file of the site but its output and data folder."""
    return {
        p: p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in ("public", ".commsite")
    }


def test_a_builder_trusting_a_watcher_equals_clean_builds(site: Path, tmp_path: Path) -> None:
    """`commsite serve` trusts its watcher's list of changed files (no scan of
    every input first). Told exactly what each edit changed, the builder's output
    equals a clean build's, and the full scan afterwards finds nothing missed."""
    now = golden_now()
    edits = [
        e for e in EDITS.values() if e not in (delete_federation_outputs, delete_feeds_from_output)
    ]
    with Builder(BuildOptions(root=site, jobs=1, owned_output=True)) as builder:
        assert builder.build(now=now).ok
        for edit in edits:
            before = _inputs(site)
            edit(site)
            after = _inputs(site)
            changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
            assert changed, edit.__name__
            result = builder.build(changed, trusted=True, now=now)
            assert result.ok, (edit.__name__, [d.format() for d in result.diagnostics])
            assert tree(site / "public") == clean_build(site, tmp_path, now), edit.__name__
            assert builder.missed_changes() == [], edit.__name__


def test_a_trusted_build_that_stops_before_its_scan_keeps_what_it_was_told(
    site: Path, tmp_path: Path
) -> None:
    """serve tells its builder of each change once. A build that stops before it
    scans the inputs (here commsite.yaml does not read) must not lose the other
    changes it was told of: the next build, told only of the mended commsite.yaml,
    builds the event edit too, and nothing counts as missed meanwhile. (Found by
    test_incremental_differential, seed 2: the event edit stayed out until the
    scan for missed changes.)"""
    now = golden_now()
    config = site / "commsite.yaml"
    good = config.read_text(encoding="utf-8")
    event = site / "content" / "events" / "2027-05-08-sewing-circle.md"
    with Builder(BuildOptions(root=site, jobs=1, owned_output=True)) as builder:
        assert builder.build(now=now).ok
        replace_in(event, "Sewing circle", "Sewing club")
        config.write_text(good + ": : [\n", encoding="utf-8")
        assert not builder.build([event, config], trusted=True, now=now).ok
        assert builder.missed_changes() == []
        config.write_text(good, encoding="utf-8")
        assert builder.build([config], trusted=True, now=now).ok
        assert tree(site / "public") == clean_build(site, tmp_path, now)
        assert builder.missed_changes() == []


def test_what_a_trusted_watcher_missed_is_found_and_built(site: Path, tmp_path: Path) -> None:
    now = golden_now()
    reported = site / STORIES / "2025-09-06-welcome.md"
    unreported = site / STORIES / "2026-03-20-repair-day-recap.md"
    with Builder(BuildOptions(root=site, jobs=1, owned_output=True)) as builder:
        assert builder.build(now=now).ok
        assert builder.missed_changes() == []
        edit_story(site)
        edit_long_story_end(site)
        # Told of one edit only, the builder believes it (that is the point: no scan).
        assert builder.build([reported], trusted=True, now=now).ok
        page = (site / "public" / "stories" / "repair-day-recap" / "index.html").read_text()
        assert "The very end." not in page
        assert builder.missed_changes() == [unreported]
        assert builder.build([unreported], now=now).ok
        assert tree(site / "public") == clean_build(site, tmp_path, now)
        assert builder.missed_changes() == []
        # Untrusted, the same report is only a hint: every input is scanned.
        replace_in(unreported, "The very end.", "The end, again.")
        assert builder.build([reported], now=now).ok
        assert tree(site / "public") == clean_build(site, tmp_path, now)
