"""What publishing adds for RSVPs: each new event's poll, and the people who
answered an event among the recipients of its Update or Delete.

* The poll (a Question, activitypub/poll.py) is sent once, as a Create, right
  after the Create of an upcoming event that is not cancelled, when
  `rsvp.poll` is on. An upcoming event published before polls existed gets its
  poll on the next publish. The sidecar sends the poll's Updates (new counts);
  publishing never does, and a poll is deleted only with its event.
* An event's RSVP counts change with every answer; they are left out of the
  digest that decides whether the event changed (`publish_digest`), so an
  answer does not send every follower an Update. The Update of a real change
  carries the counts of the moment.
* Everyone who answered an event (interactions/rsvps/, any answer) gets its
  Update or Delete, followers or not, so a cancellation reaches them. Their
  inboxes come from the sidecar's store of actors (`inbox_actors`, same
  database), else from their actor document, fetched with the usual limits;
  an inbox on another host than its actor is not used (a hostile actor
  document must not turn our publish into deliveries to a third party).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from commsite import urls
from commsite.activitypub.poll import is_closed
from commsite.content.member_match import normal_url
from commsite.content.model import Event, Site
from commsite.database import Connection
from commsite.federation.fetch import Fetcher, FetchError

__all__ = [
    "VOLATILE",
    "answerers",
    "poll_wanted",
    "publish_digest",
    "resolve_inboxes",
    "rsvp_audience",
]

# Fields of an Event object that change with every answer.
VOLATILE = ("participantCount", "remainingAttendeeCapacity")


def publish_digest(obj: Mapping[str, Any]) -> str:
    """SHA-256 of the object's canonical JSON, without the RSVP counts."""
    stable = {k: v for k, v in obj.items() if k not in VOLATILE}
    canonical = json.dumps(stable, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def poll_wanted(site: Site, event: Event) -> bool:
    """Whether publishing should send `event`'s poll: polls on, answers open."""
    return site.config.rsvp.poll and not is_closed(event, site.now)


def answerers(site: Site, object_id: str) -> list[str]:
    """The actor URLs of everyone who answered the event `object_id` names (the
    event's object or its poll)."""
    for prefix in (urls.event_object(""), urls.event_poll("")):
        if object_id.startswith(site.config.url(prefix)):
            slug = object_id[len(site.config.url(prefix)) :]
            break
    else:
        return []
    found = {
        actor
        for rsvp in site.interactions.rsvps
        if rsvp.event == slug and (actor := normal_url(rsvp.author_actor)) is not None
    }
    return sorted(found)


def _origin(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return ("", None)
    return ((parts.hostname or "").lower(), port)


def _same_host(a: str, b: str) -> bool:
    """The same server: host (case-insensitively) and port (default ones implied)."""
    return _origin(a) == _origin(b) and _origin(a)[0] != ""


def _stored(conn: Connection, actors: list[str]) -> dict[str, str]:
    """Inboxes the sidecar stored for `actors` (its `inbox_actors`, if the table exists)."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'inbox_actors'"
    ).fetchone()
    if not has_table or not actors:
        return {}
    found: dict[str, str] = {}
    for chunk in range(0, len(actors), 500):
        part = actors[chunk : chunk + 500]
        marks = ",".join("?" * len(part))
        rows = conn.execute(
            f"SELECT id, COALESCE(shared_inbox, inbox) FROM inbox_actors WHERE id IN ({marks})",
            part,
        ).fetchall()
        found.update((str(a), str(i)) for a, i in rows if i)
    return found


def _fetched(fetcher: Fetcher, actor: str) -> str | None:
    try:
        document = fetcher.get_json(actor)
    except FetchError:
        return None
    endpoints = document.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    inbox = shared if isinstance(shared, str) else document.get("inbox")
    return inbox if isinstance(inbox, str) else None


def resolve_inboxes(
    actors: Iterable[str],
    conn: Connection,
    fetcher: Fetcher | None,
    warn: Callable[[str], None] = lambda _: None,
) -> dict[str, str]:
    """actor -> the inbox to deliver to (its shared inbox when it has one), for
    those that resolve; `warn` hears about the others."""
    wanted = sorted(set(actors))
    found = _stored(conn, wanted)
    for actor in wanted:
        if actor not in found and fetcher is not None:
            inbox = _fetched(fetcher, actor)
            if inbox is not None:
                found[actor] = inbox
    usable: dict[str, str] = {}
    for actor in wanted:
        inbox = found.get(actor)
        scheme = urlsplit(inbox).scheme if inbox else ""
        if inbox is None:
            warn(f"{actor}: no inbox found; it will not hear of this change")
        elif scheme not in ("https", "http") or not _same_host(inbox, actor):
            warn(f"{actor}: its inbox {inbox} is not on its own server; not used")
        else:
            usable[actor] = inbox
    return usable


def rsvp_audience(
    site: Site,
    conn: Connection,
    fetcher: Fetcher | None,
    planned: Iterable[tuple[str, str]],
    warn: Callable[[str], None] = lambda _: None,
) -> dict[str, list[str]]:
    """object id -> the inboxes of the people who answered it, for each Update
    or Delete of an event (or its poll) among `planned`, (kind, object id) pairs."""
    wanted = {
        object_id: answerers(site, object_id)
        for kind, object_id in planned
        if kind in ("Update", "Delete")
    }
    inboxes = resolve_inboxes(
        (a for actors in wanted.values() for a in actors), conn, fetcher, warn
    )
    return {
        object_id: sorted({inboxes[a] for a in actors if a in inboxes})
        for object_id, actors in wanted.items()
        if any(a in inboxes for a in actors)
    }
