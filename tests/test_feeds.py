"""Atom, JSON Feed, iCalendar, sitemap and robots.txt from a hand-built site.

Each output is read back with an independent parser (feedparser, json,
icalendar, ElementTree), so escaping mistakes show up as parse failures.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET

import feedparser
import icalendar

from commsite import urls
from commsite.content.model import Site
from commsite.feeds import (
    atom_feed,
    event_calendar,
    event_calendars,
    events_calendar,
    json_feed,
    robots,
    sitemap,
)
from commsite.feeds.links import absolute_html
from handmade_site import TRICKY, site


def test_atom_parses_without_bozo_and_keeps_tricky_titles() -> None:
    parsed = feedparser.parse(atom_feed(site()))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Riverside <Repair> & Café"
    assert parsed.feed.id == "https://example.org/"
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links == {"self": "https://example.org/feed.xml", "alternate": "https://example.org/"}
    assert [e.title for e in parsed.entries] == [TRICKY, "Hello, world"]  # no draft


def test_atom_entry_fields() -> None:
    entry = feedparser.parse(atom_feed(site())).entries[0]
    assert entry.id == "https://example.org/stories/tricky-title/"
    assert entry.link == "https://example.org/stories/tricky-title/"
    assert entry.published == "2026-10-20T16:30:00Z"
    assert entry.updated == "2026-10-21T09:00:00Z"
    assert [a.name for a in entry.authors] == ["Ada Lovelace", "Bo <B> & Co"]
    assert [t.term for t in entry.tags] == ["Repair Café", "kettles"]
    assert entry.summary == "We fixed 12 things & a kettle."
    content = entry.content[0]
    assert content.type == "text/html"
    # Relative links became absolute; the body's own escaping survived.
    assert 'href="https://example.org/events/spring-repair-day/"' in content.value
    assert "12 things &amp; a" in content.value


def test_atom_limit_and_empty_site() -> None:
    parsed = feedparser.parse(atom_feed(site(), limit=1))
    assert len(parsed.entries) == 1
    empty = dataclasses.replace(site(), stories=())
    parsed = feedparser.parse(atom_feed(empty))
    assert not parsed.bozo
    assert parsed.entries == []
    assert parsed.feed.updated == "1970-01-01T00:00:00Z"  # not the build time


def test_json_feed_is_valid_1_1() -> None:
    feed = json.loads(json_feed(site()).decode("utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Riverside <Repair> & Café"
    assert feed["home_page_url"] == "https://example.org/"
    assert feed["feed_url"] == "https://example.org/feed.json"
    for item in feed["items"]:
        assert {"id", "url", "title", "content_html", "date_published"} <= item.keys()
    first = feed["items"][0]
    assert first["title"] == TRICKY
    assert first["tags"] == ["Repair Café", "kettles"]
    assert first["image"] == "https://example.org/images/kettle.jpg"
    assert first["authors"][1] == {"name": "Bo <B> & Co", "url": "https://example.org/members/bo/"}
    assert first["date_published"] == "2026-10-20T16:30:00Z"


def test_json_feed_is_utf8_not_ascii_escaped() -> None:
    raw = json_feed(site())
    assert "Café".encode() in raw
    assert b"\\u00e9" not in raw


def _events(raw: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(raw)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_calendar_parses_with_timezones_and_statuses() -> None:
    raw = events_calendar(site())
    cal = icalendar.Calendar.from_ical(raw)
    assert str(cal["X-WR-CALNAME"]) == "Riverside <Repair> & Café"
    assert str(cal["VERSION"]) == "2.0"
    assert "commsite" in str(cal["PRODID"])
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = _events(raw)
    assert set(events) == {
        "spring-repair-day@example.org",
        "winter-swap@example.org",
        "online-chat@example.org",
    }
    spring = events["spring-repair-day@example.org"]
    assert spring["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert spring["DTEND"].params["TZID"] == "Europe/Berlin"
    assert spring.decoded("DTSTART").isoformat() == "2026-03-14T10:00:00+01:00"
    assert str(spring["SUMMARY"]) == "Spring <Repair> Day & Tea"
    assert str(spring["LOCATION"]) == "Community Hall, 1 Main St, Riverside"
    assert str(spring["URL"]) == "https://example.org/events/spring-repair-day/"
    assert "https://example.org/events/spring-repair-day/" in str(spring["DESCRIPTION"])
    assert str(spring["STATUS"]) == "CONFIRMED"
    # DTSTAMP: the event's start in UTC (not the build time, 2026-11-01T12:00Z).
    assert spring["DTSTAMP"].to_ical() == b"20260314T090000Z"
    assert str(events["winter-swap@example.org"]["STATUS"]) == "CANCELLED"
    # Written in the site's zone even when the front matter used UTC.
    winter = events["winter-swap@example.org"]
    assert winter["DTSTART"].to_ical() == b"20261205T150000"
    online = events["online-chat@example.org"]
    assert str(online["STATUS"]) == "TENTATIVE"
    assert "DTEND" not in online  # no end given: none invented
    assert str(online["LOCATION"]) == "https://meet.example/riverside"


def test_calendar_for_a_utc_site() -> None:
    utc = site(timezone="UTC")
    spring = _events(events_calendar(utc))["spring-repair-day@example.org"]
    assert spring.decoded("DTSTART").isoformat() == "2026-03-14T09:00:00+00:00"


def test_sitemap_absolute_sorted_unique_without_404() -> None:
    raw = sitemap(site(), ["stories/hello/", "index.html", "404.html", "/stories/hello/index.html"])
    root = ET.fromstring(raw)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in root.findall("s:url/s:loc", ns)]
    assert locs == ["https://example.org/", "https://example.org/stories/hello/"]


def test_sitemap_escapes_ampersands() -> None:
    raw = sitemap(site(), ["a&b/"])
    assert b"a&amp;b/" in raw
    ET.fromstring(raw)


def test_robots_allows_all_and_names_the_sitemap() -> None:
    assert robots(site(base_url="https://example.org/club/")).decode() == (
        "User-agent: *\nAllow: /\n\nSitemap: https://example.org/club/sitemap.xml\n"
    )


def test_outputs_are_deterministic() -> None:
    for make in (atom_feed, json_feed, events_calendar):
        assert make(site()) == make(site())


def _with_control_characters() -> Site:
    base = site()
    story = dataclasses.replace(
        base.stories[0],
        title="Bell \x07 and form feed \x0c",
        summary="Escape \x1b here",
        body_html="<p>vertical \x0b tab</p>\n",
    )
    event = dataclasses.replace(base.events[0], title="Carols \x07", summary="Sing \x1b")
    return dataclasses.replace(
        base, stories=(story, *base.stories[1:]), events=(event, *base.events[1:])
    )


def test_control_characters_do_not_break_the_feed_or_the_calendar() -> None:
    odd = _with_control_characters()
    parsed = feedparser.parse(atom_feed(odd))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries[0].title.startswith("Bell  and form feed")
    assert "vertical  tab" in parsed.entries[0].content[0].value
    events = {
        str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(events_calendar(odd)).walk("VEVENT")
    }
    assert "Carols " in events
    assert b"\x07" not in events_calendar(odd)
    json.loads(json_feed(odd))


def test_atom_enclosure_names_the_image_type() -> None:
    entry = feedparser.parse(atom_feed(site())).entries[0]
    enclosures = [link for link in entry.links if link.rel == "enclosure"]
    assert [(e.href, e.type) for e in enclosures] == [
        ("https://example.org/images/kettle.jpg", "image/jpeg")
    ]


def test_sitemap_percent_encodes_non_ascii() -> None:
    raw = sitemap(site(), ["members/zoë/", "stories/a%20b/"])
    root = ET.fromstring(raw)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert [e.text for e in root.findall("s:url/s:loc", ns)] == [
        "https://example.org/members/zo%C3%AB/",
        "https://example.org/stories/a%20b/",
    ]


def test_sitemap_leaves_out_draft_and_future_stories() -> None:
    base = site()
    future = dataclasses.replace(base.stories[0], slug="later", future=True)
    preview = dataclasses.replace(base, stories=(*base.stories, future))
    raw = sitemap(preview, ["stories/draft-story/", "stories/later/", "stories/tricky-title/"])
    assert b"draft-story" not in raw and b"later" not in raw
    assert b"https://example.org/stories/tricky-title/" in raw


def test_calendar_uids_of_a_site_below_the_root_name_its_path() -> None:
    club = site(base_url="https://example.org/clubs/riverside/")
    assert "spring-repair-day.clubs.riverside@example.org" in _events(events_calendar(club))
    assert "spring-repair-day@example.org" in _events(events_calendar(site()))


def test_sitemap_story_pages_carry_lastmod() -> None:
    raw = sitemap(site(), ["", "stories/tricky-title/"])
    root = ET.fromstring(raw)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    found = {
        u.findtext("s:loc", namespaces=ns): u.findtext("s:lastmod", namespaces=ns)
        for u in root.findall("s:url", ns)
    }
    assert found == {
        "https://example.org/": None,
        "https://example.org/stories/tricky-title/": "2026-10-21T09:00:00Z",
    }


def test_absolute_html_resolves_single_quoted_and_poster_attributes() -> None:
    html = (
        '<a href="/x">a</a> <img src=\'img.png\'> <a HREF="#n">n</a>'
        " <a href=\"https://o.example/\">o</a> <video poster='/p.jpg'></video>"
        ' <a href="mailto:a@b.example">m</a>'
    )
    assert absolute_html(html, "https://e.org/stories/s/") == (
        "<a href=\"https://e.org/x\">a</a> <img src='https://e.org/stories/s/img.png'>"
        ' <a HREF="https://e.org/stories/s/#n">n</a> <a href="https://o.example/">o</a>'
        " <video poster='https://e.org/p.jpg'></video> <a href=\"mailto:a@b.example\">m</a>"
    )
    # Only whole attribute names after whitespace (any kind, any case) count; the
    # same words inside other names or in text do not.
    other = "<img\tSRC='a.png' data-src='/d.png'>\n<a\nhref=\"b\">b</a> xsrc='/x' src = '/y'"
    assert absolute_html(other, "https://e.org/s/") == (
        "<img\tSRC='https://e.org/s/a.png' data-src='/d.png'>\n"
        "<a\nhref=\"https://e.org/s/b\">b</a> xsrc='/x' src = '/y'"
    )


def test_one_event_calendar_has_that_event_with_its_site_uid() -> None:
    s = site()
    spring = next(e for e in s.events if e.slug == "spring-repair-day")
    raw = event_calendar(s, spring)
    cal = icalendar.Calendar.from_ical(raw)
    assert list(_events(raw)) == ["spring-repair-day@example.org"]
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert _events(raw)["spring-repair-day@example.org"].to_ical() == (
        _events(events_calendar(s))["spring-repair-day@example.org"].to_ical()
    )


def test_event_calendars_one_file_per_event_under_its_page() -> None:
    s = site()
    files = event_calendars(s)
    assert list(files) == [f"events/{e.slug}/event.ics" for e in s.events]
    assert urls.event_ics("spring-repair-day") == "events/spring-repair-day/event.ics"
    for event in s.events:
        raw = files[urls.event_ics(event.slug)]
        assert raw == event_calendar(s, event)
        (uid,) = _events(raw)
        assert uid.startswith(f"{event.slug}@")
