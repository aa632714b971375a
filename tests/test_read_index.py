"""The read index kept beside the build record (build/read_index.py): a build in a
new process asks each distinct read once and looks into the record entries of
only the outputs that made a read whose answer changed. Its output must be what
a clean build makes, its index must describe the record it is stored with, and
a damaged or missing index only makes the build look at every entry again."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commsite.build import document_reads, page_outputs
from commsite.build.cache import BuildCache
from commsite.build.pagekeys import KeyDigests
from commsite.build.read_index import ReadCheck, StoredIndex, decode_index, encode_index
from commsite.build.run import BuildOptions, build_site
from golden.regenerate import SITE, golden_now
from test_build_cache import STORIES, clean_build, edit_story, replace_in, tree

INDEX = StoredIndex(
    {("story", "welcome"): b"a" * 20, ("tag", "repair"): b"b" * 20, ("rules", ""): b"c" * 20},
    {
        ("story", "welcome"): ("stories/welcome/index.html", "ap/stories/welcome"),
        ("tag", "repair"): ("tags/repair/index.html",),
        ("rules", ""): ("rules/index.html", "stories/welcome/index.html"),
    },
)


def test_an_index_reads_back_as_it_was_stored() -> None:
    assert decode_index(encode_index(INDEX)) == INDEX


def _damaged(blob: bytes) -> list[bytes]:
    flipped = bytearray(blob)
    flipped[-5] ^= 1  # a digest's byte: the checksum no longer matches
    return [
        bytes(flipped),
        blob[:-1],
        blob.replace(b"reads-index1", b"reads-index9"),
        b"",
        b"reads-index1\n",
    ]


@pytest.mark.parametrize("blob", _damaged(encode_index(INDEX)))
def test_a_damaged_index_reads_as_none(blob: bytes) -> None:
    assert decode_index(blob) is None


def _forged(head: object, reads: int) -> bytes:
    """A stored index with a sound checksum around `head` (paths and reads)."""
    text = json.dumps(head).encode()
    body = b"%d\n%b%b" % (len(text), text, b"d" * 20 * reads)
    return b"reads-index1\n" + b"%08x" % zlib.crc32(body) + body


@pytest.mark.parametrize(
    "reads",
    [
        [["story", "x", [0]], ["story", "x", [0]]],  # a read twice
        [["story", "x", [1]]],  # a reader that is not in the paths
        [["story", "x", [-1]]],
        [["story", "x", [True]]],
        [["story", "x", [0.0]]],
        [["story", "x", 0]],
    ],
)
def test_an_index_with_a_read_twice_or_a_reader_out_of_range_reads_as_none(
    reads: list[object],
) -> None:
    assert decode_index(_forged([["a.html"], [["story", "x", [0]]]], 1)) is not None
    assert decode_index(_forged([["a.html"], reads], len(reads))) is None


def test_an_index_naming_an_unknown_query_reads_as_none() -> None:
    forged = StoredIndex({("os.system", "rm"): b"a" * 20}, {("os.system", "rm"): ("index.html",)})
    assert decode_index(encode_index(forged)) is None
    assert decode_index("a text") is None


def test_what_a_read_gave_is_digested_by_its_value_alone() -> None:
    """Equal values give one digest, in any process (interned strings or not);
    values that differ in any way, type included, give another. Plain data is
    digested from marshal's bytes, anything else from its laid-out parts."""
    read = ("neighbours", "welcome")
    built = "".join(["wel", "come"])  # an equal string that is not interned
    value = (("Welcome", sys.intern("welcome")), None)
    digest = KeyDigests({}, b"code").read_digest(read, value)
    assert KeyDigests({}, b"other code").read_digest(read, (("Welcome", built), None)) == digest
    others = [
        (("Welcome", "welcome!"), None),
        [("Welcome", "welcome"), None],
        (("Welcome", "welcome"),),
        (("Welcome", "welcome"), ""),
        (("Welcome", "welcome"), 0),
        (("Welcome", "welcome"), False),
        (("Welcome", "welcome"), 0.0),
    ]
    found = {KeyDigests({}, b"code").read_digest(read, other) for other in others}
    assert len(found) == len(others) and digest not in found
    # Not plain data: laid out (a datetime by its repr).
    when = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    later = KeyDigests({}, b"code").read_digest(read, (when.replace(hour=19),))
    assert KeyDigests({}, b"code").read_digest(read, (when,)) == KeyDigests(
        {}, b"code"
    ).read_digest(read, (datetime(2026, 12, 7, 18, 0, tzinfo=UTC),))
    assert KeyDigests({}, b"code").read_digest(read, (when,)) != later


def test_the_outputs_of_a_changed_read_are_dirty() -> None:
    now = {("story", "welcome"): b"A" * 20, ("tag", "repair"): b"b" * 20, ("rules", ""): b"c" * 20}
    check = ReadCheck(INDEX)
    check.begin(now.__getitem__)
    assert check.dirty == {"stories/welcome/index.html", "ap/stories/welcome"}
    assert check.holds("tags/repair/index.html", _inputs(b"s"), b"s" * 20)
    assert not check.holds("tags/repair/index.html", _inputs(b"t"), b"s" * 20)  # its shared key
    assert not check.holds("ap/stories/welcome", _inputs(b"s"), b"s" * 20)


