"""What an Event object says about answering it: Mobilizon's extensions, the
counts from interactions/rsvps/, and a cancelled or postponed event's status
spelled out where Mastodon shows it.

Mobilizon (docs.joinmobilizon.org, "Federation / ActivityPub") offers its
"Participate" button from `joinMode`, and shows `participantCount` and the
places (schema.org's `maximumAttendeeCapacity`, `remainingAttendeeCapacity`);
Gancio and the WordPress plugin read the same terms. Mobilizon reads them by
their plain names, so the object uses those, and its @context maps them
(`mz:`, `schema:`).

`joinMode`: "free" when the sidecar accepts every answer at once
(`moderation.approve: everyone`, and no capacity, so no waiting list);
otherwise "restricted": an answer from someone the policy does not trust, or
beyond the places, waits, which is what Mobilizon calls a participation
awaiting approval (the sidecar's Accept of the Join confirms it). A cancelled
event is "invite" (nobody can join).

Mastodon shows an Event as its `name`, `summary` and link (§3 of the interop
notes): a cancelled or postponed event says so first in each.
"""

from __future__ import annotations

from typing import Any

from commsite.config import SiteConfig
from commsite.content.attendance import Attendance, attendance_index
from commsite.content.model import Event, Site

__all__ = [
    "EVENT_TERMS",
    "STATUS_WORDS",
    "attendance_of",
    "event_name",
    "rsvp_fields",
    "rsvp_fields_of",
    "status_note",
]

# The JSON-LD terms of the extensions (added to the objects' @context).
EVENT_TERMS: dict[str, Any] = {
    "joinMode": "mz:joinMode",
    "participantCount": "mz:participantCount",
    "anonymousParticipationEnabled": "mz:anonymousParticipationEnabled",
    "isOnline": "mz:isOnline",
    "maximumAttendeeCapacity": "schema:maximumAttendeeCapacity",
    "remainingAttendeeCapacity": "schema:remainingAttendeeCapacity",
}

STATUS_WORDS = {"cancelled": "Cancelled", "postponed": "Postponed"}


def attendance_of(site: Site, event: Event) -> Attendance:
    return attendance_index(site.events, site.members, site.interactions).of(event)


def event_name(event: Event) -> str:
    """'Cancelled: Winter swap': Mastodon shows the name first."""
    word = STATUS_WORDS.get(event.status)
    return f"{word}: {event.title}" if word else event.title


def status_note(event: Event) -> str:
    """A paragraph for the top of `content` saying the event will not (yet) take place."""
    if event.status == "cancelled":
        return "<p><strong>Cancelled</strong>: this event will not take place.</p>"
    if event.status == "postponed":
        return "<p><strong>Postponed</strong>: a new date will be announced.</p>"
    return ""


def _join_mode(config: SiteConfig, event: Event) -> str:
    if event.status == "cancelled":
        return "invite"
    open_to_all = config.moderation.approve == "everyone" and event.capacity is None
    return "free" if open_to_all else "restricted"


def rsvp_fields(site: Site, event: Event) -> dict[str, Any]:
    """The answering fields of `event`'s object, counted from its RSVPs."""
    return rsvp_fields_of(site.config, event, attendance_of(site, event))


def rsvp_fields_of(config: SiteConfig, event: Event, attendance: Attendance) -> dict[str, Any]:
    """`rsvp_fields`, from the event's attendance."""
    fields: dict[str, Any] = {
        "joinMode": _join_mode(config, event),
        "anonymousParticipationEnabled": False,
        "participantCount": len(attendance.going),
    }
    if event.capacity is not None:
        fields["maximumAttendeeCapacity"] = event.capacity
        fields["remainingAttendeeCapacity"] = attendance.remaining
    return fields
