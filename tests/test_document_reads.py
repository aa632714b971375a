"""Generated documents record what they read (build/document_reads.py), as pages
do (test_build_reads.py): a document function that starts reading something
new is invalidated when that changes, with no other code changed. Here the
Atom feed's function is extended (as a maintainer would edit it) to name an
event, which no feed ever read; retitling that event must remake the feed, in
serve's long-lived builder and in a fresh build that has only the cache, and
leave it alone otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import commsite.build.site_documents as site_documents
from commsite.build.document_reads import DocumentReads
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
