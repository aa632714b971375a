"""HTML and plain text for the objects Mastodon shows: story bodies made safe for
its sanitiser, hashtags, and an event's date and place spelled out.

Mastodon keeps only p, br, a, span, strong, em, ul/ol/li, blockquote, pre/code
from remote HTML, so headings become bold paragraphs; converted types (Event,
Article) show `name`, `summary` and a link, so the summary must say it all.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from commsite.content.model import Event

__all__ = [
    "event_summary",
    "hashtag_name",
    "mastodon_html",
    "paragraphs",
]

_HEADING = re.compile(r"<h([1-6])(?:\s[^>]*)?>(.*?)</h\1>", re.DOTALL)
# Permalink anchors a heading plugin may add ("¶", "#") mean nothing in a timeline.
_HEADER_ANCHOR = re.compile(r'<a\s[^>]*class="[^"]*header-anchor[^"]*"[^>]*>.*?</a>', re.DOTALL)
_NOT_SLUG = re.compile(r"[^\w]+")

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_STATUS_PREFIX = {"cancelled": "CANCELLED: ", "postponed": "POSTPONED: "}


def mastodon_html(body_html: str) -> str:
    """Headings as <p><strong>…</strong></p>, heading permalinks dropped."""
    body_html = _HEADER_ANCHOR.sub("", body_html)
    return _HEADING.sub(lambda m: f"<p><strong>{m.group(2).strip()}</strong></p>", body_html)


def paragraphs(text: str) -> str:
    """Plain text as HTML paragraphs (blank lines separate them)."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in parts)


def hashtag_name(tag: str) -> str:
    """'#RepairCafé': the tag without spaces or punctuation, as Mastodon parses it."""
    words = _NOT_SLUG.split(tag)
    if len(words) > 1:
        words = [w[:1].upper() + w[1:] for w in words]
    return "#" + "".join(words).replace("_", "")


def _day(moment: datetime) -> str:
    return f"{_WEEKDAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _when(event: Event, timezone_name: str) -> str:
    tz = ZoneInfo(timezone_name)
    start = event.start.astimezone(tz)
    if event.end is None:
        return f"{_day(start)}, {start:%H:%M} ({timezone_name})"
    end = event.end.astimezone(tz)
    if end.date() == start.date():
        return f"{_day(start)}, {start:%H:%M}–{end:%H:%M} ({timezone_name})"
    return f"{_day(start)}, {start:%H:%M} – {_day(end)}, {end:%H:%M} ({timezone_name})"


def _where(event: Event) -> str | None:
    places = []
    if event.location is not None:
        places.append(", ".join(p for p in (event.location.name, event.location.address) if p))
    if event.online:
        places.append(f"online: {event.online}")
    return " and ".join(places) or None


def event_summary(event: Event, timezone_name: str) -> str:
    """'Saturday 14 March 2026, 10:00–16:00 (Europe/Berlin) · Community Hall, 1 Main St'
    plus the event's own summary, in plain text."""
    line = _STATUS_PREFIX.get(event.status, "") + _when(event, timezone_name)
    where = _where(event)
    if where:
        line += f" · {where}"
    return f"{line}\n\n{event.summary}" if event.summary else line
