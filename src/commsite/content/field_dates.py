"""Validators for dates, datetimes and times of day in front matter and config
(ISO 8601, as YAML and the organisers write them)."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from commsite.content.invalid import Invalid, show

__all__ = [
    "DATETIME_HINT",
    "DATE_HINT",
    "END_HINT",
    "TIME_HINT",
    "date_only",
    "date_or_datetime",
    "datetime_only",
    "end_datetime",
]

DATE_HINT = "use YYYY-MM-DD"
DATETIME_HINT = "use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+HH:MM"
TIME_HINT = (
    "use YYYY-MM-DDTHH:MM:SS (in the site's time zone) or YYYY-MM-DDTHH:MM:SS+HH:MM,"
    " e.g. 2026-03-14T18:00:00+01:00"
)
END_HINT = "use a time on the start's day, e.g. 17:00, or a date and time, e.g. 2026-03-14T17:00:00"
_DATE_SHAPE = re.compile(r"\d{4}-\d\d?-\d\d?(?:[Tt ].*)?")


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
