"""commsite.content.frontmatter: splitting files and keeping line numbers."""

from __future__ import annotations

from datetime import date

import pytest

from commsite.content.frontmatter import split_front_matter


def test_split_keeps_key_lines_and_body_line() -> None:
    text = "---\ntitle: Hello\n# a comment\ndate: 2026-10-01\ntags:\n  - a\n---\nBody\n"
    fm, problems = split_front_matter(text, "content/stories/x.md")
    assert problems == []
    assert fm is not None
    assert fm.meta == {"title": "Hello", "date": date(2026, 10, 1), "tags": ["a"]}
    assert fm.key_lines == {"title": 2, "date": 4, "tags": 5, "tags[1]": 6}
    assert fm.body == "Body\n"
    assert fm.body_line == 8


def test_empty_front_matter_and_empty_body() -> None:
    fm, problems = split_front_matter("---\n---\n", "p.md")
    assert problems == []
    assert fm is not None
    assert (fm.meta, fm.body, fm.body_line) == ({}, "", 3)


def test_closing_line_at_end_of_file_without_newline() -> None:
    fm, _ = split_front_matter("---\ntitle: x\n---", "p.md")
    assert fm is not None and fm.body == "" and fm.meta == {"title": "x"}


def test_front_matter_that_is_not_a_mapping() -> None:
    fm, problems = split_front_matter("---\n- a\n- b\n---\n", "p.md")
    assert fm is None
    assert [d.format() for d in problems] == [
        "p.md:2: error: the front matter must be keys and values (got a list); write one"
        " 'key: value' a line, e.g. 'title: Spring repair day'"
    ]


def test_an_unclosed_bracket_is_reported_where_it_was_opened() -> None:
    fm, problems = split_front_matter("---\ntitle: ok\nname: [unclosed\n---\n", "p.md")
    assert fm is None
    assert [d.format() for d in problems] == [
        "p.md:3: error: invalid YAML: '[' is never closed (the YAML parser gave up at line 4);"
        " close it with ']', or put the whole value in quotes if the '[' is meant as text"
    ]


def test_an_unclosed_brace_names_both_lines() -> None:
    text = "---\ntitle: ok\nlocation: {name: Hall\nhosts: [ada]\nstatus: scheduled\n---\n"
    _, problems = split_front_matter(text, "p.md")
    (problem,) = problems
    assert problem.line == 3
    assert problem.message == (
        "invalid YAML: '{' is never closed (the YAML parser gave up at line 4)"
    )


@pytest.mark.parametrize("quote", ['"', "'"])
def test_an_unclosed_quote_is_reported_where_it_was_opened(quote: str) -> None:
    text = f"---\ntitle: {quote}Spring day\ndate: 2026-03-14\ntags: [a]\n---\nbody\n"
    _, problems = split_front_matter(text, "p.md")
    (problem,) = problems
    assert problem.line == 2
    assert problem.message == (
        f"invalid YAML: the quote {quote} opened here is never closed"
        " (the YAML parser gave up at line 5)"
    )
    assert problem.hint == f"end the value with a closing {quote}"


def test_a_multi_line_list_left_open_points_at_its_start() -> None:
    text = "---\ntitle: ok\ntags: [\n  a,\n  b\ndate: 2026-01-01\n---\n"
    _, problems = split_front_matter(text, "p.md")
    (problem,) = problems
    assert problem.line == 3
    assert "gave up at line 6" in problem.message


def test_a_line_without_a_colon_is_named() -> None:
    _, problems = split_front_matter("---\ntitle: ok\nthis is text\ndate: x\n---\n", "p.md")
    (problem,) = problems
    assert problem.line == 3
    assert problem.message == "invalid YAML: this line is not 'key: value' (no ': ' found)"


def test_a_colon_inside_a_value_suggests_quotes() -> None:
    _, problems = split_front_matter("---\ntitle: Repair: the sequel\n---\n", "p.md")
    (problem,) = problems
    assert problem.line == 2
    assert problem.hint is not None and 'title: "Repair: the sequel"' in problem.hint


def test_tab_indentation_is_named() -> None:
    _, problems = split_front_matter("---\nlinks:\n\tWeb: https://x.example\n---\n", "p.md")
    (problem,) = problems
    assert problem.line == 3
    assert problem.message == "invalid YAML: found a tab"
    assert problem.hint == "indent with spaces (YAML does not allow tabs)"


def test_duplicate_keys_are_reported_at_the_second() -> None:
    fm, problems = split_front_matter("---\ntitle: a\ntitle: b\n---\n", "p.md")
    assert fm is not None
    assert [d.format() for d in problems] == [
        "p.md:3: error: duplicate key 'title' (also at line 2); keep one of them"
    ]


def test_toml_front_matter_is_named() -> None:
    fm, problems = split_front_matter('+++\ntitle = "A"\n+++\nbody\n', "p.md")
    assert fm is None
    assert [d.format() for d in problems] == [
        "p.md:1: error: the front matter is TOML (+++); commsite reads YAML front matter;"
        " write it between two '---' lines as 'key: value' lines"
        ' (title = "A" becomes title: "A")'
    ]


def test_blank_lines_before_the_front_matter_are_named() -> None:
    _, problems = split_front_matter("\n\n---\ntitle: a\n---\n", "p.md")
    assert [d.format() for d in problems] == [
        "p.md:1: error: the front matter must start on the first line;"
        " delete the empty lines above the first '---'"
    ]


def test_a_control_character_is_one_line_at_its_line() -> None:
    _, problems = split_front_matter("---\ntitle: a\nname: b\x00c\n---\n", "p.md")
    assert [d.format() for d in problems] == [
        "p.md:3: error: invalid YAML: the control character U+0000 is not allowed;"
        " delete it (it is invisible in most editors: retype the line)"
    ]
