"""`commsite publish`: announce new, edited and removed stories and events to followers."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import click

from commsite.cli.site_arg import site_argument
from commsite.content.config_loader import load_config
from commsite.datadir import PUBLIC_KEY_PATH, DataDir
from commsite.errors import CommsiteError, ContentError, count_line
from commsite.federation.delivery import DeliveryOutcome
from commsite.federation.follower_sync import SyncReport
from commsite.federation.publication import DEFAULT_BACKFILL_DAYS, Publication
from commsite.federation.publish import PublishReport
from commsite.federation.publish import publish as run_publish
from commsite.progress import ProgressReporter

__all__ = ["EXIT_DELIVERY_FAILED", "publish"]

# The exit status when a delivery failed for good in this run (a final 4xx, or
# retries ran out): the activities were queued and the rest went out, but some
# follower's server will never get one. 1 stays "nothing was sent" (bad content,
# no key), so a deploy script can tell the two apart.
EXIT_DELIVERY_FAILED = 3


def _inboxes(n: int) -> str:
    return "inbox" if n == 1 else "inboxes"


DELIVERING = "delivering"
DETAILED = 50  # up to this many deliveries, each is printed; beyond, a progress line

_MARK = {"delivered": "delivered", "retry": "retrying ", "failed": "FAILED   ", "gone": "gone     "}


@click.command()
@site_argument()
@click.option(
    "--dry-run", is_flag=True, help="Show what would be announced; queue and send nothing."
)
@click.option(
    "--retry-now",
    is_flag=True,
    help="Retry deliveries that are waiting for their backoff now instead of later.",
)
@click.option(
    "--backfill-days",
    type=click.IntRange(min=0),
    default=DEFAULT_BACKFILL_DAYS,
    show_default=True,
    help="Only on the first publish of a site: announce stories dated in the last N days "
    "and events starting after then (upcoming ones too); everything older is recorded "
    "as already published. 0 announces nothing the first time.",
)
@click.option(
    "--sync-followers",
    is_flag=True,
    help="First copy the follower list from the sidecar (a request signed with the"
    " community's key): for publishing from CI, away from the sidecar's data directory.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Deliveries in flight at once. More processes may deliver from the same queue"
    " at the same time (another publish, the sidecar): see docs/federation.md.",
)
@click.option(
    "--per-host",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Deliveries in flight at once to one server, counting every process's.",
)
@click.option("--verbose", "-v", is_flag=True, help="Print every delivery, however many there are.")
def publish(
    site: Path,
    dry_run: bool,
    retry_now: bool,
    backfill_days: int,
    sync_followers: bool,
    workers: int,
    per_host: int,
    verbose: bool,
) -> None:
    """Send followers a Create for each new story and event, an Update for each
    edited one and a Delete for each one removed, then work through the delivery
    queue.

    \b
    Run it after each deploy. Running it again sends nothing new: what was
    announced is recorded in the data directory (.commsite/). Deliveries that
    fail are retried with backoff for about a week (each later run, or the
    sidecar, retries the ones that are due); an inbox that answers 410 Gone
    loses its followers. Needs the private key: `commsite keys generate`.

    \b
    The first publish of a site announces only what is recent (see
    --backfill-days), so followers' timelines are not flooded with its history.

    \b
    From CI (docs/deploy.md), where the private key comes from a secret and the
    followers are the sidecar's, --sync-followers asks the sidecar for them.

    \b
    Exit status: 0 when everything was queued (deliveries may still be
    waiting for a retry); 1 when nothing was sent (content errors, no key,
    federation off); 3 when a delivery failed for good in this run (refused
    with a 403, 404 or other final 4xx, or a week of retries ran out; printed
    with FAILED).

    \b
    Examples:
      commsite publish --dry-run          what would go out, sending nothing
      commsite publish                    announce, then deliver
      commsite publish my-community --retry-now
      commsite publish --backfill-days 0  first run: announce nothing old
      commsite publish . --sync-followers on a CI runner
    """
    if not site.is_dir():
        raise click.ClickException(f"{site}: no such directory; give the site's folder")
    from commsite.build.images import with_images  # (Pillow: only when publishing)

    labels: dict[str, str] = {}  # object id -> "stories/SLUG"

    def planned(publication: Publication, inboxes: int) -> None:
        labels.update(publication.labels)
        will = "would be" if dry_run else "were"
        if publication.first_run:
            window = (
                f"stories from the last {backfill_days} days and events starting since then"
                if backfill_days
                else "nothing"
            )
            click.echo(
                f"First publish: {len(publication.baseline)} older stories and events {will}"
                f" recorded as already published; announcing {window} (--backfill-days)."
            )
        n = len(publication.activities)
        if not n:
            return
        activities = f"{n} {'activity' if n == 1 else 'activities'}"
        if inboxes:
            verb = "Would queue" if dry_run else "Queued"
            click.echo(f"{verb} {activities} for {inboxes} {_inboxes(inboxes)}:")
        else:
            click.echo(f"No followers yet: {activities} {will} recorded as published, unsent:")
        for p in publication.activities:
            click.echo(f"  {p.kind:<6} {p.label}")

    reporter = ProgressReporter.for_stream(sys.stderr)
    reporter.unit(DELIVERING, "deliveries")
    counts = {"due": 0, "done": 0}
    started = time.monotonic()

    def delivering(due: int) -> None:
        counts["due"] = due
        if not detailed():  # (a line per delivery says it all for a few)
            reporter(DELIVERING, 0, due)

    def progress(outcome: DeliveryOutcome) -> None:
        counts["done"] += 1
        if not detailed():
            reporter(DELIVERING, counts["done"], max(counts["due"], counts["done"]))
        if outcome.status in ("delivered", "retry") and not detailed():
            return  # (counted in the summary; failures and gone inboxes are always listed)
        obj = outcome.object_id or ""
        what = f"{outcome.activity_type} {labels.get(obj, obj)}".strip() or outcome.activity_id
        line = f"{_MARK[outcome.status]} {what} → {outcome.inbox}: {outcome.detail}"
        if outcome.next_attempt is not None:
            line += f"; next attempt {outcome.next_attempt:%Y-%m-%d %H:%M} UTC"
        if outcome.followers_removed:
            line += f"; {outcome.followers_removed} follower(s) removed"
        click.echo(line, err=outcome.status == "failed")

    def detailed() -> bool:
        return verbose or counts["due"] <= DETAILED

    def synced(report: SyncReport) -> None:
        changes = []
        if report.added:
            changes.append(f"{report.added} new")
        if report.removed:
            changes.append(f"{report.removed} gone")
        more = f" ({', '.join(changes)})" if changes else ""
        n = report.followers
        click.echo(f"{n} {'follower' if n == 1 else 'followers'} from the sidecar{more}.")

    try:
        report = run_publish(
            site,
            sync=synced if sync_followers else None,
            now=datetime.now(UTC),
            planned=planned,
            progress=progress,
            backfill_days=backfill_days,
            dry_run=dry_run,
            retry_now=retry_now,
            images=with_images(site),
            workers=workers,
            per_host=per_host,
            delivering=delivering,
        )
    except ContentError as exc:
        for d in exc.diagnostics:
            click.echo(d.format(), err=True)
        click.echo(count_line(exc.diagnostics), err=True)
        raise SystemExit(1) from exc
    except CommsiteError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        reporter.finish()
    if not detailed():
        click.echo(_scale_line(report, time.monotonic() - started))
    click.echo(report.summary(datetime.now(UTC)))
    if dry_run:
        for problem in _key_problems(site):
            click.echo(f"warning: {problem}", err=True)
    if report.failures:
        raise SystemExit(EXIT_DELIVERY_FAILED)


def _scale_line(report: PublishReport, seconds: float) -> str:
    """'9,500 delivery attempts to 5,000 servers in 61.2 s (155/s); 2 servers backing
    off: s1.test (no answer), s2.test (HTTP 503)'."""
    attempts = len(report.outcomes)
    servers = len({urlsplit(o.inbox).netloc for o in report.outcomes})
    rate = f" ({attempts / seconds:,.0f}/s)" if seconds > 0 else ""
    noun = "server" if servers == 1 else "servers"
    line = f"{attempts:,} delivery attempts to {servers:,} {noun} in {seconds:.1f} s{rate}"
    backing = report.hosts_backing_off
    if backing:
        shown = ", ".join(f"{host} ({detail[:60] or 'no answer'})" for host, detail in backing[:5])
        more = f" and {len(backing) - 5} more" if len(backing) > 5 else ""
        noun = "server" if len(backing) == 1 else "servers"
        line += f"; {len(backing)} {noun} backing off: {shown}{more}"
    return line


def _key_problems(site: Path) -> list[str]:
    """What would stop a real publish that a dry run does not need: the key pair."""
    config, _ = load_config(site)
    data = DataDir.for_site(site, config.sidecar.data_dir if config else ".commsite")
    where = "" if site == Path(".") else f" {site}"
    problems = []
    if not data.private_key.is_file():
        problems.append(
            f"no private key at {data.private_key}: a real publish would stop here; "
            f"run `commsite keys generate{where}`"
        )
    if not (site / PUBLIC_KEY_PATH).is_file():
        problems.append(
            f"{PUBLIC_KEY_PATH} is missing: a real publish would stop here; "
            "commit the public key that `commsite keys generate` writes"
        )
    return problems
