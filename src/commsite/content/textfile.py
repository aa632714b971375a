"""Decoding a site's text file: UTF-8 with or without a BOM, any line ending.

The result always has "\\n" line ends, so line numbers count the same whatever
editor wrote the file.
"""

from __future__ import annotations

from commsite.errors import Diagnostic

__all__ = ["decode_text"]

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_text(path: str, data: bytes) -> tuple[str | None, Diagnostic | None]:
    """The text of `data`, or None and the reason it is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith(_UTF16_BOMS):
            return None, Diagnostic(
                path,
                1,
                "the file is UTF-16, not UTF-8",
                hint="save it as UTF-8 in your editor (in Notepad: Save as, Encoding: UTF-8)",
            )
        line = data.count(b"\n", 0, exc.start) + 1
        return None, Diagnostic(
            path,
            line,
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} cannot be decoded)",
            hint="save it as UTF-8 in your editor",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, None
