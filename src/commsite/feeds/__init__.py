"""Machine-readable outputs: Atom, JSON Feed, iCalendar, sitemap and robots.txt.

Each is a pure function from the site model to the bytes of one output file;
the build decides where to write them (the paths are in commsite.urls).
"""

from commsite.feeds.atom import atom_feed
from commsite.feeds.calendar import event_calendar, event_calendars, events_calendar
from commsite.feeds.jsonfeed import json_feed
from commsite.feeds.sitemap import robots, sitemap

__all__ = [
    "atom_feed",
    "event_calendar",
    "event_calendars",
    "events_calendar",
    "json_feed",
    "robots",
    "sitemap",
]
