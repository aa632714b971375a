"""The build cache is data, never code, and a damaged cache is a miss.

The cache may come from a CI cache another branch wrote, or be damaged on disk.
Whatever is in it, a build never runs code from it, never fails because of it,
prints one warning when it finds damage, makes the output a clean build makes,
and leaves a cache the next build uses without a warning."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import random
import shutil
import sqlite3
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import commsite.themes
import jinja2
import jinja2.bccache
import pytest

from commsite.build.cache import DB_NAME, BuildCache
from commsite.build.cache_data import BadEntry, decode_parsed, encode_parsed
from commsite.build.cache_record import decode_states
from commsite.build.run import BuildOptions, BuildResult, build_site
from commsite.build.template_cache import FOLDER, KEY_NAME
from commsite.content.parse import ParsedFile, parse_file
from commsite.errors import CommsiteError, Diagnostic, Severity
from golden.regenerate import SITE, golden_now

EXAMPLE = Path(__file__).parent.parent / "example_site"
THEME = Path(commsite.themes.__file__).parent / "default" / "templates"
STORY = Path("content/stories/2025-09-06-welcome.md")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    return root


def cache_dir(root: Path) -> Path:
    return root / ".commsite" / "build-cache"


def build(root: Path, **options: object) -> BuildResult:
    result = build_site(BuildOptions(root=root, jobs=1, **options), now=golden_now())  # type: ignore[arg-type]
    assert result.ok, [d.format() for d in result.diagnostics]
    return result


def clean(root: Path, tmp: Path) -> dict[str, bytes]:
    output = tmp / "clean"
    shutil.rmtree(output, ignore_errors=True)
    build(root, output=output, cache=False)
    return tree(output)


def cache_warnings(result: BuildResult) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.path.startswith(".commsite/build-cache")]


def edit_story(root: Path) -> None:
    path = root / STORY
    path.write_text(path.read_text().replace("Welcome to the Menders", "Welcome, all"))


def settle(db: Path) -> None:
    """Fold the write-ahead log into the database file (a finished build leaves
    none: this is for a cache written by hand)."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def built_site(site: Path) -> Path:
    """The site built once: its cache holds every kind of entry. The database."""
    build(site)
    db = cache_dir(site) / DB_NAME
    with sqlite3.connect(db) as conn:
        for table in ("parsed", "made", "record", "stats", "meta"):
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert count, table
    return db


def after_damage(site: Path, tmp: Path, *, edit: bool = True) -> BuildResult:
    """Build after the cache was damaged (and a story edited, so the build reads
    every parsed file from the cache): the output is a clean build's; then the
    next build has no warning and nothing to do. The damaged build's result."""
    if edit:
        edit_story(site)
    result = build(site)
    assert tree(site / "public") == clean(site, tmp)
    again = build(site)
    assert cache_warnings(again) == []
    assert again.rendered == () and again.written == ()
    return result


def one_warning(result: BuildResult) -> Diagnostic:
    found = cache_warnings(result)
    assert len(found) == 1, [d.format() for d in result.diagnostics]
    assert found[0].severity is Severity.WARNING
    assert found[0].path == ".commsite/build-cache/cache.sqlite3"
    return found[0]


# --- code planted in the cache never runs ------------------------------------------


class Payload:
    """Unpickled, it makes the marker (as os.system("...") would run anything)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (os.mkdir, (str(self.marker),))


def template_buckets(site: Path) -> dict[str, str]:
    """Jinja2's bytecode cache key of each template of the site's theme, and the
    checksum of its source that a bytecode file must carry."""
    jinja_cache = jinja2.FileSystemBytecodeCache()
    found = {}
    for folder in (site / "theme" / "templates", THEME):
        for template in folder.rglob("*") if folder.is_dir() else ():
            if template.is_file():
                name = template.relative_to(folder).as_posix()
                key = jinja_cache.get_cache_key(name, str(template))
                found[key] = jinja_cache.get_source_checksum(template.read_text())
    return found


def planted_bytecode(key: str, checksum: str, marker: Path) -> bytes:
    bucket = jinja2.bccache.Bucket(None, key, checksum)  # type: ignore[arg-type]
    bucket.code = compile(f"__import__('os').mkdir({str(marker)!r})", "<planted>", "exec")
    return bucket.bytecode_to_string()


def plant_jinja_bytecode(site: Path, marker: Path) -> int:
    """A valid Jinja2 bytecode file for every template of the site's theme, where
    an older commsite (a FileSystemBytecodeCache in the cache folder) read them:
    loading any template would run the code. How many."""
    folder = cache_dir(site) / "templates"
    folder.mkdir(exist_ok=True)
    buckets = template_buckets(site)
    for key, checksum in buckets.items():
        (folder / f"__jinja2_{key}.cache").write_bytes(planted_bytecode(key, checksum, marker))
    return len(buckets)


def sign_planted_bytecode(site: Path, marker: Path, key: bytes) -> int:
    """Code that makes the marker, as the compiled form of every template of the
    site's theme, signed with `key`. How many."""
    buckets = template_buckets(site)
    for name, checksum in buckets.items():
        payload = planted_bytecode(name, checksum, marker)
        mac = hmac.digest(key, name.encode() + b"\0" + payload, "sha256")
        (cache_dir(site) / FOLDER / f"{name}.code").write_bytes(mac + payload)
    return len(buckets)


