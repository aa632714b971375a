"""The events page and one page per event."""

from __future__ import annotations

from commsite import urls
from commsite.content.model import Event, Site
from commsite.render.attendance import attendance_view
from commsite.render.body_images import responsive_body
from commsite.render.cards import (
    federation_on,
    href,
    image_view,
    is_past,
    people,
    story_link,
    tag_refs,
)
from commsite.render.dates import when_view
from commsite.render.head import meta_view
from commsite.render.lookups import SiteIndex
from commsite.render.pages.spec import PageSpec, page_spec
from commsite.render.threads import thread_view
from commsite.render.views import STATUS_LABELS, EventView, LocationView

__all__ = ["event_page", "events_page"]


def events_page(site: Site, index: SiteIndex) -> PageSpec:
    def cards(events: tuple[Event, ...]) -> tuple[object, ...]:
        return tuple(index.event_card(site, e) for e in events)

    return page_spec(
        index,
        urls.EVENTS,
        "events.html",
        meta=meta_view(
            site,
            urls.EVENTS,
            "Events",
            f"Upcoming and past events of {site.config.title}",
            "events",
        ),
        upcoming=cards(index.upcoming),
        past=cards(index.past),
    )


def event_page(site: Site, index: SiteIndex, event: Event, own_calendar: bool) -> PageSpec:
    config = site.config
    path = urls.event_page(event.slug)
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
        past=is_past(site, event),
        location=location,
        online=event.online,
        capacity=event.capacity,
        hosts=people(event.hosts, index.refs),
        tags=tag_refs(config, event.tags),
        image=image_view(config, event.image, event.image_alt or event.title),
        recaps=tuple(story_link(site, s) for s in index.recaps.get(event.slug, ())),
        calendar_url=href(config, urls.EVENTS_ICS),
        event_calendar_url=href(config, urls.event_ics(event.slug)),
        has_event_calendar=own_calendar,
        thread=thread_view(
            index.interactions,
            f"events/{event.slug}",
            config.url(path),
            config.tz,
            federation_on(site),
            index.refs,
        ),
        attendance=attendance_view(site, event, index.attendance.of(event), index.refs),
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
        activity_path=urls.event_object(event.slug),
    )
    return page_spec(
        index, path, "event.html", meta=meta, event=view, events_url=href(config, urls.EVENTS)
    )
