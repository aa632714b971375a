"""Validators for front-matter and config values.

Each takes the key (for messages) and the value YAML gave, and returns the
checked value or raises `Invalid` with a message and a hint saying how to fix
it. Shared by the content parser and the config loader.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "DATETIME_HINT",
    "DATE_HINT",
    "Accepted",
    "Invalid",
    "Validator",
    "boolean",
    "choice",
    "date_only",
    "date_or_datetime",
    "datetime_only",
    "did_you_mean",
    "end_datetime",
    "handle",
    "http_url",
    "integer",
    "links",
    "location",
    "show",
    "slug",
    "static_file",
    "static_path",
    "text",
    "text_list",
    "unknown_id_hint",
    "web_address",
]

DATE_HINT = "use YYYY-MM-DD"
DATETIME_HINT = "use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+HH:MM"
TIME_HINT = (
    "use YYYY-MM-DDTHH:MM:SS (in the site's time zone) or YYYY-MM-DDTHH:MM:SS+HH:MM,"
    " e.g. 2026-03-14T18:00:00+01:00"
)
END_HINT = "use a time on the start's day, e.g. 17:00, or a date and time, e.g. 2026-03-14T17:00:00"
_HANDLE = re.compile(r"@([A-Za-z0-9_][A-Za-z0-9_.-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d+)?)")
_DATE_SHAPE = re.compile(r"\d{4}-\d\d?-\d\d?(?:[Tt ].*)?")
_BAD_SLUG = re.compile(r"[\s/\\?#%\x00-\x1f\x7f]")


class Invalid(Exception):
    """A value that does not fit its key."""

    def __init__(self, message: str, hint: str | None = None, item: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.item = item  # 1-based index of the list item at fault, if any


class Accepted(Exception):
    """A value taken in a form it should not have been written in: `value` is what
    was taken, and the message (a warning) shows the canonical form."""

    def __init__(self, value: object, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.value = value
        self.message = message
        self.hint = hint


Validator = Callable[[str, object], object]


def show(value: object) -> str:
    """A value as the organiser wrote it, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean '{found[0]}'?" if found else None


FEW = 8  # up to this many known ids, a hint lists them all


def unknown_id_hint(word: str, known: Iterable[str], what: str, folder: str) -> str:
    """How to fix a reference to an id that does not exist: the ids that start with
    or contain it ('zoe' -> 'zoe-angstrom'), else the nearest spellings; every id
    when there are few; else how to add it."""
    options = sorted(set(known))
    folded = word.casefold()
    near = [o for o in options if folded and folded in o.casefold()]
    near.sort(key=lambda o: not o.casefold().startswith(folded))  # prefixes first
    if not near:
        near = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    listed = ", ".join(options)
    if near:
        quoted = [f"'{o}'" for o in near[:3]]
        guess = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        hint = f"did you mean {guess}?"
        if len(options) <= FEW and len(options) > len(quoted):
            return f"{hint} (the {what}s are {listed})"
        return hint
    add = f"add content/{folder}/{word}.md"
    if options and len(options) <= FEW:
        return f"the {what}s are {listed}; or {add}"
    return add


def text(key: str, value: object) -> str:
    if isinstance(value, str):
        if not value.strip():
            raise Invalid(f"'{key}' is empty", "give it a value or remove the line")
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list | tuple):
        hint = f"give one value, not a list: {key}: ..."
        if len(value) == 1 and isinstance(value[0], str):
            hint = f"give one value, not a list: {key}: {value[0]}"
        raise Invalid(f"'{key}' must be text (got {show(value)})", hint)
    raise Invalid(
        f"'{key}' must be text (got {show(value)})", f'put quotes around it: {key}: "..."'
    )


def text_list(key: str, value: object) -> tuple[str, ...]:
    """A list of strings; a single string counts as a list of one. Text with
    commas ("recap, bouldering", as Hugo and Jekyll users write it) is taken
    as the list it means, with a warning (`Accepted`) showing the list form."""
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if len(parts) >= 2:
            from commsite.content.scaffold import yaml_list

            raise Accepted(
                tuple(parts),
                f"'{key}' is one text with commas ({show(value)}); read as {len(parts)} items",
                f"write it as a list: {key.rsplit('.', 1)[-1]}: {yaml_list(parts)}",
            )
        value = [value]
    if not isinstance(value, list):
        raise Invalid(
            f"'{key}' must be a list (got {show(value)})",
            f"write {key}: [first, second] or one '- item' a line",
        )
    items: list[str] = []
    for n, item in enumerate(value, start=1):
        if isinstance(item, int | float) and not isinstance(item, bool):
            item = str(item)  # tags: [2026] is the tag "2026"
        if not isinstance(item, str) or not item.strip():
            raise Invalid(
                f"'{key}' must be a list of text (item {n} is {show(item)})",
                "put quotes around each item",
                item=n,
            )
        items.append(item.strip())
    return tuple(items)


