"""Hints for a time zone that is not one: the IANA name the organiser meant."""

from __future__ import annotations

import difflib
import functools
import re
from zoneinfo import available_timezones

__all__ = ["zone_hint"]

_OFFSET = re.compile(r"(?:GMT|UTC|UT|Z)?\s*([+-])\s*(\d{1,2})(?::?(\d\d))?", re.IGNORECASE)
# A city zone for whole-hour offsets, to suggest next to Etc/GMT-N: a city
# follows daylight saving time, which a fixed offset does not.
_CITIES = {
    -10: "Pacific/Honolulu", -8: "America/Los_Angeles", -7: "America/Denver",
    -6: "America/Chicago", -5: "America/New_York", -3: "America/Sao_Paulo",
    0: "Europe/London", 1: "Europe/Berlin", 2: "Europe/Athens", 3: "Europe/Moscow",
    4: "Asia/Dubai", 5: "Asia/Karachi", 7: "Asia/Bangkok", 8: "Asia/Singapore",
    9: "Asia/Tokyo", 10: "Australia/Sydney", 12: "Pacific/Auckland",
}  # fmt: skip
EXAMPLE = "use an IANA name such as Europe/Berlin"


@functools.cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def zone_hint(name: str) -> str:
    """How to write NAME as an IANA time zone: 'GMT+1' -> Etc/GMT-1 or Europe/Berlin,
    'Europe/Berln' -> Europe/Berlin, 'berlin' -> Europe/Berlin."""
    offset = _OFFSET.fullmatch(name.strip())
    if offset is not None and re.match(r"(?i)\s*(GMT|UTC|UT|Z|[+-])", name):
        sign, hours, minutes = offset.group(1), int(offset.group(2)), offset.group(3)
        signed = -hours if sign == "-" else hours
        if signed == 0 and not int(minutes or 0):
            return "use UTC"
        whole = not int(minutes or 0)
        city = _CITIES.get(signed) if whole else None
        like = f"a city zone like {city}" if city else "a city zone (Area/City, e.g. Asia/Kolkata)"
        if not whole or hours > 14:
            return f"use {like} (a zone name, not a UTC offset)"
        inverted = f"Etc/GMT{'-' if signed > 0 else '+'}{hours}"
        return f"use {inverted} (note the inverted sign) or {like}, which follows summer time"
    zones = _zones()
    by_fold = {z.casefold(): z for z in zones}
    folded = name.strip().casefold().replace(" ", "_")
    if folded in by_fold:  # europe/berlin -> Europe/Berlin
        return f"did you mean '{by_fold[folded]}'? (time zone names are case-sensitive)"
    cities = [z for z in zones if z.rsplit("/", 1)[-1].casefold() == folded]
    if cities:  # Berlin -> Europe/Berlin
        return f"did you mean '{cities[0]}'?"
    places = [z for z in zones if "/" in z and not z.startswith("Etc/")]
    near = difflib.get_close_matches(name.strip(), places, n=1, cutoff=0.6)
    if near:
        return f"did you mean '{near[0]}'?"
    return EXAMPLE
