"""An event's RSVP poll: a Question Mastodon shows as a one-click poll.

Mastodon cannot answer an Event (mastodon#12166, #20407), but it can vote in a
poll. Publishing an event (with `rsvp.poll` on) also sends this Question; a
vote comes back as a Note replying to it whose `name` is the option (as Gathio
does), and the sidecar counts it as an RSVP.

Mastodon reads a Question's `oneOf` options (each a Note with `name` and
`replies.totalItems`, the votes), `endTime` (when it closes: the event's
start), `closed` (it has closed) and `votersCount` (toot:votersCount), and
shows `content` above the options. The build serves the same document at the
poll's id (`urls.event_poll`), and the sidecar sends it in an Update with new
counts, so both call `question_object`.

The tally counts every answer, however it came (a vote, a reply word, a
Mobilizon Join, a Friendica Accept): the poll is where Mastodon users see who
is coming, and one answer per person is already the rule (`poll_counts`).
"Going" counts the waiting list too: that was their answer.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from commsite import urls
from commsite.content.attendance import Attendance, attendance_index
from commsite.content.model import RSVP_ANSWERS, Event, Site
from commsite.federation.documents import ACTIVITY_CONTEXT, PUBLIC
from commsite.feeds.atom import rfc3339

__all__ = ["POLL_CONTEXT", "poll_closed", "poll_counts", "poll_documents", "question_object"]

# The event context, plus Mastodon's term for the number of people who voted.
POLL_CONTEXT: list[Any] = [
    *ACTIVITY_CONTEXT[:-1],
    {
        **ACTIVITY_CONTEXT[-1],
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
    },
]

_STATUS_WORD = {"cancelled": "Cancelled", "postponed": "Postponed"}


def poll_closed(site: Site, event: Event) -> bool:
    """No more answers: the event has started, or it is cancelled."""
    return event.status == "cancelled" or site.now >= event.start


def _content(site: Site, event: Event, closed: bool) -> str:
    page = site.config.url(urls.event_page(event.slug))
    title = html.escape(event.title, quote=False)
    link = f'<a href="{html.escape(page)}">{html.escape(page)}</a>'
    status = _STATUS_WORD.get(event.status)
    if event.status == "cancelled":
        ask = f"<p><strong>{status}: {title}</strong></p><p>This event will not take place.</p>"
    elif closed:
        ask = f"<p><strong>{title}</strong></p><p>Answers closed when the event began.</p>"
    else:
        prefix = f"{status}: " if status else ""
        ask = (
            f"<p><strong>{prefix}{title}</strong></p>"
            "<p>Are you coming? Answer in one click: your vote is your RSVP,"
            " and you can change it by replying to the event.</p>"
        )
    return f"{ask}<p>{link}</p>"


def question_object(
    site: Site, event: Event, counts: Mapping[str, int], voters: int
) -> dict[str, Any]:
    """The event's poll as a Question document (with its @context).

    `counts`: votes per answer ("going", "maybe", "not_going"; missing ones are
    0); `voters`: how many people answered (Mastodon shows it under the poll).
    The options are named by `config.rsvp.poll_options`, in RSVP_ANSWERS order.
    Addressed like the event; it replies to the event, so servers thread them.
    """
    config = site.config
    event_id = config.url(urls.event_object(event.slug))
    actor = config.url(urls.ACTOR)
    closed = poll_closed(site, event)
    content = _content(site, event, closed)
    end = rfc3339(event.start)
    obj: dict[str, Any] = {
        "@context": POLL_CONTEXT,
        "id": config.url(urls.event_poll(event.slug)),
        "type": "Question",
        "attributedTo": actor,
        "to": [PUBLIC],
        "cc": [config.url(urls.FOLLOWERS)],
        "inReplyTo": event_id,
        "context": event_id,
        "url": config.url(urls.event_page(event.slug)),
        "content": content,
        "contentMap": {config.language: content},
        "sensitive": False,
        "oneOf": [
            {
                "type": "Note",
                "name": config.rsvp.option(answer),
                "replies": {"type": "Collection", "totalItems": max(0, counts.get(answer, 0))},
            }
            for answer in RSVP_ANSWERS
        ],
        "endTime": end,
        "votersCount": max(0, voters),
    }
    if closed:
        # A time is when it closed (the start); `true` (AS2 allows a boolean)
        # is "closed now" for an event cancelled before it: Mastodon reads both.
        obj["closed"] = end if site.now >= event.start else True
    return obj


def poll_counts(attendance: Attendance) -> tuple[dict[str, int], int]:
    """(votes per answer, voters) from an event's answers, however they came."""
    counts = {
        "going": len(attendance.going) + len(attendance.waiting),
        "maybe": len(attendance.maybe),
        "not_going": len(attendance.not_going),
    }
    return counts, sum(counts.values())


def poll_documents(site: Site) -> dict[str, bytes]:
    """Each event's Question at its id path (none when `rsvp.poll` is off), with
    the counts of interactions/rsvps/."""
    if not site.config.rsvp.poll:
        return {}
    index = attendance_index(site.events, site.members, site.interactions)
    documents = {}
    for event in site.events:
        counts, voters = poll_counts(index.of(event))
        document = question_object(site, event, counts, voters)
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        documents[urls.event_poll(event.slug)] = text.encode() + b"\n"
    return documents
