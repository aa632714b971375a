"""Generated documents record what they read (build/document_reads.py), as pages
do (test_build_reads.py): a document function that starts reading something
new is invalidated when that changes, with no other code changed. Here the
Atom feed's function is extended (as a maintainer would edit it) to name an
event, which no feed ever read; retitling that event must remake the feed, in
serve's long-lived builder and in a fresh build that has only the cache, and
leave it alone otherwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import commsite.build.objects as build_objects
import commsite.build.site_documents as site_documents
from commsite.build.document_queries import DocumentReads
from commsite.build.pagekeys import recorded_reads
from commsite.build.run import Builder, BuildOptions, build_site
from golden.regenerate import SITE, golden_now
from test_build_cache import clean_build, tree

EVENT = Path("content/events/2027-05-08-sewing-circle.md")
FEED = "feed.xml"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    original = site_documents.atom

    def atom(reads: DocumentReads) -> bytes:
        event = reads.event("sewing-circle")  # a read no feed ever made
        note = f"<!-- next: {event.title} -->\n</feed>".encode()
        return original(reads).replace(b"</feed>", note)

    monkeypatch.setattr(site_documents, "atom", atom)
    return root


def retitle(root: Path) -> None:
    path = root / EVENT
    text = path.read_text(encoding="utf-8")
    assert "title: Sewing circle\n" in text
    path.write_text(text.replace("title: Sewing circle\n", "title: Quilting bee\n"), "utf-8")


def shown(root: Path) -> str:
    feed = (root / "public" / FEED).read_text(encoding="utf-8")
    assert "<!-- next: " in feed, "the extended feed is not in use"
    return feed.split("<!-- next: ")[1].split(" -->")[0]


def test_serve_builder_sees_a_feed_read_no_key_lists(site: Path, tmp_path: Path) -> None:
    now = golden_now()
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        assert shown(site) == "Sewing circle"
        assert FEED not in builder.build(now=now).written
        retitle(site)
        result = builder.build(now=now)
        assert result.ok, [d.format() for d in result.diagnostics]
    assert shown(site) == "Quilting bee"
    assert FEED in result.written
    assert tree(site / "public") == clean_build(site, tmp_path, now)


def test_a_fresh_build_sees_a_feed_read_no_key_lists(site: Path, tmp_path: Path) -> None:
    now = golden_now()
    assert build_site(BuildOptions(root=site, jobs=1), now=now).ok
    retitle(site)
    result = build_site(BuildOptions(root=site, jobs=1), now=now)  # the cache only
    assert result.ok, [d.format() for d in result.diagnostics]
    assert shown(site) == "Quilting bee" and FEED in result.written
    assert tree(site / "public") == clean_build(site, tmp_path, now)
    again = build_site(BuildOptions(root=site, jobs=1), now=now)
    assert again.rendered == () and again.written == ()


def test_the_record_holds_a_document_s_reads(site: Path) -> None:
    """What the feed read is in the build record, as a page's reads are."""
    now = golden_now()
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=now).ok
        memo = builder.kept.memo
        assert memo is not None
        reads = dict(memo.documents.last[FEED][1])
        output = memo.documents.last[FEED][2]
    assert ("event", "sewing-circle") in reads and ("feed_stories", "") in reads
    assert recorded_reads(output.inputs) == tuple(reads)


# A federation object that starts reading a member (its host's name): renaming
# that member must remake the objects and the outbox pages that embed them.
OBJECT = "ap/stories/welcome"
MEMBER = Path("content/members/ada.md")


@pytest.fixture
def federating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    original = build_objects.federation_object

    def federation_object(kind: str, slug: str, reads: DocumentReads) -> bytes:
        member = reads.find_member("ada")  # a read no object ever made
        name = json.dumps(member.name if member is not None else "").encode()
        return original(kind, slug, reads).replace(b'{"id":', b'{"host":' + name + b',"id":', 1)

    monkeypatch.setattr(build_objects, "federation_object", federation_object)
    return root


def rename_ada(root: Path) -> None:
    path = root / MEMBER
    text = path.read_text(encoding="utf-8")
    assert "name: Ada Okafor\n" in text
    path.write_text(text.replace("name: Ada Okafor\n", "name: Ada Lovelace\n"), "utf-8")


def host(root: Path, path: str = OBJECT) -> str:
    found: str = json.loads((root / "public" / path).read_bytes())["host"]
    return found


