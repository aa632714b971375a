"""What `commsite publish` announces: the site compared with the record of what
was announced.

The "publication" component of the data directory's database records, for
every story and event object we announced, the SHA-256 of its canonical JSON.
Publishing compares the site with that record: a new object is sent as
Create, a changed one as Update, one gone from the site as Delete (with a
Tombstone). The new record is written in the same transaction as the queue
rows (`DeliveryQueue.enqueue`), so a publish that stops half-way either queued
an activity and remembered it, or neither; running publish twice sends nothing
new. (publish.py then works through the queue.)

The first publish of a site that already has a history does not flood
timelines: everything is recorded as the baseline, and only stories dated in
the last `backfill_days` days, and events starting after that (upcoming ones
included), are announced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from commsite import urls
from commsite.activitypub.activities import create_activity, delete_activity, update_activity
from commsite.activitypub.objects import event_object, story_object
from commsite.activitypub.poll import question_object, tally
from commsite.content.model import Event, Site, Story
from commsite.database import Connection, migrate, transaction
from commsite.federation.delivery import DeliveryQueue
from commsite.federation.rsvp_publish import poll_wanted, publish_digest
from commsite.feeds.links import public_stories

__all__ = [
    "DEFAULT_BACKFILL_DAYS",
    "PlannedActivity",
    "Publication",
    "enqueue_publication",
    "migrate_publication",
    "plan_publication",
    "planned_publication",
]

COMPONENT = "publication"
DEFAULT_BACKFILL_DAYS = 7

MIGRATIONS = (
    """
    CREATE TABLE publication_objects (
        object_id TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE TABLE publication_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)
_BASELINE_KEY = "baseline_recorded_at"


@dataclass(frozen=True, slots=True)
class PlannedActivity:
    """One activity to announce, and the record it leaves behind."""

    kind: str  # "Create" | "Update" | "Delete"
    object_id: str
    label: str  # "stories/SLUG", "events/SLUG", or the object id of a deleted object
    activity: dict[str, Any]
    sha256: str | None  # the object's new digest; None for a Delete


@dataclass(frozen=True, slots=True)
class Publication:
    """What the site says should be announced now, compared with the record."""

    activities: tuple[PlannedActivity, ...]
    first_run: bool  # no baseline yet: this run records one
    baseline: tuple[tuple[str, str], ...] = ()  # (object id, sha256) recorded without a send
    # "stories/SLUG" or "events/SLUG" of every object on the site, by object id
    labels: Mapping[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("Create", "Update", "Delete"), 0)
        for planned in self.activities:
            counts[planned.kind] += 1
        return counts


def _items(site: Site) -> list[tuple[str, datetime, dict[str, Any]]]:
    """(label, date, object) of every story and event that may federate, oldest first."""
    items: list[tuple[str, datetime, dict[str, Any]]] = []
    story: Story
    for story in public_stories(site):
        items.append((f"stories/{story.slug}", story.date, story_object(site, story)))
    event: Event
    for event in site.events:
        items.append((f"events/{event.slug}", event.start, event_object(site, event)))
    items.sort(key=lambda item: (item[1], item[0]))
    return items


def _poll(
    site: Site, event: Event, recorded: Mapping[str, str], labels: dict[str, str]
) -> tuple[str, dict[str, Any], str, str] | None:
    """(id, Question, label, digest) of `event`'s poll when publishing should
    send it: a Create while answers are open, an Update once it was sent. Its
    label keeps a sent poll from being deleted while the event exists."""
    poll_id = site.config.url(urls.event_poll(event.slug))
    label = f"polls/{event.slug}"
    labels[poll_id] = label
    if poll_id not in recorded and not poll_wanted(site, event):
        return None
    counts, voters = tally(site.interactions.rsvps, event.slug)
    question = question_object(site.config, event, counts, voters, site.now)
    return (
        poll_id,
        question,
        label,
        publish_digest({k: v for k, v in question.items() if k not in ("oneOf", "votersCount")}),
    )


def _poll_create(site: Site, poll: tuple[str, dict[str, Any], str, str]) -> PlannedActivity:
    return PlannedActivity("Create", poll[0], poll[2], create_activity(site, poll[1]), poll[3])


def migrate_publication(conn: Connection) -> None:
    """Make or bring up to date the publication record's tables."""
    migrate(conn, COMPONENT, MIGRATIONS)


