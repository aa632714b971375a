"""Validators for front-matter and config values.

Each takes the key (for messages) and the value YAML gave, and returns the
checked value or raises `Invalid` with a message and a hint saying how to fix
it. Shared by the content parser and the config loader.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from commsite.content.field_dates import (
    DATE_HINT,
    DATETIME_HINT,
    END_HINT,
    TIME_HINT,
    date_only,
    date_or_datetime,
    datetime_only,
    end_datetime,
)
from commsite.content.field_web import handle, http_url, links, web_address
from commsite.content.invalid import (
    FEW,
    Accepted,
    Invalid,
    Validator,
    did_you_mean,
    show,
    unknown_id_hint,
)

__all__ = [
    "DATETIME_HINT",
    "DATE_HINT",
    "END_HINT",
    "FEW",
    "TIME_HINT",
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

_BAD_SLUG = re.compile(r"[\s/\\?#%\x00-\x1f\x7f]")


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