def outbox_hosts(root: Path) -> set[str]:
    page = json.loads((root / "public" / "ap" / "outbox-pages" / "1").read_bytes())
    return {activity["object"]["host"] for activity in page["orderedItems"]}


def test_serve_builder_sees_an_object_read_no_key_lists(federating: Path, tmp_path: Path) -> None:
    now = golden_now()
    with Builder(BuildOptions(root=federating, jobs=1)) as builder:
        assert builder.build(now=now).ok
        assert host(federating) == "Ada Okafor"
        assert OBJECT not in builder.build(now=now).written
        rename_ada(federating)
        result = builder.build(now=now)
        assert result.ok, [d.format() for d in result.diagnostics]
    assert host(federating) == "Ada Lovelace" and outbox_hosts(federating) == {"Ada Lovelace"}
    assert OBJECT in result.written
    assert tree(federating / "public") == clean_build(federating, tmp_path, now)


def test_a_fresh_build_sees_an_object_read_no_key_lists(federating: Path, tmp_path: Path) -> None:
    now = golden_now()
    assert build_site(BuildOptions(root=federating, jobs=1), now=now).ok
    rename_ada(federating)
    result = build_site(BuildOptions(root=federating, jobs=1), now=now)  # the cache only
    assert result.ok, [d.format() for d in result.diagnostics]
    assert host(federating) == "Ada Lovelace" and outbox_hosts(federating) == {"Ada Lovelace"}
    assert tree(federating / "public") == clean_build(federating, tmp_path, now)
    again = build_site(BuildOptions(root=federating, jobs=1), now=now)
    assert again.rendered == () and again.written == ()


def test_a_body_edit_remakes_one_object_and_its_outbox_page(
    federating: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The objects of the other items are neither made nor serialised again: the
    outbox page takes their JSON from the store (memory, or the build cache)."""
    made: list[str] = []
    counted = build_objects.federation_object

    def federation_object(kind: str, slug: str, reads: DocumentReads) -> bytes:
        made.append(slug)
        return counted(kind, slug, reads)

    monkeypatch.setattr(build_objects, "federation_object", federation_object)
    now = golden_now()
    story = federating / "content/stories/2026-05-01-tools-and-things.md"
    assert build_site(BuildOptions(root=federating, jobs=1), now=now).ok
    made.clear()
    text = story.read_text(encoding="utf-8")
    story.write_text(text.replace("has a drill", "has a saw", 1), encoding="utf-8")
    result = build_site(BuildOptions(root=federating, jobs=1), now=now)
    assert made == ["tools-and-things"]
    assert {p for p in result.written if p.startswith("ap/")} == {
        "ap/stories/tools-and-things",
        "ap/outbox-pages/1",
    }
    with Builder(BuildOptions(root=federating, jobs=1)) as builder:
        assert builder.build(now=now).ok
        made.clear()
        story.write_text(text.replace("has a drill", "has a hammer", 1), encoding="utf-8")
        assert builder.build(now=now).ok
    assert made == ["tools-and-things"]
    assert tree(federating / "public") == clean_build(federating, tmp_path, now)


def test_serve_builder_asks_only_the_documents_whose_reads_changed(federating: Path) -> None:
    """The pages' reverse index holds the documents' reads too (PageMemo.index): a
    body edit names the documents that read the story, and no other document is
    asked whether its reads hold (with 11,000 documents, asking each was most of
    a rebuild's document work)."""
    now = golden_now()
    story = federating / "content/stories/2026-05-01-tools-and-things.md"
    with Builder(BuildOptions(root=federating, jobs=1)) as builder:
        assert builder.build(now=now).ok
        assert builder.build(now=now).ok  # (the documents' reads are indexed now)
        text = story.read_text(encoding="utf-8")
        story.write_text(text.replace("has a drill", "has a saw", 1), encoding="utf-8")
        result = builder.build(now=now)
        assert result.ok
        changed = builder.kept.memo.pages.changed
        documents = builder.kept.memo.documents.last
    assert changed is not None
    asked = {path for path in documents if path in changed}
    assert "ap/stories/tools-and-things" in asked and "ap/outbox-pages/1" in asked
    assert not asked & {"robots.txt", "events.ics", "sitemap.xml", "ap/stories/welcome"}
    assert {"ap/stories/tools-and-things", "ap/outbox-pages/1"} <= set(result.written)
