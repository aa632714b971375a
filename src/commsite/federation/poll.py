"""An event's RSVP poll: the ActivityPub `Question` Mastodon users vote in.

One builder for both ends, so the document has one shape: the build publishes
it (with the counts the export knows, or none) at urls.event_poll(SLUG), and
the sidecar sends it in an `Update` with the current counts after votes, so
voters see the tally. Mastodon reads `oneOf[].name`, `oneOf[].replies.totalItems`,
`votersCount`, `endTime` (when voting ends: the event's start) and `closed`
(once it has); a vote is a Note whose `name` is an option's and whose
`inReplyTo` is this Question's id (see sidecar/rsvps.py).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Event, Rsvp
from commsite.feeds.atom import rfc3339

__all__ = ["POLL_CONTEXT", "is_closed", "poll_update", "question_object", "tally"]

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
POLL_CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    {
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
        "sensitive": "as:sensitive",
    },
]


def tally(rsvps: Iterable[Rsvp], slug: str) -> tuple[dict[str, int], int]:
    """(counts by answer, people) for `question_object` from the exported answers
    to the event `slug`: what the sidecar counts (every approved answer, however
    it came), so the published document and the sidecar's Updates agree."""
    counts: dict[str, int] = {}
    people = 0
    for rsvp in rsvps:
        if rsvp.event == slug:
            counts[rsvp.answer] = counts.get(rsvp.answer, 0) + 1
            people += 1
    return counts, people


def is_closed(event: Event, now: datetime) -> bool:
    """Voting ends when the event starts."""
    return now >= event.start


def question_object(
    config: SiteConfig,
    event: Event,
    counts: Mapping[str, int],
    voters: int,
    now: datetime,
) -> dict[str, Any]:
    """The Question of `event`'s poll. `counts`: votes per answer ("going",
    "maybe", "not_going"; missing ones are 0); `voters`: how many people voted."""
    actor = config.url(urls.ACTOR)
    page = config.url(urls.event_page(event.slug))
    title = html.escape(event.title, quote=False)
    link = f'<a href="{html.escape(page)}">{title}</a>'
    options = " / ".join(html.escape(name, quote=False) for _, name in config.rsvp.poll_options)
    obj: dict[str, Any] = {
        "@context": POLL_CONTEXT,
        "id": config.url(urls.event_poll(event.slug)),
        "type": "Question",
        "attributedTo": actor,
        "to": [PUBLIC],
        "cc": [config.url(urls.FOLLOWERS)],
        "url": page,
        "context": config.url(urls.event_object(event.slug)),
        "content": f"<p>Are you coming to {link}? {options}</p>",
        "sensitive": False,
        "endTime": rfc3339(event.start),
        "votersCount": max(0, int(voters)),
        "oneOf": [
            {
                "type": "Note",
                "name": name,
                "replies": {"type": "Collection", "totalItems": max(0, int(counts.get(a, 0)))},
            }
            for a, name in config.rsvp.poll_options
        ],
    }
    if is_closed(event, now):
        obj["closed"] = rfc3339(event.start)
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
