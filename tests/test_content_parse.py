"""commsite.content.parse: one file's bytes to checked values and HTML."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml

from commsite.content.parse import KINDS, PARSER_VERSION, ParsedFile, parse_file
from commsite.content.yamltext import parse_yaml


def story(front: str, body: str = "Body text.\n") -> ParsedFile:
    return parse_file("story", "content/stories/x.md", f"---\n{front}---\n{body}".encode())


def lines(parsed: ParsedFile) -> list[str]:
    return [d.format() for d in parsed.diagnostics]


def test_a_valid_story() -> None:
    p = story(
        "title: Hello\ndate: 2026-10-01\nauthors: [ada, bo]\ntags: [a, b]\n"
        "image: /images/x.png\nimage_alt: A photo\ndraft: false\n"
    )
    assert p.ok and lines(p) == []
    assert p.meta == {
        "title": "Hello",
        "date": date(2026, 10, 1),
        "authors": ("ada", "bo"),
        "tags": ("a", "b"),
        "image": "images/x.png",
        "image_alt": "A photo",
        "draft": False,
    }
    assert p.key_lines["image"] == 6
    assert p.body_html == "<p>Body text.</p>\n"
    assert p.summary == "Body text."


def test_parsed_file_pickles() -> None:
    p = story("title: Hello\ndate: 2026-10-01T10:00:00+02:00\n")
    assert pickle.loads(pickle.dumps(p)) == p


def test_parser_version_and_kinds() -> None:
    assert PARSER_VERSION.startswith("4/")
    assert KINDS == ("story", "member", "event", "rules", "page")
    with pytest.raises(ValueError, match="unknown content kind"):
        parse_file("post", "content/posts/x.md", b"---\n---\n")


def test_datetimes_as_yaml_gives_them() -> None:
    p = story("title: a\ndate: 2026-10-01T10:00:00+02:00\nupdated: 2026-10-02 09:30:00\n")
    assert p.meta["date"] == datetime(2026, 10, 1, 8, tzinfo=UTC)
    assert p.meta["date"].utcoffset() == timedelta(hours=2)  # type: ignore[attr-defined]
    assert p.meta["updated"] == datetime(2026, 10, 2, 9, 30)  # naive: localised later


def test_quoted_and_short_iso_datetimes_are_accepted() -> None:
    p = story('title: a\ndate: "2026-10-01T10:00"\nupdated: "2026-10-01T10:00:00Z"\n')
    assert lines(p) == []
    assert p.meta["date"] == datetime(2026, 10, 1, 10)
    assert p.meta["updated"] == datetime(2026, 10, 1, 10, tzinfo=UTC)


def test_single_author_and_single_tag() -> None:
    p = story("title: a\ndate: 2026-10-01\nauthor: ada\ntags: repair\n")
    assert p.meta["author"] == "ada"
    assert p.meta["tags"] == ("repair",)


def test_author_and_authors_together() -> None:
    p = story("title: a\ndate: 2026-10-01\nauthor: ada\nauthors: [bo]\n")
    assert lines(p) == [
        "content/stories/x.md:4: error: both 'author' and 'authors' are given; list everyone"
        " under 'authors' and remove 'author'"
    ]
    assert not p.ok


def test_summary_in_front_matter_wins() -> None:
    p = story("title: a\ndate: 2026-10-01\nsummary: Short.\n", "Long body.\n")
    assert p.summary == "Short."


def test_empty_optional_key_counts_as_absent_but_empty_title_is_an_error() -> None:
    p = story("title: ''\ndate: 2026-10-01\ntags:\n")
    assert "tags" not in p.meta
    assert lines(p) == [
        "content/stories/x.md:2: error: 'title' is empty; give it a value: title: Spring repair day"
    ]
    # A required key left empty is not told to go away.
    p = story("title:\ndate: 2026-10-01\n")
    assert lines(p) == [
        "content/stories/x.md:2: error: 'title' is empty; give it a value: title: Spring repair day"
    ]


def test_numbers_are_accepted_as_text() -> None:
    p = story("title: 1984\ndate: 2026-10-01\n")
    assert p.ok and p.meta["title"] == "1984"


def test_crlf_and_bom() -> None:
    data = "\ufeff---\r\ntitle: a\r\ndate: 2026-10-01\r\n---\r\nBody\r\n".encode()
    p = parse_file("story", "content/stories/x.md", data)
    assert p.ok and p.body_html == "<p>Body</p>\n"


def test_unknown_key_is_a_warning_and_dropped() -> None:
    p = story("title: a\ndate: 2026-10-01\ntagz: [x]\n")
    assert p.ok
    assert "tagz" not in p.meta
    assert lines(p) == ["content/stories/x.md:4: warning: unknown key 'tagz'; did you mean 'tags'?"]


def test_event_location_forms_and_defaults() -> None:
    text = "---\ntitle: E\nstart: 2026-05-01T10:00:00\nlocation: The hall\n---\n"
    p = parse_file("event", "content/events/e.md", text.encode())
    assert p.ok and p.meta["location"] == {"name": "The hall"}
    text = (
        "---\ntitle: E\nstart: 2026-05-01T10:00:00\nlocation:\n  name: Hall\n"
        "  url: https://hall.example\nonline: https://meet.example/x\ncapacity: 12\n"
        "status: postponed\n---\n"
    )
    p = parse_file("event", "content/events/e.md", text.encode())
    assert lines(p) == []
    assert p.meta["location"] == {"name": "Hall", "url": "https://hall.example"}
    assert p.meta["capacity"] == 12 and p.meta["status"] == "postponed"


def test_location_mapping_needs_a_name() -> None:
    text = "---\ntitle: E\nstart: 2026-05-01T10:00:00\nlocation:\n  address: 1 Road\n---\n"
    p = parse_file("event", "content/events/e.md", text.encode())
    assert lines(p) == [
        "content/events/e.md:4: error: 'location' needs a 'name'; add 'name: ...' under it"
    ]


def test_capacity_must_be_a_positive_integer_not_a_bool() -> None:
    text = "---\ntitle: E\nstart: 2026-05-01T10:00:00\ncapacity: true\n---\n"
    p = parse_file("event", "content/events/e.md", text.encode())
    assert lines(p) == [
        "content/events/e.md:4: error: 'capacity' must be a positive whole number (got true)"
    ]


def test_member_fields() -> None:
    text = (
        "---\nname: Ada\nhandle: '@ada@social.example'\njoined: 2025-05-01T10:00:00\n"
        "links:\n  Web: https://ada.example\n  Code: https://git.example/ada\n---\nBio.\n"
    )
    p = parse_file("member", "content/members/ada.md", text.encode())
    assert lines(p) == []
    assert p.meta["joined"] == date(2025, 5, 1)
    assert p.meta["links"] == (("Web", "https://ada.example"), ("Code", "https://git.example/ada"))


def test_image_must_not_be_a_url_or_leave_static() -> None:
    p = story("title: a\ndate: 2026-10-01\nimage: https://x.example/a.png\n")
    assert lines(p) == [
        "content/stories/x.md:4: error: 'image' must be a path under static/, not a web address"
        ' (got "https://x.example/a.png"); put the file in static/ and give its path,'
        " e.g. images/photo.jpg"
    ]
    p = story("title: a\ndate: 2026-10-01\nimage: ../secret.png\n")
    assert not p.ok


def test_slug_override_must_fit_a_url() -> None:
    p = story("title: a\ndate: 2026-10-01\nslug: two words\n")
    assert lines(p) == [
        "content/stories/x.md:4: error: 'slug' cannot be used in a web address (got"
        " \"two words\"); use lowercase letters, digits and hyphens, e.g. 'spring-repair-day'"
    ]
    p = story('title: a\ndate: 2026-10-01\nslug: "bell\\x07"\n')
    assert not p.ok


def test_rules_items_and_anchors() -> None:
    text = "---\ntitle: Rules\nupdated: 2026-01-10\n---\n1. Be kind.\n2. Share.\n"
    p = parse_file("rules", "content/rules.md", text.encode())
    assert p.ok and p.rule_items == ("Be kind.", "Share.") and p.rule_start == 1
    assert '<li id="rule-2">Share.</li>' in p.body_html


def test_page() -> None:
    p = parse_file("page", "content/pages/about.md", b"---\ntitle: About\n---\nWe fix.\n")
    assert p.ok and p.meta == {"title": "About"} and p.summary == "We fix."


def test_file_without_front_matter_is_not_ok() -> None:
    p = parse_file("page", "content/pages/about.md", b"# About\n")
    assert not p.ok and p.body_html == "" and len(p.diagnostics) == 1


def test_a_capitalised_required_key_is_named() -> None:
    p = story("Title: a\ndate: 2026-10-01\n")
    assert sorted(lines(p)) == [
        "content/stories/x.md:2: error: missing required key 'title'; rename 'Title' to 'title'"
        " (keys are lowercase)",
        "content/stories/x.md:2: warning: unknown key 'Title'; did you mean 'title'?",
    ]


def test_a_list_where_one_value_is_expected() -> None:
    p = story("title: a\ndate: 2026-10-01\nevent: [spring-day]\n")
    assert lines(p) == [
        "content/stories/x.md:4: error: 'event' must be text (got a list); give one value,"
        " not a list: event: spring-day"
    ]


def test_a_profile_address_as_handle_suggests_the_handle() -> None:
    text = "---\nname: Ada\nhandle: https://mastodon.social/@ada\n---\n"
    p = parse_file("member", "content/members/ada.md", text.encode())
    assert lines(p) == [
        "content/members/ada.md:3: error: 'handle' must be a fediverse handle @user@host, not a"
        ' profile address (got "https://mastodon.social/@ada"); write "@ada@mastodon.social"'
        " (in quotes)"
    ]


def test_numbers_in_lists_are_text_and_bad_items_are_found_on_their_line() -> None:
    p = story("title: a\ndate: 2026-10-01\ntags: [2026, 1.5]\n")
    assert p.ok and p.meta["tags"] == ("2026", "1.5")
    p = story("title: a\ndate: 2026-10-01\ntags:\n  - fine\n  - true\n")
    assert lines(p) == [
        "content/stories/x.md:6: error: 'tags' must be a list of text (item 2 is true);"
        " put quotes around each item"
    ]


def test_a_parsed_file_pickles_through_its_constructor_with_every_field() -> None:
    """Parse workers send ParsedFiles to the build pickled; a field left out of
    __reduce__ would lose it on the way. (The build cache stores them as JSON:
    tests/test_build_cache_trust.py.)"""
    parsed = parse_file(
        "story",
        "content/stories/2026-01-01-x.md",
        b"---\ntitle: X\ndate: 2026-01-01\ntags: [a]\nsize: 3\n---\nHello *there*.\n",
    )
    assert parsed.diagnostics  # (the unknown key: every field holds something)
    assert len(parsed.__reduce__()[1]) == len(dataclasses.fields(parsed))
    again = pickle.loads(pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == parsed and again is not parsed


# --- YAML read as typed (YAML 1.2 core schema) -------------------------------------


def event(front: str) -> ParsedFile:
    return parse_file("event", "content/events/x.md", f"---\n{front}---\nBody.\n".encode())


def test_a_time_of_day_stays_as_typed_and_an_end_time_is_on_the_start_s_day() -> None:
    # YAML 1.1 read 17:00 as the base-60 number 1020 ("got 1020").
    p = event("title: a\nstart: 2026-05-01T18:00:00+02:00\nend: 23:30\n")
    assert p.ok, lines(p)
    assert p.meta["end"] == datetime.fromisoformat("2026-05-01T23:30:00+02:00")
    p = event("title: a\nstart: 2026-05-01T18:00:00\nend: 9:05:30\n")
    assert p.meta["end"] == datetime(2026, 5, 1, 9, 5, 30)
    p = event("title: a\nstart: 17:00\nend: 18:00\n")
    assert "end" not in p.meta
    assert lines(p) == [
        "content/events/x.md:3: error: 'start' is not a date and time (got \"17:00\");"
        " use YYYY-MM-DDTHH:MM:SS (in the site's time zone) or YYYY-MM-DDTHH:MM:SS+HH:MM,"
        " e.g. 2026-03-14T18:00:00+01:00"
    ]


@pytest.mark.parametrize("word", ["no", "on", "off", "yes", "No", "ON"])
def test_yes_no_on_off_are_text_where_text_is_expected(word: str) -> None:
    p = story(f"title: {word}\ndate: 2026-10-01\ntags: [{word}]\nsummary: {word}\n")
    assert p.ok, lines(p)
    assert (p.meta["title"], p.meta["tags"], p.meta["summary"]) == (word, (word,), word)


@pytest.mark.parametrize(
    ("written", "meant"),
    [("yes", True), ("no", False), ("on", True), ("Off", False), ("true", True), ("FALSE", False)],
)
def test_yes_no_on_off_still_mean_true_and_false_where_a_boolean_is_expected(
    written: str, meant: bool
) -> None:
    p = story(f"title: a\ndate: 2026-10-01\ndraft: {written}\n")
    assert p.ok, lines(p)
    assert p.meta["draft"] is meant


def test_numbers_are_read_as_yaml_1_2_reads_them() -> None:
    p = story("title: 010\ndate: 2026-10-01\ntags: [1_000, 0x1F, 12:30, 1.5]\n")
    assert p.meta["title"] == "10"  # not octal 8
    assert p.meta["tags"] == ("1_000", "31", "12:30", "1.5")  # not 1000, not 750


@pytest.mark.parametrize(
    "value",
    ["17:00", "1:30:00", "no", "on", "Off", "y", "010", "09", "0o17", "1e3", "1.5e3", "1_000",
     "0x1F", "-0x1F", ".inf", "+12", "2026-02-30", "null", "~", "", "true", "1.5", "abc"],
)  # fmt: skip
def test_what_yaml_safe_dump_writes_reads_back_unchanged(value: str) -> None:
    """Files written by yaml.safe_dump (YAML 1.1: it quotes what 1.1 would misread),
    such as the exported interactions/, read back as written."""
    for data in ({"k": value}, {"k": [value]}, {"k": 12}, {"k": 1.5}, {"k": True}):
        doc, problem = parse_yaml(yaml.safe_dump(data), "x.yaml", 1)
        assert problem is None and doc is not None
        assert doc.data == data


def test_a_comma_separated_list_is_taken_as_the_list_with_a_warning() -> None:
    p = story("title: a\ndate: 2026-10-01\ntags: recap, bouldering\nauthors: ada,bo\n")
    assert p.ok
    assert p.meta["tags"] == ("recap", "bouldering")
    assert p.meta["authors"] == ("ada", "bo")
    assert lines(p) == [
        "content/stories/x.md:4: warning: 'tags' is one text with commas"
        ' ("recap, bouldering"); read as 2 items; write it as a list: tags: [recap, bouldering]',
        "content/stories/x.md:5: warning: 'authors' is one text with commas (\"ada,bo\");"
        " read as 2 items; write it as a list: authors: [ada, bo]",
    ]
    p = story('title: a\ndate: 2026-10-01\ntags: ["rock, paper, scissors", b]\n')
    assert p.meta["tags"] == ("rock, paper, scissors", "b") and not p.diagnostics