def test_code_planted_in_every_cache_entry_never_runs(site: Path, tmp_path: Path) -> None:
    """A pickle that would create a file, planted with a valid checksum in every
    stored value, and Jinja2 bytecode that would do the same in the old template
    cache folder: the build creates no file, warns once and builds a clean site.
    Compiled templates signed with another key (any key but the one in the data
    folder) are not loaded either. (Before, the parsed files were pickles under a
    checksum of their own bytes, and templates were loaded from that bytecode
    cache: the marker was made.)"""
    db = built_site(site)
    marker = tmp_path / "marker"
    payload = pickle.dumps(Payload(marker), protocol=pickle.HIGHEST_PROTOCOL)
    checksum = hashlib.sha256(payload).digest()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE parsed SET checksum=?, value=?", (checksum, payload))
        conn.execute("UPDATE made SET checksum=?, value=?", (checksum, payload))
        conn.execute("UPDATE record SET fingerprint=?, inputs=?", (payload, payload))
        conn.execute("UPDATE meta SET value=? WHERE key != 'format'", (payload,))
    settle(db)
    assert plant_jinja_bytecode(site, marker) > 5
    assert sign_planted_bytecode(site, marker, key=b"\0" * 32) > 5
    pickle.loads(payload)  # (the payload works: it makes the marker)
    assert marker.exists()
    marker.rmdir()

    result = after_damage(site, tmp_path)
    assert not marker.exists()
    assert "was deleted and made again" in one_warning(result).message
    assert not (cache_dir(site) / "templates").exists()  # the old format's folder is gone


def test_the_cache_holds_no_pickle_and_only_signed_bytecode(site: Path) -> None:
    db = built_site(site)
    edit_story(site)
    build(site)
    assert sorted(p.name for p in cache_dir(site).iterdir()) == [
        ".gitignore",
        DB_NAME,
        FOLDER,
        "last-build.json",
    ]
    key = site / ".commsite" / KEY_NAME  # (beside the cache folder, not in it)
    assert len(key.read_bytes()) == 32 and key.stat().st_mode & 0o777 == 0o600
    assert (site / ".commsite" / ".gitignore").read_text() == "*\n"  # (never committed)
    with sqlite3.connect(db) as conn:
        for table in ("parsed", "made"):
            for (value,) in conn.execute(f"SELECT value FROM {table}"):
                assert not value.startswith(b"\x80")  # a pickle's first byte (protocol 2+)
                value.decode("utf-8")


# --- damage -----------------------------------------------------------------------


def flip(path: Path, seed: int, count: int = 50) -> None:
    """Flip one bit in each of `count` bytes at seeded random positions."""
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for _ in range(count if data else 0):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("seed", range(6))
def test_fifty_flipped_bytes_in_the_database(site: Path, tmp_path: Path, seed: int) -> None:
    """Wherever they land, the next build warns at most once (damage where nothing
    reads, such as free space in a page, changes nothing and is not seen), and
    the build after it has no warning and nothing to do."""
    db = built_site(site)
    flip(db, seed)
    result = after_damage(site, tmp_path)
    assert len(cache_warnings(result)) <= 1  # (most seeds: one; see damage_values)


