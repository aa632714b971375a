"""`commsite publish`: tell followers what changed on the site since last time.

The "publication" component of the data directory's database records, for
every story and event object we announced, the SHA-256 of its canonical JSON.
Publishing compares the site with that record: a new object is sent as
Create, a changed one as Update, one gone from the site as Delete (with a
Tombstone). The new record is written in the same transaction as the queue
rows (`DeliveryQueue.enqueue`), so a publish that stops half-way either queued
an activity and remembered it, or neither; running publish twice sends nothing
new. Then the queue is worked through (`run_deliveries`), retries included.

The first publish of a site that already has a history does not flood
timelines: everything is recorded as the baseline, and only stories dated in
the last `backfill_days` days, and events starting after that (upcoming ones
included), are announced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from commsite import urls
from commsite.activitypub.activities import create_activity, delete_activity, update_activity
from commsite.activitypub.objects import event_object, story_object
from commsite.activitypub.poll import question_object, tally
from commsite.content.loader import load_site
from commsite.content.model import Event, Site, Story
from commsite.database import Connection, connect, migrate, store_target, transaction
from commsite.datadir import PUBLIC_KEY_PATH, DataDir
from commsite.errors import CommsiteError, ContentError
from commsite.federation.delivery import (
    DeliveryOutcome,
    DeliveryQueue,
    run_deliveries,
    signer,
)
from commsite.federation.fetch import Fetcher, user_agent
from commsite.federation.follower_sync import MAX_BYTES as SYNC_MAX_BYTES
from commsite.federation.follower_sync import SyncReport, sync_followers
from commsite.federation.followers import FollowerStore
from commsite.federation.keys import key_id, load_private_key, public_key_pem
from commsite.federation.rsvp_publish import poll_wanted, publish_digest, rsvp_audience
from commsite.feeds.links import public_stories

__all__ = [
    "DEFAULT_BACKFILL_DAYS",
    "PlannedActivity",
    "Publication",
    "PublishReport",
    "enqueue_publication",
    "plan_publication",
    "publish",
]

COMPONENT = "publication"
DEFAULT_BACKFILL_DAYS = 7
POST_TIMEOUT = 30.0  # seconds for one delivery, answer included

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


@dataclass(frozen=True, slots=True)
class PublishReport:
    publication: Publication
    inboxes: int  # distinct inboxes the new activities went to
    followers: int
    queued: int  # new queue rows
    outcomes: tuple[DeliveryOutcome, ...] = ()
    pending: int = 0  # rows still waiting for a retry after this run
    next_attempt: datetime | None = None
    dry_run: bool = False
    failures: tuple[DeliveryOutcome, ...] = ()
    hosts_backing_off: tuple[tuple[str, str], ...] = ()  # (server, its last problem)

    def summary(self, now: datetime) -> str:
        """'3 activities → 4 inboxes: 11 delivered, 1 retrying (next in 2 min), 1 follower gone'."""
        n = len(self.publication.activities)
        if n:
            head = (
                f"{n} {_plural(n, 'activity', 'activities')} → "
                f"{self.inboxes} {_plural(self.inboxes, 'inbox', 'inboxes')}"
            )
        else:
            head = "Nothing new to publish"
        if self.dry_run:
            return head + " (dry run: nothing queued or sent)"
        tally = {status: 0 for status in ("delivered", "failed")}
        for outcome in self.outcomes:
            tally[outcome.status] = tally.get(outcome.status, 0) + 1
        parts = []
        if tally["delivered"]:
            parts.append(f"{tally['delivered']} delivered")
        if self.pending:
            when = ""
            if self.next_attempt is not None:
                when = f" (next in {_duration(self.next_attempt - now)})"
            parts.append(f"{self.pending} retrying{when}")
        if tally["failed"]:
            parts.append(f"{tally['failed']} failed")
        gone = sum(o.followers_removed for o in self.outcomes)
        if gone:
            parts.append(f"{gone} {_plural(gone, 'follower', 'followers')} gone")
        if not parts:
            return head if not n else f"{head}: no followers to send to"
        return f"{head}: {', '.join(parts)}"


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


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


def _migrate(conn: Connection) -> None:
    migrate(conn, COMPONENT, MIGRATIONS)


def _plan(site: Site, conn: Connection, now: datetime, backfill_days: int) -> Publication:
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
    _migrate(conn)
    return [p.activity for p in _plan(site, conn, now, backfill_days).activities]


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
    _migrate(conn)
    queued = 0
    stamp = now.astimezone(UTC).isoformat()
    with transaction(conn):
        publication = _plan(site, conn, now, backfill_days)
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


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def publish(
    site_root: Path,
    *,
    now: datetime,
    fetcher: Fetcher | None = None,
    progress: Callable[[DeliveryOutcome], None] | None = None,
    planned: Callable[[Publication, int], None] | None = None,
    clock: Callable[[], datetime] = _wall_clock,
    backfill_days: int = DEFAULT_BACKFILL_DAYS,
    dry_run: bool = False,
    retry_now: bool = False,
    per_host: int = 2,
    workers: int = 8,
    sync: Callable[[SyncReport], None] | None = None,
    images: Callable[[Site], Site] | None = None,
    delivering: Callable[[int], None] | None = None,
) -> PublishReport:
    """Load the site, queue what changed for every follower's inbox, deliver.

    `now` dates the content snapshot (what counts as published, the backfill
    window); `clock` schedules the queue (when retries are due); signatures use
    `fetcher.clock`, the real time at sending. Without a `fetcher`, one is made
    from commsite.yaml (federation.allow_private_addresses). `planned(publication, inboxes)`
    is called once the activities are queued (or planned, with `dry_run`),
    `progress` after every delivery attempt. With `sync`, the follower list is
    first copied from the sidecar (follower_sync.py; the key is needed then, dry
    run or not) and `sync(report)` told how it went. `images` gives the loaded site its
    image table (build.images.with_images: the objects then attach the variants
    the build made, with their sizes). `delivering(n)` is told how many
    deliveries are due just before they are sent (for a progress line).
    """
    site, diagnostics = load_site(site_root, now=now)
    errors = [d for d in diagnostics if d.is_error]
    if site is None or errors:
        raise ContentError(errors or diagnostics)
    if images is not None:
        site = images(site)
    config = site.config
    if not config.federation.enabled:
        raise CommsiteError("federation is disabled in commsite.yaml (federation.enabled: false)")
    data = DataDir.for_site(site_root, config.sidecar.data_dir)
    if fetcher is None:
        fetcher = Fetcher(
            allow_private=config.federation.allow_private_addresses,
            timeout=POST_TIMEOUT,
            user_agent=user_agent(config.base_url),
        )
    private_key = None
    if not dry_run or sync is not None:
        private_key = load_private_key(site_root, data_dir=data)
        if site.public_key_pem is None:
            raise CommsiteError(
                f"{PUBLIC_KEY_PATH} is missing, so followers cannot check our signatures;"
                f" run `commsite keys generate {site_root}` and commit the public key"
            )
        if site.public_key_pem.strip() != public_key_pem(private_key).strip():
            raise CommsiteError(
                f"the private key in {data.path} does not match {PUBLIC_KEY_PATH}:"
                " every server would reject our signatures; copy the right private key there"
            )
    data.ensure()
    conn = connect(store_target(data, config.sidecar))
    try:
        followers = FollowerStore(conn)
        queue = DeliveryQueue(conn)
        if sync is not None:
            assert private_key is not None
            signing = dataclasses.replace(
                fetcher, signer=(key_id(config), private_key), max_bytes=SYNC_MAX_BYTES
            )
            sync(sync_followers(followers, config, signing))
        inboxes = followers.delivery_inboxes()
        if dry_run:
            _migrate(conn)
            publication = _plan(site, conn, now, backfill_days)
            if planned is not None:
                planned(publication, len(inboxes))
            stats = queue.stats()
            return PublishReport(
                publication=publication,
                inboxes=len(inboxes),
                followers=followers.count(),
                queued=0,
                pending=stats.pending,
                next_attempt=stats.next_attempt,
                dry_run=True,
            )
        _migrate(conn)
        ahead = _plan(site, conn, now, backfill_days).activities
        audience = rsvp_audience(site, conn, fetcher, ((p.kind, p.object_id) for p in ahead))
        publication, queued = enqueue_publication(
            site, conn, queue, inboxes, now, backfill_days=backfill_days, audience=audience
        )
        if planned is not None:
            planned(publication, len(inboxes))
        if retry_now:
            queue.retry_now(clock())
        assert private_key is not None
        if delivering is not None:
            delivering(queue.depth(clock()).due)
        outcomes = run_deliveries(
            queue,
            followers,
            sign=signer(key_id(config), private_key, fetcher.clock),
            post=fetcher.post,
            clock=clock,
            per_host=per_host,
            workers=workers,
            progress=progress,
        )
        stats = queue.stats()
        return PublishReport(
            publication=publication,
            inboxes=len(inboxes) if publication.activities else 0,
            followers=followers.count(),
            queued=queued,
            outcomes=tuple(outcomes),
            pending=stats.pending,
            next_attempt=stats.next_attempt,
            failures=tuple(o for o in outcomes if o.status == "failed"),
            hosts_backing_off=stats.hosts_backing_off,
        )
    finally:
        conn.close()