_YES = frozenset({"yes", "on", "y"})
_NO = frozenset({"no", "off", "n"})


def boolean(key: str, value: object) -> bool:
    """true or false; yes/no and on/off too (YAML 1.1 read them as booleans, and
    the loader now leaves them as text)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in _YES | _NO:
        return value.strip().casefold() in _YES
    raise Invalid(f"'{key}' must be true or false (got {show(value)})")


def integer(low: int, high: int | None = None) -> Validator:
    def check(key: str, value: object) -> int:
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value >= low
            and (high is None or value <= high)
        ):
            return value
        if high is None:
            wanted = "a positive whole number" if low == 1 else f"a whole number of {low} or more"
        else:
            wanted = f"a whole number from {low} to {high}"
        raise Invalid(f"'{key}' must be {wanted} (got {show(value)})")

    return check


def choice(options: tuple[str, ...]) -> Validator:
    def check(key: str, value: object) -> str:
        if isinstance(value, str) and value in options:
            return value
        hint = did_you_mean(value, options) if isinstance(value, str) else None
        listed = ", ".join(options[:-1]) + " or " + options[-1]
        raise Invalid(f"'{key}' must be {listed} (got {show(value)})", hint)

    return check


def _parse_date_text(value: str) -> date | datetime | str:
    """An ISO 8601 date or datetime from text, or the reason it is not one."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError as exc:
        reason = str(exc)
    if not _DATE_SHAPE.fullmatch(value) or reason.startswith("Invalid isoformat"):
        return ""
    if "offset" in reason:
        return "the UTC offset must be between -23:59 and +23:59"
    return reason


def date_or_datetime(key: str, value: object, *, what: str = "date") -> date | datetime:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        parsed = _parse_date_text(value.strip())
        if not isinstance(parsed, str):
            return parsed
        reason = f", {parsed}" if parsed else ""
        raise Invalid(f"'{key}' is not a {what} (got {show(value)}{reason})", DATETIME_HINT)
    raise Invalid(f"'{key}' is not a {what} (got {show(value)})", DATETIME_HINT)