def test_templates_compiled_on_another_machine_are_compiled_again(
    site: Path, tmp_path: Path
) -> None:
    """A cache restored from a CI cache: its compiled templates are signed with
    another key. They are compiled again and signed anew, without a warning."""
    built_site(site)
    compiled = {p: p.read_bytes() for p in (cache_dir(site) / FOLDER).iterdir()}
    (site / ".commsite" / KEY_NAME).write_bytes(b"\1" * 32)
    result = after_damage(site, tmp_path)
    assert cache_warnings(result) == []
    again = {p: p.read_bytes() for p in (cache_dir(site) / FOLDER).iterdir()}
    assert again.keys() >= compiled.keys()
    assert any(again[p] != compiled[p] for p in compiled)  # (those this build used)


def test_code_signed_with_the_key_is_loaded(site: Path, tmp_path: Path) -> None:
    """What the key guards (so the test above can fail): compiled templates
    signed with it are run as they are."""
    built_site(site)
    marker = tmp_path / "marker"
    sign_planted_bytecode(site, marker, (site / ".commsite" / KEY_NAME).read_bytes())
    edit_story(site)
    result = build(site)  # (the planted code ran, and failed as a template: built again)
    assert marker.is_dir()
    assert "KeyError" in one_warning(result).message


@pytest.mark.parametrize("seed", range(3))
def test_fifty_flipped_bytes_in_every_cache_file(site: Path, tmp_path: Path, seed: int) -> None:
    built_site(site)
    for path in cache_dir(site).rglob("*"):
        if path.is_file():
            flip(path, seed)
    after_damage(site, tmp_path)
    assert (cache_dir(site) / ".gitignore").read_text() == "*\n"
    json.loads((cache_dir(site) / "last-build.json").read_text())


def damage_values(db: Path) -> None:
    """Flip a byte inside what each table stores (still valid UTF-8 and JSON):
    a checksum or a type check finds each."""
    with sqlite3.connect(db) as conn:
        conn.create_function("flip", 1, lambda b: b[:-3] + bytes([b[-3] ^ 1]) + b[-2:])
        conn.execute("UPDATE parsed SET value = flip(value)")
        conn.execute("UPDATE made SET value = flip(value)")
        conn.execute("UPDATE meta SET value = replace(value, 'a', 'b') WHERE key != 'format'")
        conn.execute("UPDATE stats SET sha = x'00'")


def truncate(db: Path) -> None:
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])


def zero_length(db: Path) -> None:
    db.write_bytes(b"")


def folder(db: Path) -> None:
    db.unlink()
    (db / "inside").mkdir(parents=True)