def planned_publication(
    site: Site, conn: Connection, now: datetime, backfill_days: int
) -> Publication:
    """What publishing now would announce, against the record (which stays as it is)."""
    recorded = {
        str(object_id): str(digest)
        for object_id, digest in conn.execute(
            "SELECT object_id, sha256 FROM publication_objects"
        ).fetchall()
    }
    first_run = (
        conn.execute("SELECT 1 FROM publication_meta WHERE key = ?", (_BASELINE_KEY,)).fetchone()
        is None
    )
    window_start = now - timedelta(days=backfill_days)
    planned: list[PlannedActivity] = []
    baseline: list[tuple[str, str]] = []
    labels: dict[str, str] = {}
    events = {f"events/{e.slug}": e for e in site.events}
    for label, when, obj in _items(site):
        object_id = str(obj["id"])
        labels[object_id] = label
        digest = publish_digest(obj)  # (an event's RSVP counts left out)
        previous = recorded.get(object_id)
        event = events.get(label)
        poll = _poll(site, event, recorded, labels) if event is not None else None
        if previous == digest:
            if poll is not None and poll[0] not in recorded:
                planned.append(_poll_create(site, poll))  # (published before polls existed)
            continue
        if first_run and (backfill_days <= 0 or when < window_start):
            baseline.append((object_id, digest))
            continue
        if previous is None:
            activity, kind = create_activity(site, obj), "Create"
        else:
            activity, kind = update_activity(site, obj, now), "Update"
        planned.append(PlannedActivity(kind, object_id, label, activity, digest))
        if poll is not None:
            if poll[0] not in recorded:
                planned.append(_poll_create(site, poll))
            else:  # the poll says what the event now says (a cancellation closes it)
                update = update_activity(site, poll[1], now)
                planned.append(PlannedActivity("Update", poll[0], poll[2], update, poll[3]))
    for object_id in sorted(set(recorded) - set(labels)):
        planned.append(
            PlannedActivity("Delete", object_id, object_id, delete_activity(site, object_id), None)
        )
    return Publication(tuple(planned), first_run, tuple(baseline), labels)


def plan_publication(
    site: Site,
    conn: Connection,
    now: datetime,
    *,
    backfill_days: int = DEFAULT_BACKFILL_DAYS,
) -> list[dict[str, Any]]:
    """The activities publishing now would send (nothing is recorded or queued)."""
    migrate_publication(conn)
    return [p.activity for p in planned_publication(site, conn, now, backfill_days).activities]


def enqueue_publication(
    site: Site,
    conn: Connection,
    queue: DeliveryQueue,
    inboxes: list[str],
    now: datetime,
    *,
    backfill_days: int = DEFAULT_BACKFILL_DAYS,
    audience: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Publication, int]:
    """Plan, queue every activity to `inboxes` and record the new state, all in
    one transaction. Returns the publication and how many queue rows are new.
    `audience`: object id -> more inboxes for its activity (the people who
    answered an event, see rsvp_publish.py)."""
    migrate_publication(conn)
    queued = 0
    stamp = now.astimezone(UTC).isoformat()
    with transaction(conn):
        publication = planned_publication(site, conn, now, backfill_days)
        publication = dataclasses.replace(
            publication,
            activities=tuple(_fresh_id(p, queue, now) for p in publication.activities),
        )
        for planned in publication.activities:
            extra = (audience or {}).get(planned.object_id, ())
            queued += queue.enqueue(planned.activity, [*inboxes, *extra], now=now)
            if planned.sha256 is None:
                conn.execute(
                    "DELETE FROM publication_objects WHERE object_id = ?", (planned.object_id,)
                )
            else:
                _record(conn, planned.object_id, planned.sha256, stamp)
        for object_id, digest in publication.baseline:
            _record(conn, object_id, digest, stamp)
        if publication.first_run:
            conn.execute(
                "INSERT INTO publication_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_BASELINE_KEY, stamp),
            )
    return publication, queued


def _fresh_id(planned: PlannedActivity, queue: DeliveryQueue, now: datetime) -> PlannedActivity:
    """The activity with an id the queue has not seen.

    Create and Delete ids are derived from the object id, so a story removed
    and later restored would repeat its first Create's id, and the queue
    (idempotent by id) would silently skip it; such a repeat gets a time suffix.
    """
    activity_id = str(planned.activity["id"])
    if not queue.knows(activity_id):
        return planned
    fresh = f"{activity_id}-{int(now.timestamp())}"
    return dataclasses.replace(planned, activity={**planned.activity, "id": fresh})


def _record(conn: Connection, object_id: str, digest: str, stamp: str) -> None:
    conn.execute(
        "INSERT INTO publication_objects (object_id, sha256, recorded_at) VALUES (?, ?, ?)"
        " ON CONFLICT (object_id) DO UPDATE SET sha256 = excluded.sha256,"
        " recorded_at = excluded.recorded_at",
        (object_id, digest, stamp),
    )
