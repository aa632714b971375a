"""The events calendar (RFC 5545), at urls.EVENTS_ICS.

Times are written in the site's time zone with a TZID and a VTIMEZONE generated
from zoneinfo (a UTC site gets plain UTC times, which need none). Nothing here
reads the build's clock (not even `site.now`): the same content gives the same
bytes on every build, so an unchanged calendar is not rewritten or re-uploaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import TYPE_CHECKING

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Event, Site
from commsite.feeds.links import without_control_chars as _clean

if TYPE_CHECKING:  # imported where used: a build that writes no calendar never loads it
    import icalendar

__all__ = [
    "ICAL_STATUS",
    "calendar_document",
    "event_calendar",
    "event_calendars",
    "events_calendar",
]

# Event.status -> iCalendar STATUS (RFC 5545 3.8.1.11).
ICAL_STATUS = {"scheduled": "CONFIRMED", "cancelled": "CANCELLED", "postponed": "TENTATIVE"}


def _location(event: Event) -> str | None:
    if event.location is not None:
        parts = [event.location.name, event.location.address or ""]
        return ", ".join(p for p in parts if p)
    return event.online


def _description(event: Event, page: str) -> str:
    lines = [event.summary] if event.summary else []
    if event.online:
        lines.append(f"Online: {event.online}")
    lines.append(page)
    return "\n\n".join(lines)


def _uid(config: SiteConfig, event: Event) -> str:
    """SLUG@HOST, with the base path in it for a site below the root, so two
    communities on one host (example.org/a/, example.org/b/) never share a UID."""
    below = config.base_path.strip("/").replace("/", ".")
    return f"{event.slug}.{below}@{config.host}" if below else f"{event.slug}@{config.host}"


def _dtstamp(event: Event) -> datetime:
    """The event's start, in UTC: a stamp taken from the event itself, not the clock.

    RFC 5545 3.8.7.2: with a METHOD (ours is PUBLISH) DTSTAMP is when this
    iCalendar object was created; it must be UTC. It carries meaning only for
    scheduling (RFC 5546 orders versions of a UID by SEQUENCE, then DTSTAMP); a
    published calendar that clients subscribe to and re-read whole has no
    scheduling, so no reader needs the build time there. A build-time stamp would
    change every byte of events.ics on every build; the start changes only when
    the event is rescheduled, which is the revision a calendar most needs to see.
    """
    return event.start.astimezone(UTC)


def _vevent(config: SiteConfig, event: Event) -> icalendar.Event:
    tz = config.tz
    page = config.url(urls.event_page(event.slug))
    import icalendar

    vevent = icalendar.Event()
    vevent.add("uid", _uid(config, event))
    vevent.add("dtstamp", _dtstamp(event))
    vevent.add("dtstart", event.start.astimezone(tz))
    if event.end is not None:
        vevent.add("dtend", event.end.astimezone(tz))
    vevent.add("summary", _clean(event.title))
    vevent.add("description", _clean(_description(event, page)))
    location = _location(event)
    if location:
        vevent.add("location", _clean(location))
    vevent.add("url", page)
    vevent.add("status", ICAL_STATUS.get(event.status, "CONFIRMED"))
    if event.tags:
        vevent.add("categories", [_clean(tag) for tag in event.tags])
    return vevent


def _zone_span(config: SiteConfig, events: Sequence[Event]) -> tuple[date, date]:
    """The dates the VTIMEZONE covers: a year or more around the events (not
    empty), in whole years, so that the calendars of the events of one year share
    one VTIMEZONE, made once (`_timezone`)."""
    first = min(e.start.astimezone(config.tz).date() for e in events)
    last = max(e.finishes.astimezone(config.tz).date() for e in events)
    return date(first.year - 1, 1, 1), date(last.year + 2, 1, 1)


@cache
def _timezone(tzid: str, first: date, last: date) -> icalendar.Timezone | None:
    """The VTIMEZONE of `tzid` from `first` to `last` (None for a zone icalendar
    does not know), made once: icalendar walks the zone's offsets minute by
    minute to make one (5 ms a calendar, 2.5 s for the calendars of 500 events)
    and asks its callers to cache them. Calendars only read it."""
    import icalendar

    try:
        return icalendar.Timezone.from_tzid(tzid, first_date=first, last_date=last)
    except ValueError:
        return None


def event_calendar(site: Site, event: Event) -> bytes:
    """One event as its own VCALENDAR, for an "add to calendar" link on its page
    (same UID as in the site's calendar, so importing both does not duplicate it)."""
    return calendar_document(site.config, (event,))


def event_calendars(site: Site) -> dict[str, bytes]:
    """urls.event_ics(slug) -> that event's own calendar, for every event (past
    ones too: their pages exist, and an old link should not break)."""
    return {urls.event_ics(event.slug): event_calendar(site, event) for event in site.events}


def events_calendar(site: Site) -> bytes:
    """Every event of the site (upcoming and past) as one VCALENDAR."""
    return calendar_document(site.config, site.events)


def calendar_document(config: SiteConfig, events: Sequence[Event]) -> bytes:
    """`events` as one VCALENDAR of the site `config` describes."""
    import icalendar

    from commsite import __version__  # (importlib.metadata: only where a calendar is made)

    cal = icalendar.Calendar()
    cal.add("prodid", f"-//commsite//commsite {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _clean(config.title))
    if config.description:
        cal.add("x-wr-caldesc", _clean(config.description))
    cal.add("x-wr-timezone", config.timezone)
    for event in events:
        cal.add_component(_vevent(config, event))
    if events:  # no events, no TZID to describe (as add_missing_timezones does it)
        first, last = _zone_span(config, events)
        zones = (_timezone(tzid, first, last) for tzid in sorted(cal.get_missing_tzids()))
        cal.subcomponents[:0] = [zone for zone in zones if zone is not None]
    ical: bytes = cal.to_ical()
    return ical
