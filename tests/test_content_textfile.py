"""Decoding content files: UTF-8 with or without BOM, any line ending; clear errors otherwise."""

from __future__ import annotations

from commsite.content.textfile import decode_text


def test_bom_and_line_endings_are_normalised() -> None:
    assert decode_text("a.md", b"\xef\xbb\xbf---\r\ntitle: a\r\n---\rbody\n") == (
        "---\ntitle: a\n---\nbody\n",
        None,
    )


def test_utf16_is_named() -> None:
    text, problem = decode_text("a.md", "---\ntitle: a\n---\n".encode("utf-16"))
    assert text is None and problem is not None
    assert problem.format() == (
        "a.md:1: error: the file is UTF-16, not UTF-8; save it as UTF-8 in your editor"
        " (in Notepad: Save as, Encoding: UTF-8)"
    )


def test_latin1_names_the_line_and_byte() -> None:
    text, problem = decode_text("a.md", b"---\nname: Ren\xe9\n---\n")
    assert text is None and problem is not None
    assert problem.format() == (
        "a.md:2: error: the file is not UTF-8 (byte 0xe9 cannot be decoded);"
        " save it as UTF-8 in your editor"
    )
