"""Broken files under interactions/ give one-line diagnostics at their line."""

from __future__ import annotations

from pathlib import Path

from commsite.content.interactions import load_interactions


def test_a_yaml_error_in_reactions_is_one_line_at_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "interactions"
    folder.mkdir()
    (folder / "reactions.yaml").write_text(
        "stories/a:\n  likes: 1\nstories/b: {likes: 2\n", encoding="utf-8"
    )
    _, problems = load_interactions(tmp_path)
    assert [d.format() for d in problems] == [
        "interactions/reactions.yaml:3: error: invalid YAML: '{' is never closed (the YAML"
        " parser gave up at line 4); close it with '}', or put the whole value in quotes if"
        " the '{' is meant as text"
    ]


def test_a_reply_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "interactions" / "introductions"
    folder.mkdir(parents=True)
    (folder / "abc.md").write_bytes(b"---\nkind: introduction\nauthor_name: Ren\xe9\n---\n")
    _, problems = load_interactions(tmp_path)
    assert [d.format() for d in problems] == [
        "interactions/introductions/abc.md:3: error: the file is not UTF-8 (byte 0xe9 cannot"
        " be decoded); save it as UTF-8 in your editor"
    ]
