"""Text from the network, made safe to store: one function, applied at the edge.

Remote JSON may hold anything JSON can spell: a lone surrogate (`"\\ud800"`),
which no UTF-8 encoder (SQLite's included) accepts; NUL and other control
characters; the same letters in decomposed form. `clean_text` turns a string
into one that can always be stored and compared: lone surrogates become
U+FFFD, control characters other than newline and tab go, and the result is
NFC. `clean_json` does it to every string (keys too) of a parsed document.
Processing applies it to every activity and every fetched profile before
reading a field, so one bad field can never make a row unstorable.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["clean_json", "clean_text"]

# C0 (but tab and newline), DEL and C1 controls.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` with lone surrogates replaced, control characters (but \\n, \\t) removed, in NFC."""
    if text.isascii() and text.isprintable():
        return text  # the common case, untouched and fast
    text = _SURROGATES.sub("\ufffd", text)
    return unicodedata.normalize("NFC", _CONTROLS.sub("", text))


def clean_json(value: Any) -> Any:
    """A parsed JSON value with `clean_text` applied to every string in it, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value
