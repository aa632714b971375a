"""The events page and one page per event.

Both read the site through a SiteReads (reads.py): what they read is their
record, so they have no hand-written key.
"""

from __future__ import annotations

from commsite import urls
from commsite.render.attendance import attendance_view
from commsite.render.body_images import responsive_body
from commsite.render.cards import federation_on, href, image_view, people, story_link, tag_refs
from commsite.render.dates import when_view
from commsite.render.head import meta_view
from commsite.render.pages.reads import SiteReads
from commsite.render.pages.spec import PageSpec, recorded_spec
from commsite.render.threads import thread_view
from commsite.render.views import STATUS_LABELS, EventCard, EventView, LocationView

__all__ = ["event_page", "events_page"]


def events_page(reads: SiteReads) -> PageSpec:
    site = reads.site

    def cards(which: str) -> tuple[EventCard, ...]:
        return tuple(reads.event_card(e.slug) for e in reads.events(which))

    upcoming, past = cards("upcoming"), cards("past")
    return recorded_spec(
        reads,
        urls.EVENTS,
        "events.html",
        meta=meta_view(
            site,
            urls.EVENTS,
            "Events",
            f"Upcoming and past events of {site.config.title}",
            "events",
        ),
        upcoming=upcoming,
        past=past,
    )


def event_page(reads: SiteReads, slug: str, own_calendar: bool) -> PageSpec:
    site = reads.site
    config = site.config
    event = reads.event(slug)
    path = urls.event_page(slug)
    when = when_view(event.start, event.end, config.tz)
    location = (
        LocationView(event.location.name, event.location.address, event.location.url)
        if event.location
        else None
    )
    view = EventView(
        title=event.title,
        url=href(config, path),
        when=when,
        summary=event.summary,
        body_html=responsive_body(config, path, event.body_html),
        status=event.status,
        status_label=STATUS_LABELS.get(event.status),
        past=reads.is_past(slug),
        location=location,
        online=event.online,
        capacity=event.capacity,
        hosts=people(event.hosts, reads.refs),
        tags=tag_refs(config, event.tags),
        image=image_view(config, event.image, event.image_alt or event.title),
        recaps=tuple(story_link(site, s) for s in reads.recaps(slug)),
        calendar_url=href(config, urls.EVENTS_ICS),
        event_calendar_url=href(config, urls.event_ics(slug)),
        has_event_calendar=own_calendar,
        thread=thread_view(
            reads.thread(f"events/{slug}"),
            f"events/{slug}",
            config.url(path),
            config.tz,
            federation_on(site),
            reads.refs,
        ),
        attendance=attendance_view(
            site, event, reads.attendance(slug), reads.refs, reads.answers_open(slug)
        ),
    )
    status = f"{STATUS_LABELS[event.status]}: " if event.status in STATUS_LABELS else ""
    place = f" · {location.name}" if location else (" · Online" if event.online else "")
    meta = meta_view(
        site,
        path,
        event.title,
        f"{status}{when.text}{place}. {event.summary}",
        "events",
        og_type="article",
        image=event.image,
        activity_path=urls.event_object(slug),
    )
    return recorded_spec(
        reads, path, "event.html", meta=meta, event=view, events_url=href(config, urls.EVENTS)
    )
