"""commsite.content.frontmatter: splitting files and keeping line numbers."""

from __future__ import annotations

from datetime import date

from commsite.content.frontmatter import split_front_matter


def test_split_keeps_key_lines_and_body_line() -> None:
    text = "---\ntitle: Hello\n# a comment\ndate: 2026-10-01\ntags:\n  - a\n---\nBody\n"
    fm, problems = split_front_matter(text, "content/stories/x.md")
    assert problems == []
    assert fm is not None
    assert fm.meta == {"title": "Hello", "date": date(2026, 10, 1), "tags": ["a"]}
    assert fm.key_lines == {"title": 2, "date": 4, "tags": 5}
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


def test_yaml_error_line_is_the_file_line() -> None:
    fm, problems = split_front_matter("---\ntitle: ok\nname: [unclosed\n---\n", "p.md")
    assert fm is None
    (problem,) = problems
    assert problem.line == 4  # the YAML error is found at the closing line
    assert problem.message.startswith("invalid YAML: ")


def test_tab_indentation_is_named() -> None:
    _, problems = split_front_matter("---\nlinks:\n\tWeb: https://x.example\n---\n", "p.md")
    (problem,) = problems
    assert problem.line == 3
    assert "found a tab that cannot start any token" in problem.message


def test_duplicate_keys_are_reported_at_the_second() -> None:
    fm, problems = split_front_matter("---\ntitle: a\ntitle: b\n---\n", "p.md")
    assert fm is not None
    assert [d.format() for d in problems] == [
        "p.md:3: error: duplicate key 'title' (also at line 2); keep one of them"
    ]