def date_only(key: str, value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        parsed = _parse_date_text(value.strip())
        if isinstance(parsed, datetime):
            return parsed.date()
        if isinstance(parsed, date):
            return parsed
        reason = f", {parsed}" if parsed else ""
        raise Invalid(f"'{key}' is not a date (got {show(value)}{reason})", DATE_HINT)
    raise Invalid(f"'{key}' is not a date (got {show(value)})", DATE_HINT)


def datetime_only(key: str, value: object) -> datetime:
    try:
        parsed = date_or_datetime(key, value, what="date and time")
    except Invalid as exc:
        raise Invalid(exc.message, TIME_HINT) from None
    if not isinstance(parsed, datetime):
        raise Invalid(f"'{key}' needs a time of day (got {show(value)})", TIME_HINT)
    return parsed


_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")


def end_datetime(key: str, value: object) -> datetime | time:
    """An event's end: a datetime, or a bare time of day (17:00), which means that
    time on the start's day (the parser combines the two)."""
    if isinstance(value, str):
        match = _TIME_OF_DAY.fullmatch(value.strip())
        if match is not None:
            hour, minute, second = (int(g) if g else 0 for g in match.groups())
            return time(hour, minute, second)
    try:
        return datetime_only(key, value)
    except Invalid as exc:
        raise Invalid(exc.message, END_HINT) from None


# C0 controls, DEL and C1 controls: a browser drops tabs and newlines inside a URL
# (so "java\tscript:" is "javascript:") and leading controls; none belongs in one.
_URL_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def web_address(value: str) -> str | None:
    """`value` (stripped of spaces around it) when it is an http or https address
    with a host that a browser follows as written; else None. The one check of
    every address that becomes an href or src from a file or from the network:
    no control characters anywhere (they hide a scheme: "java\tscript:"), the
    scheme http or https (not javascript:, data:, vbscript:, nor a relative
    "//host" or "/path"), and a host."""
    url = value.strip(" ")
    if not url or _URL_CONTROLS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed "[" of an IPv6 host
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def http_url(key: str, value: object) -> str:
    if isinstance(value, str):
        url = web_address(value.strip())
        if url is not None:
            return url
    raise Invalid(
        f"'{key}' must be a web address starting with https:// or http:// (got {show(value)})",
        "write the full address, e.g. https://example.org/page",
    )


_PROFILE_URL = re.compile(r"https?://(?P<host>[^/@\s]+)/@(?P<user>[\w.-]+)/?")


def handle(key: str, value: object) -> str:
    if isinstance(value, str):
        candidate = value.strip()
        if _HANDLE.fullmatch(candidate):
            return candidate
        if _HANDLE.fullmatch("@" + candidate):
            raise Invalid(
                f"'{key}' must be a fediverse handle @user@host (got {show(value)})",
                f"start it with '@': \"@{candidate}\" (in quotes)",
            )
        profile = _PROFILE_URL.fullmatch(candidate)
        if profile is not None:  # https://mastodon.social/@ada -> @ada@mastodon.social
            user, host = profile.group("user"), profile.group("host")
            raise Invalid(
                f"'{key}' must be a fediverse handle @user@host, not a profile address"
                f" (got {show(value)})",
                f'write "@{user}@{host}" (in quotes)',
            )
    raise Invalid(
        f"'{key}' must be a fediverse handle @user@host (got {show(value)})",
        'write it in quotes, e.g. "@ada@mastodon.social"',
    )


def links(key: str, value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise Invalid(
            f"'{key}' must be a mapping of label to web address (got {show(value)})",
            "write one 'Label: https://...' a line, indented under 'links:'",
        )
    pairs: list[tuple[str, str]] = []
    for label, url in value.items():
        pairs.append((str(label), http_url(f"{key}.{label}", url)))
    return tuple(pairs)


_LOCATION_KEYS = ("name", "address", "url")


def location(key: str, value: object) -> dict[str, str]:
    """A place: text (its name) or a mapping with name, address and url."""
    if isinstance(value, str):
        return {"name": text(key, value)}
    if not isinstance(value, dict):
        raise Invalid(
            f"'{key}' must be text or a mapping with name, address and url (got {show(value)})"
        )
    place: dict[str, str] = {}
    for sub, item in value.items():
        name = str(sub)
        if name not in _LOCATION_KEYS:
            raise Invalid(
                f"'{key}' has unknown key '{name}'",
                did_you_mean(name, _LOCATION_KEYS) or "use name, address and url",
            )
        place[name] = http_url(f"{key}.url", item) if name == "url" else text(f"{key}.{name}", item)
    if "name" not in place:
        raise Invalid(f"'{key}' needs a 'name'", "add 'name: ...' under it")
    return place


def static_path(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"'{key}' must be a path under static/ (got {show(value)})")
    path = value.strip()
    if urlsplit(path).scheme:
        raise Invalid(
            f"'{key}' must be a path under static/, not a web address (got {show(value)})",
            "put the file in static/ and give its path, e.g. images/photo.jpg",
        )
    path = path.lstrip("/")
    if ".." in path.split("/") or "\\" in path:
        raise Invalid(
            f"'{key}' must be a path under static/ (got {show(value)})",
            "use forward slashes and no '..', e.g. images/photo.jpg",
        )
    return path


def static_file(root: Path, key: str, rel: str) -> None:
    """Raise Invalid unless ROOT/static/REL is a file (`rel` as `static_path` returned it)."""
    if (root / "static" / rel).is_file():
        return
    hint = f"put the file at static/{rel}, or fix the path (it is relative to static/)"
    if rel.startswith("static/"):  # static/images/a.png: not static/static/images/a.png
        inside = rel.removeprefix("static/")
        hint = f"leave out 'static/' (paths are relative to static/): write '{inside}'"
        if not (root / rel).is_file():
            hint += f" and put the file at static/{inside}"
    raise Invalid(f"'{key}' names a file that is not in static/ (got \"{rel}\")", hint)


def slug(key: str, value: object) -> str:
    name = text(key, value)
    if _BAD_SLUG.search(name) or name.startswith("."):
        raise Invalid(
            f"'{key}' cannot be used in a web address (got {show(value)})",
            "use lowercase letters, digits and hyphens, e.g. 'spring-repair-day'",
        )
    return name
