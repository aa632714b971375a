"""`commsite publish`: tell followers what changed on the site since last time.

Load the site, check the key pair, copy the follower list from the sidecar
(`sync`), plan and queue what changed (publication.py: Create, Update or
Delete against the record of what was announced, in one transaction with the
queue rows), then work through the queue (`run_deliveries`), retries
included, and report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from commsite.content.loader import load_site
from commsite.content.model import Site
from commsite.database import connect, store_target
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
from commsite.federation.publication import (
    DEFAULT_BACKFILL_DAYS,
    Publication,
    enqueue_publication,
    migrate_publication,
    planned_publication,
)
from commsite.federation.rsvp_publish import rsvp_audience

__all__ = ["PublishReport", "publish"]

POST_TIMEOUT = 30.0  # seconds for one delivery, answer included


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
            migrate_publication(conn)
            publication = planned_publication(site, conn, now, backfill_days)
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
        migrate_publication(conn)
        ahead = planned_publication(site, conn, now, backfill_days).activities
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
