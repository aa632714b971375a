"""The checks every field of an interactions/ file passes, as problems in words.

interactions/ is written by the sidecar's export but may be edited by hand or
tampered with, so it is untrusted input: every address becomes an href or src
only after `fields.web_address` (http and https, a host, no control
characters). Each function returns the value, or None after appending a
problem that names the key (callers turn problems into Diagnostics at the
key's line).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from commsite.content.fields import show, web_address
from commsite.content.safe_files import read_input
from commsite.content.textfile import decode_text
from commsite.errors import Diagnostic

__all__ = ["address_field", "flag_field", "read_interaction_file", "text_field", "when_field"]


def read_interaction_file(root: Path, rel: str) -> tuple[str | None, list[Diagnostic]]:
    """The text of ROOT/REL (a regular file only: content.safe_files), or None and
    why not (unreadable, or not UTF-8)."""
    try:
        raw = read_input(root / rel)
    except OSError as exc:
        return None, [Diagnostic(rel, None, f"cannot read the file: {exc.strerror}")]
    text, undecodable = decode_text(rel, raw)
    if text is None:
        return None, [undecodable] if undecodable else []
    return text, []


def text_field(
    meta: Mapping[str, object], key: str, required: bool, problems: list[str]
) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        if required:
            problems.append(f"'{key}' is missing")
        return None
    if not isinstance(value, str):
        problems.append(f"'{key}' must be text (got {type(value).__name__})")
        return None
    return value


def address_field(
    meta: Mapping[str, object], key: str, required: bool, problems: list[str]
) -> str | None:
    """An http(s) address (author_url, url, author_avatar, id, in_reply_to): each
    becomes an href or names a thread, and a hand-edited file is untrusted."""
    value = text_field(meta, key, required, problems)
    if value is None:
        return None
    url = web_address(value)
    if url is None:
        problems.append(
            f"'{key}' must be a web address starting with https:// or http://"
            f" (got {show(value)}); only http and https links are published"
        )
    return url


def when_field(
    meta: Mapping[str, object], key: str, required: bool, problems: list[str]
) -> datetime | None:
    value = meta.get(key)
    if value is None or value == "":
        if required:
            problems.append(f"'{key}' is missing")
        return None
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    if moment is None:
        problems.append(f"'{key}' is not a date and time (got {value!r}); use ISO 8601")
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def flag_field(meta: Mapping[str, object], key: str, problems: list[str]) -> bool:
    value = meta.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        problems.append(f"'{key}' must be true or false (got {value!r})")
        return False
    return value
