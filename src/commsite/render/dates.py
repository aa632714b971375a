"""Dates as people read them, in the site's time zone, and as <time datetime> wants them.

English month and day names on purpose: they do not depend on the machine's
locale, so builds are reproducible everywhere.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from commsite.render.viewclass import view

__all__ = ["DateView", "WhenView", "date_view", "day_view", "when_view"]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@view
class DateView:
    iso: str  # for <time datetime>: "2026-03-14T10:00:00+01:00" or "2026-03-14"
    text: str  # "14 March 2026"
    long: str  # "Saturday 14 March 2026, 10:00 CET" (date only for bare dates)


@view
class WhenView:
    """An event's time span."""

    start_iso: str
    end_iso: str | None
    text: str  # "Saturday 14 March 2026, 10:00–16:00 CET"
    weekday: str  # "Sat"
    day: str  # "14"
    month: str  # "Mar"
    year: str  # "2026"
    time: str  # "10:00–16:00 CET"


def _long_date(d: date) -> str:
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def _short_date(d: date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _zone(dt: datetime) -> str:
    return dt.tzname() or dt.strftime("%z")


@functools.lru_cache(maxsize=65536)
def date_view(dt: datetime, tz: ZoneInfo) -> DateView:
    local = dt.astimezone(tz)
    return DateView(
        iso=local.isoformat(timespec="seconds"),
        text=_short_date(local),
        long=f"{_long_date(local)}, {local:%H:%M} {_zone(local)}",
    )


def day_view(d: date) -> DateView:
    """A bare date (a member's `joined`, the rules' `updated`)."""
    return DateView(iso=d.isoformat(), text=_short_date(d), long=_long_date(d))


def when_view(start: datetime, end: datetime | None, tz: ZoneInfo) -> WhenView:
    s = start.astimezone(tz)
    e = end.astimezone(tz) if end is not None else None
    if e is None:
        time = f"{s:%H:%M} {_zone(s)}"
        text = f"{_long_date(s)}, {time}"
    elif e.date() == s.date() and _zone(s) == _zone(e):
        time = f"{s:%H:%M}–{e:%H:%M} {_zone(s)}"
        text = f"{_long_date(s)}, {time}"
    else:
        time = f"{s:%H:%M} {_zone(s)} – {_long_date(e)}, {e:%H:%M} {_zone(e)}"
        text = f"{_long_date(s)}, {time}"
    return WhenView(
        start_iso=s.isoformat(timespec="seconds"),
        end_iso=e.isoformat(timespec="seconds") if e is not None else None,
        text=text,
        weekday=_DAYS[s.weekday()][:3],
        day=str(s.day),
        month=_MONTHS[s.month - 1][:3],
        year=str(s.year),
        time=time,
    )
