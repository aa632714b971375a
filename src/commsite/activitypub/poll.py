"""An event's RSVP poll: a Question Mastodon shows as a one-click poll.

Mastodon cannot answer an Event (mastodon#12166, #20407), but it can vote in a
poll. Publishing an event (with `rsvp.poll` on) also sends this Question; a
vote comes back as a Note replying to it whose `name` is the option (as Gathio
does), and the sidecar counts it as an RSVP (sidecar/rsvps.py).

Mastodon reads a Question's `oneOf` options (each a Note with `name` and
`replies.totalItems`, the votes), `endTime` (when it closes: the event's
start), `closed` (it has closed) and `votersCount` (toot:votersCount), and
shows `content` above the options. One builder for both ends, so the document
has one shape: the build serves it at the poll's id (`urls.event_poll`) with
the counts of interactions/rsvps/, and the sidecar sends it in an `Update`
with its current counts after votes, so voters see the tally.

The tally counts every approved answer, however it came (a vote, a reply
word, a Mobilizon Join, a Friendica Accept): the poll is where Mastodon users
see who is coming, and one answer per person is already the rule. "Going"
counts the waiting list too: that was their answer (`tally`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commsite import urls
from commsite.activitypub.vocabulary import ACTIVITY_CONTEXT, PUBLIC
from commsite.config import SiteConfig
from commsite.content.model import RSVP_ANSWERS, Event, Rsvp, Site
from commsite.feeds.atom import rfc3339

__all__ = [
    "POLL_CONTEXT",
    "PollMemo",
    "is_closed",
    "poll_documents",
    "poll_update",
    "question_object",
    "tally",
]

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


def is_closed(event: Event, now: datetime) -> bool:
    """No more answers: the event has started, or it is cancelled."""
    return event.status == "cancelled" or now >= event.start


def tally(rsvps: Iterable[Rsvp], slug: str) -> tuple[dict[str, int], int]:
    """(counts by answer, people) for `question_object` from the exported answers
    to the event `slug`: what the sidecar counts (every approved answer, however
    it came; "going" with the waiting list), so the published document and the
    sidecar's Updates agree."""
    counts: dict[str, int] = {}
    people = 0
    for rsvp in rsvps:
        if rsvp.event == slug:
            counts[rsvp.answer] = counts.get(rsvp.answer, 0) + 1
            people += 1
    return counts, people


def _content(config: SiteConfig, event: Event, closed: bool) -> str:
    page = config.url(urls.event_page(event.slug))
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
    config: SiteConfig,
    event: Event,
    counts: Mapping[str, int],
    voters: int,
    now: datetime,
) -> dict[str, Any]:
    """The event's poll as a Question document (with its @context).

    `counts`: votes per answer ("going", "maybe", "not_going"; missing ones are
    0); `voters`: how many people answered (Mastodon shows it under the poll).
    The options are named by `config.rsvp.poll_options`, in RSVP_ANSWERS order.
    Addressed like the event; it replies to the event, so servers thread them.
    """
    event_id = config.url(urls.event_object(event.slug))
    closed = is_closed(event, now)
    content = _content(config, event, closed)
    end = rfc3339(event.start)
    obj: dict[str, Any] = {
        "@context": POLL_CONTEXT,
        "id": config.url(urls.event_poll(event.slug)),
        "type": "Question",
        "attributedTo": config.url(urls.ACTOR),
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
                "replies": {
                    "type": "Collection",
                    "totalItems": max(0, int(counts.get(answer, 0))),
                },
            }
            for answer in RSVP_ANSWERS
        ],
        "endTime": end,
        "votersCount": max(0, int(voters)),
    }
    if closed:
        # A time is when it closed (the start); `true` (AS2 allows a boolean)
        # is "closed now" for an event cancelled before it: Mastodon reads both.
        obj["closed"] = end if now >= event.start else True
    return obj


def poll_update(config: SiteConfig, question: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """An `Update` carrying the Question with new counts. No `updated` on the
    object: Mastodon then takes it as new counts, not as an edit of the post."""
    embedded = {k: v for k, v in question.items() if k != "@context"}
    return {
        "@context": POLL_CONTEXT,
        "id": f"{question['id']}#counts/{now.timestamp():.6f}",
        "type": "Update",
        "actor": config.url(urls.ACTOR),
        "to": [PUBLIC],
        "cc": [config.url(urls.FOLLOWERS)],
        "object": embedded,
    }


@dataclass(slots=True)
class PollMemo:
    """The polls of the last call, for one config: event slug -> (what it was made
    from: the event, its RSVPs, whether it was closed; its bytes)."""

    config: object = None
    made: dict[str, tuple[tuple[object, ...], bytes]] = field(default_factory=dict)


def poll_documents(site: Site, memo: PollMemo | None = None) -> dict[str, bytes]:
    """Each event's Question at its id path (none when `rsvp.poll` is off), with
    the counts of interactions/rsvps/. `memo`: the last call's (a long-lived
    builder's), whose polls are kept where made from the same."""
    if not site.config.rsvp.poll:
        return {}
    memo = memo if memo is not None else PollMemo()
    if memo.config != site.config:
        memo.config, memo.made = site.config, {}
    by_event: dict[str, list[Rsvp]] = {}
    for rsvp in site.interactions.rsvps:  # (grouped once: tally reads one event's)
        by_event.setdefault(rsvp.event, []).append(rsvp)
    documents: dict[str, bytes] = {}
    made: dict[str, tuple[tuple[object, ...], bytes]] = {}
    for event in site.events:
        rsvps = tuple(by_event.get(event.slug, ()))
        key = (event, rsvps, site.now >= event.start)  # (what `closed` says)
        last = memo.made.get(event.slug)
        if last is not None and (last[0] is key or last[0] == key):
            data = last[1]
        else:
            counts, voters = tally(rsvps, event.slug)
            document = question_object(site.config, event, counts, voters, site.now)
            text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
            data = text.encode() + b"\n"
        made[event.slug] = key, data
        documents[urls.event_poll(event.slug)] = data
    memo.made = made
    return documents