def test_the_next_index_takes_the_new_reads_of_the_outputs_checked_again() -> None:
    now = {("story", "welcome"): b"A" * 20, ("tag", "repair"): b"b" * 20, ("rules", ""): b"c" * 20}
    now[("story", "hello")] = b"h" * 20
    check = ReadCheck(INDEX)
    check.begin(now.__getitem__)
    check.note("stories/welcome/index.html", [("story", "welcome"), ("story", "hello")])
    # ap/stories/welcome is dirty but was not checked again: no index can be made
    recording = {"stories/welcome/index.html", "ap/stories/welcome", "tags/repair/index.html"}
    assert check.next_index(recording) is None
    check.note("ap/stories/welcome", [("story", "welcome")])
    found = check.next_index(recording)
    # (rules/index.html is gone, and the story page no longer reads the rules)
    assert found == StoredIndex(
        {
            ("tag", "repair"): b"b" * 20,
            ("story", "welcome"): b"A" * 20,
            ("story", "hello"): b"h" * 20,
        },
        {
            ("tag", "repair"): ("tags/repair/index.html",),
            ("story", "welcome"): ("stories/welcome/index.html", "ap/stories/welcome"),
            ("story", "hello"): ("stories/welcome/index.html",),
        },
    )


@pytest.mark.parametrize(
    "welcome_reads",
    [
        [("story", "welcome"), ("rules", "")],  # as before: the stored index is patched
        [("story", "welcome")],  # it no longer reads the rules: made anew
    ],
)
def test_the_stored_index_is_the_next_index(welcome_reads: list[tuple[str, str]]) -> None:
    now = {("story", "welcome"): b"A" * 20, ("tag", "repair"): b"b" * 20, ("rules", ""): b"c" * 20}
    check = ReadCheck(decode_index(encode_index(INDEX)))
    check.begin(now.__getitem__)
    check.note("stories/welcome/index.html", welcome_reads)
    check.note("ap/stories/welcome", [("story", "welcome")])
    recording = {"stories/welcome/index.html", "ap/stories/welcome", "tags/repair/index.html"}
    recording.add("rules/index.html")
    stored = check.stored(recording)
    index = check.next_index(recording)
    assert stored is not None and index is not None
    assert decode_index(stored) == index
    assert index.digests[("story", "welcome")] == b"A" * 20


def _inputs(shared: bytes) -> bytes:
    return b"reads2:" + shared * 20 + b"d" * 20 + b"[]"


# --- in real builds ---------------------------------------------------------------


@pytest.fixture(params=[1, 2], ids=["one process", "workers"])
def jobs(request: pytest.FixtureRequest) -> int:
    """A clean build with workers makes its pages and documents there (their reads
    come back sealed), with one process here."""
    return int(request.param)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    return root


def _stored(root: Path) -> bytes:
    cache = root / ".commsite" / "build-cache" / "cache.sqlite3"
    with sqlite3.connect(cache) as conn:
        rows = conn.execute("SELECT value FROM meta WHERE key LIKE 'reads:%'").fetchall()
    return rows[0][0] if rows else b""


def _build(root: Path, jobs: int = 1, **options: object) -> None:
    result = build_site(BuildOptions(root=root, jobs=jobs, **options), now=golden_now())  # type: ignore[arg-type]
    assert result.ok, [d.format() for d in result.diagnostics]


def _looked_into(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The record entries whose reads a build decodes (one per output it looks into)."""
    seen: list[bytes] = []
    original = page_outputs.recorded_reads

    def counted(inputs: bytes) -> object:
        seen.append(inputs)
        return original(inputs)

    monkeypatch.setattr(page_outputs, "recorded_reads", counted)
    monkeypatch.setattr(document_reads, "recorded_reads", counted)
    return seen


def test_an_edit_is_built_from_the_index_as_a_clean_build_makes_it(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    _build(site, jobs)  # a clean build keeps the index of what its outputs read
    index = decode_index(_stored(site))
    assert index is not None
    assert "stories/welcome/index.html" in index.readers[("story", "welcome")]
    outputs = len(tree(site / "public"))

    seen = _looked_into(monkeypatch)
    edit_story(site)
    _build(site)
    assert tree(site / "public") == clean_build(site, tmp_path, golden_now())
    # Only the outputs that read the story: its page, its object, the lists and
    # feeds that show it (each entry once), not the site's other outputs.
    assert 0 < len(seen) < outputs / 4, len(seen)
    assert decode_index(_stored(site)) is not None


def test_a_record_written_without_an_index_drops_the_stored_one(site: Path) -> None:
    _build(site)
    edit_story(site)
    _build(site)
    assert _stored(site) != b""
    # A builder that keeps its own index (serve's: owned_output) writes the record
    # of the same output: the stored index would no longer describe it.
    replace_in(site / STORIES / "2025-09-06-welcome.md", "Welcome, all", "Welcome, 2")
    _build(site, owned_output=True)
    assert _stored(site) == b""


def test_a_damaged_index_makes_the_build_look_into_every_entry(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(site)
    edit_story(site)
    _build(site)
    blob = bytearray(_stored(site))
    blob[-3] ^= 1
    cache = BuildCache.open(site / ".commsite" / "build-cache", site / "public")
    cache.update_record({}, (), replace=False, reads=bytes(blob))
    cache.close()
    seen = _looked_into(monkeypatch)
    replace_in(site / STORIES / "2025-09-06-welcome.md", "Welcome, all", "Welcome, 3")
    _build(site)
    assert tree(site / "public") == clean_build(site, tmp_path, golden_now())
    assert len(seen) > len(tree(site / "public")) / 2  # every recording output
    assert decode_index(_stored(site)) is not None  # and a sound index again