def newer_format(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value='commsite-build-cache 999' WHERE key='format'")


def older_format(db: Path) -> None:
    """The format-5 cache: pickles, and no checksum on federation objects."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value='commsite-build-cache 5' WHERE key='format'")
        conn.execute("DROP TABLE made")
        conn.execute("CREATE TABLE made (key BLOB PRIMARY KEY, value BLOB NOT NULL)")


def duplicated_record(db: Path) -> None:
    """What an index missing its rows leads to: the same output twice in the record."""
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE record RENAME TO old")
        conn.execute("CREATE TABLE record AS SELECT * FROM old")  # (no key: room for twins)
        conn.execute("INSERT INTO record SELECT * FROM old LIMIT 3")
        conn.execute("DROP TABLE old")


def damaged_path(db: Path) -> None:
    """A letter of a recorded output path changed (its documents' entries vouch for
    their paths: a feed planned as feed.xmz made the build fail, every time)."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE record SET path='feed.xmz' WHERE path='feed.xml'")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "a damaged output path": damaged_path,
    "damaged values": damage_values,
    "truncated": truncate,
    "zero length": zero_length,
    "a folder in its place": folder,
    "a newer format": newer_format,
    "an older format": older_format,
    "an output twice in the record": duplicated_record,
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_database_is_one_warning_and_made_again(
    site: Path, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    db = built_site(site)
    settle(db)
    damage(db)
    warning = one_warning(after_damage(site, tmp_path))
    assert warning.format().startswith(
        ".commsite/build-cache/cache.sqlite3: warning: the build cache was damaged ("
    )
    assert warning.hint is not None and "nothing to do" in warning.hint


def set_path(db: Path, old: str, new: str) -> None:
    """Give a record row another path, with the check that goes with it."""
    with sqlite3.connect(db) as conn:
        (inputs,) = conn.execute("SELECT inputs FROM record WHERE path=?", (old,)).fetchone()
        crc = zlib.crc32(inputs, zlib.crc32(new.encode()))
        conn.execute("UPDATE record SET path=?, path_check=? WHERE path=?", (new, crc, old))


def test_a_record_row_under_another_path_vouches_for_nothing(site: Path, tmp_path: Path) -> None:
    """Written by someone else, consistent row by row, wrong as a whole: a document's
    record is looked up by its own path, so the feed's row under another path is
    an output that no longer exists, and the feed is made again. (A build that
    failed with it, as builds whose feeds were vouched for by a group's inputs
    did, would be done again with a new cache, warning once.)"""
    db = built_site(site)
    set_path(db, "feed.xml", "feed.xmz")
    result = after_damage(site, tmp_path, edit=False)
    assert cache_warnings(result) == [] and "feed.xml" not in result.written


def test_a_recorded_path_outside_the_output_is_refused(site: Path, tmp_path: Path) -> None:
    """A removed output is deleted by its recorded path: one that leaves the output
    is never trusted."""
    db = built_site(site)
    outside = site / "keep.txt"
    outside.write_text("keep me\n")
    set_path(db, "404.html", "../keep.txt")
    one_warning(after_damage(site, tmp_path))
    assert outside.read_text() == "keep me\n"


@pytest.mark.parametrize(
    "row",
    [
        ("../keep.txt", 10, 1),
        ("stories/\0/index.html", 10, 1),
        ("index.html", "10", 1),
        ("index.html", 10, 1.5),
        (b"index.html", 10, 1),
        ("404.html", 10, 1),  # (a second row for the same path)
    ],
)
def test_the_no_change_check_refuses_a_record_row_it_cannot_look_at(row: tuple) -> None:
    """The no-change check reads each output's path, size and time alone
    (`BuildCache.get_states`), and stats the path: a row of another shape or a path
    that leaves the output refuses them all (the build then goes the whole way)."""
    good = [("index.html", 10, 1), ("404.html", 20, 2), (".well-known/webfinger", 5, 3)]
    assert decode_states(good) == good
    assert decode_states([*good, row]) is None


def test_an_output_changed_on_disk_is_made_again_by_a_build_with_nothing_to_do(
    site: Path,
) -> None:
    built_site(site)
    page = site / "public" / "rules" / "index.html"
    page.write_text("changed by hand\n")
    result = build(site)
    assert "rules/index.html" in result.written and page.read_text() != "changed by hand\n"


def test_damage_found_by_a_build_with_nothing_to_do(site: Path, tmp_path: Path) -> None:
    """The no-change check reads only the record, the stats and its own value; damage
    there sends the build through the whole pipeline, which makes the cache again."""
    db = built_site(site)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE stats SET sha = x'00'")
    one_warning(after_damage(site, tmp_path, edit=False))


def test_a_damaged_cache_does_not_fail_a_strict_build(site: Path, tmp_path: Path) -> None:
    db = built_site(site)
    settle(db)
    truncate(db)
    result = build(site, strict=True)
    one_warning(result)


def test_links_and_folders_in_the_cache_are_replaced_not_followed(
    site: Path, tmp_path: Path
) -> None:
    """A CI cache is a tar archive: it can hold links. The build replaces them and
    never writes through them."""
    db = built_site(site)
    outside = tmp_path / "outside"
    outside.write_text("keep me\n")
    folder = cache_dir(site)
    db.unlink()
    db.symlink_to(outside)
    (folder / ".gitignore").unlink()
    (folder / ".gitignore").symlink_to(outside)
    (folder / "last-build.json").unlink()
    (folder / "last-build.json").mkdir()
    (folder / f".last-build.json.{os.getpid()}").symlink_to(outside)
    one_warning(after_damage(site, tmp_path, edit=False))
    assert outside.read_text() == "keep me\n"
    assert not db.is_symlink() and (folder / ".gitignore").read_text() == "*\n"
    assert json.loads((folder / "last-build.json").read_text())["ok"] is True


def test_a_file_where_the_cache_folder_belongs(site: Path, tmp_path: Path) -> None:
    (site / ".commsite").mkdir()
    cache_dir(site).write_text("not a folder\n")
    result = build(site)
    assert cache_warnings(result) == []  # (nothing was damaged: the file is replaced)
    assert (cache_dir(site) / DB_NAME).is_file()
    assert build(site).rendered == ()


def test_an_unusable_cache_folder_is_one_warning(site: Path, tmp_path: Path) -> None:
    """A cache folder that cannot be written (here: a file in the data folder's
    place) is one warning; the build does without a cache."""
    (site / ".commsite").write_text("not a folder\n")
    result = build(site)
    (warning,) = cache_warnings(result)
    assert "cannot be used" in warning.message
    assert tree(site / "public") == clean(site, tmp_path)


# --- the parsed files' plain form -------------------------------------------------


def content_files() -> list[tuple[str, str, bytes]]:
    kinds = {"stories": "story", "members": "member", "events": "event", "pages": "page"}
    found = []
    for root in (SITE, EXAMPLE):
        for path in sorted((root / "content").rglob("*.md")):
            rel = path.relative_to(root).as_posix()
            kind = "rules" if path.name == "rules.md" else kinds.get(path.parent.name)
            if kind is not None:
                found.append((kind, rel, path.read_bytes()))
    return found


def test_every_parsed_file_reads_back_as_it_was() -> None:
    """Equal, and with equal reprs (page fingerprints digest reprs): datetimes keep
    their UTC offsets, tuples stay tuples, diagnostics keep their severity."""
    files = content_files()
    assert len(files) > 20
    for kind, rel, data in files:
        parsed = parse_file(kind, rel, data)
        again = decode_parsed(encode_parsed(parsed))
        assert again == parsed and repr(again) == repr(parsed), rel


def test_every_field_and_value_kind_reads_back() -> None:
    front = (
        "title: X\ndate: 2026-01-01T10:00:00.5+05:30\nupdated: 2026-01-02 09:30:00\n"
        "tags: [a, b]\ndraft: true\nsize: 3\n"
    )
    story = parse_file("story", "content/stories/x.md", f"---\n{front}---\nHi *there*.\n".encode())
    member = parse_file(
        "member",
        "content/members/ada.md",
        b"---\nname: Ada\njoined: 2024-05-01\nlinks:\n  Site: https://a.example/\n---\nHi.\n",
    )
    event = parse_file(
        "event",
        "content/events/e.md",
        b"---\ntitle: E\nstart: 2026-03-14T10:00:00Z\ncapacity: 12\n"
        b"location: {name: Hall, url: 'https://hall.example/'}\n---\nCome.\n",
    )
    rules = parse_file("rules", "content/rules.md", b"---\ntitle: R\n---\n3. Be kind\n4. Share\n")
    assert story.diagnostics and story.meta["date"].utcoffset() == timedelta(hours=5, minutes=30)  # type: ignore[attr-defined]
    assert event.meta["start"].utcoffset() == timedelta(0)  # type: ignore[attr-defined]
    assert rules.rule_items and rules.rule_start == 3
    for parsed in (story, member, event, rules):
        again = decode_parsed(encode_parsed(parsed))
        assert again == parsed and repr(again) == repr(parsed)
        assert [type(v) for v in again.meta.values()] == [type(v) for v in parsed.meta.values()]


def test_a_value_with_no_plain_form_is_not_stored() -> None:
    parsed = ParsedFile("page", "content/pages/x.md", {"title": 1.5}, {}, "", "", (), 1, (), True)
    with pytest.raises(BadEntry):
        encode_parsed(parsed)


GOOD = encode_parsed(
    ParsedFile(
        "story",
        "content/stories/x.md",
        {"title": "X", "date": date(2026, 1, 1), "updated": datetime(2026, 1, 2, tzinfo=UTC)},
        {"title": 2},
        "<p>x</p>",
        "x",
        ("a",),
        1,
        (Diagnostic("content/stories/x.md", 3, "m", Severity.WARNING, None),),
        True,
        (("/stories/y/", 4, False),),
    )
)


def tampered(
    change: Callable[[list[object]], object], body: bytes = b"<p>x</p>", after: bytes = b""
) -> bytes:
    """GOOD with its JSON head changed, `after` it (and lengths that fit)."""
    first, _, rest = GOOD.partition(b"\n")
    size = int(first.split()[0])
    head = json.loads(rest[:size])
    change(head)
    text = json.dumps(head).encode() + after
    return b"%d %d\n%b%bx" % (len(text), len(body), text, body)


BAD: dict[str, bytes] = {
    "a pickle": pickle.dumps({"x": 1}),
    "no lengths": GOOD.partition(b"\n")[2],
    "lengths past the end": b"10 99999\n" + GOOD.partition(b"\n")[2],
    "a negative length": b"-1 5\n" + GOOD.partition(b"\n")[2],
    "cut short": GOOD[:40],
    "not utf-8": tampered(lambda d: None, body=b"\xff\xfe<p>"),
    "a mapping": tampered(lambda d: d.clear()),
    "eight fields": tampered(lambda d: d.pop()),
    "an unknown kind": tampered(lambda d: d.__setitem__(0, "post")),
    "a key the schema lacks": tampered(lambda d: d[2].__setitem__("evil", ["s", "x"])),  # type: ignore[index]
    "an unknown tag": tampered(lambda d: d[2].__setitem__("title", ["o", "x"])),  # type: ignore[index]
    "a date that is not one": tampered(lambda d: d[2].__setitem__("date", ["d", "2026-13-01"])),  # type: ignore[index]
    "a number for text": tampered(lambda d: d[2].__setitem__("title", ["s", 1])),  # type: ignore[index]
    "true as a number": tampered(lambda d: d.__setitem__(5, True)),
    "a line that is text": tampered(lambda d: d[3].__setitem__("title", "2")),  # type: ignore[index]
    "an unknown severity": tampered(lambda d: d[6][0].__setitem__(3, "fatal")),  # type: ignore[index]
    "rule items that are not text": tampered(lambda d: d.__setitem__(4, [1])),
    "a link's line that is text": tampered(lambda d: d[8][0].__setitem__(1, "4")),  # type: ignore[index]
    "a link that is not a triple": tampered(lambda d: d[8].__setitem__(0, ["/x/"])),  # type: ignore[index]
    "no links as null": tampered(lambda d: d.__setitem__(8, None)),
    "no rule items as zero": tampered(lambda d: d.__setitem__(4, 0)),
    "no diagnostics as a mapping": tampered(lambda d: d.__setitem__(6, {})),
    "a text value of three parts": tampered(lambda d: d[2].__setitem__("title", ["s", "X", "Y"])),  # type: ignore[index]
    "text after the head": tampered(lambda d: None, after=b" "),
}


def test_tampering_keeps_the_layout() -> None:
    """(So that each case below is refused for what it names.)"""
    assert decode_parsed(tampered(lambda d: None)).body_html == "<p>x</p>"


def test_good_reads() -> None:
    assert decode_parsed(GOOD).meta["updated"] == datetime(2026, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize("blob", BAD.values(), ids=BAD.keys())
def test_anything_else_is_a_miss(blob: bytes) -> None:
    with pytest.raises(BadEntry):
        decode_parsed(blob)


@pytest.mark.parametrize("wanted", [7, 1100, 1490])
def test_parsed_entries_read_back_checked_however_many_are_asked(
    tmp_path: Path, wanted: int
) -> None:
    """A few keys are looked up; most of the table is read in one pass (a new
    process loads every file). Either way: only the keys asked, and a damaged
    entry among them is a miss and is said, one among the others is not."""
    cache = BuildCache.open(tmp_path / "cache", tmp_path / "public")
    entries = {b"k%05d" % n: b"value %d" % n for n in range(1500)}
    cache.put_parsed(entries, keep=list(entries))
    cache.close()
    with sqlite3.connect(tmp_path / "cache" / DB_NAME) as db:
        for key in (b"k00003", b"k01400"):
            db.execute("UPDATE parsed SET value = ? WHERE key = ?", (b"flipped", key))
    db.close()
    cache = BuildCache.open(tmp_path / "cache", tmp_path / "public")
    keys = [*list(entries)[10 : 10 + wanted], b"absent"]
    found = cache.get_parsed(keys)
    damaged = {b"k00003", b"k01400"} & set(keys)
    assert found == {k: entries[k] for k in keys if k in entries and k not in damaged}
    assert cache.damaged == (wanted == 1490)
    assert damaged == ({b"k01400"} if wanted == 1490 else set())
    cache.close()


def test_a_build_failing_for_its_own_reasons_keeps_the_cache(site: Path) -> None:
    """Only unexpected errors are put down to the cache: an error that says what is
    wrong (or a full disk) leaves the cache as it was."""
    db = built_site(site)

    def parsed() -> int:
        with sqlite3.connect(db) as conn:
            (count,) = conn.execute("SELECT count(*) FROM parsed").fetchone()
        return int(count)

    before = parsed()
    shutil.rmtree(site / "public")
    (site / "public").write_text("a file where the output goes\n")
    edit_story(site)
    with pytest.raises(CommsiteError, match="is not a directory"):
        build_site(BuildOptions(root=site, jobs=1), now=golden_now())
    assert parsed() == before + 1  # (kept, and the edited story's parse added)
