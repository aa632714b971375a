"""`commsite sidecar`, `commsite moderate`, `commsite interactions`: the inbox side."""

from __future__ import annotations

import logging
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import click

from commsite.cli import sidecar_db_cmd, welcome_cmd
from commsite.cli.site_arg import site_argument
from commsite.content.loader import load_site
from commsite.datadir import DataDir, store_target
from commsite.errors import CommsiteError
from commsite.sidecar import dead_letters, moderation, rsvp_moderation, welcome_send
from commsite.sidecar.export import export_interactions
from commsite.sidecar.rebuild import rebuild_hook
from commsite.sidecar.server import (
    Options,
    load_config_or_fail,
    open_sidecar,
    run,
    run_worker,
    waitress_server,
)
from commsite.sidecar.store import Store
from commsite.sidecar.worker import RebuildNotifier

SITE = site_argument()


# `commsite moderate` subcommands take the site last, after what they act on:
# `commsite moderate approve 12 /srv/community`. The group keeps --site/-s
# (before the subcommand), and `commsite moderate SITE` lists what waits there.
GROUP_SITE_OPTION = click.option(
    "--site",
    "-s",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="The site's folder (default: this folder); or name it after the subcommand.",
)
_GROUP_SITE = "commsite.moderate.site"


def _group_site() -> Path:
    """The group's --site (`commsite moderate -s DIR approve 12`), else this folder."""
    group_site = click.get_current_context().find_root().meta.get(_GROUP_SITE)
    return group_site if isinstance(group_site, Path) else Path(".")


SUBCOMMAND_SITE = site_argument(fallback=_group_site)


class _ModerateGroup(click.Group):
    """`commsite moderate SITE` is `commsite moderate list SITE`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = args[0] if args else None
        if (
            first is not None
            and first not in self.commands
            and not first.startswith("-")
            and Path(first).is_dir()
        ):
            args = ["list", *args]
        return super().parse_args(ctx, args)


class _SubjectCommand(click.Command):
    """A moderate subcommand taking one SUBJECT, then [SITE]. `approve SITE 12`,
    the form from before the site was an option, gets told the form of now."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if (
            len(args) >= 2
            and not args[0].startswith("-")
            and not args[1].startswith("-")
            and (Path(args[0]) / "commsite.yaml").is_file()
            and not (Path(args[1]) / "commsite.yaml").is_file()
        ):
            site, subject = args[0], args[1]
            raise click.UsageError(
                f"the site comes after {subject!r} now: commsite moderate {self.name}"
                f" {subject} {site}",
                ctx,
            )
        return super().parse_args(ctx, args)


def _store(root: Path) -> Store:
    config = load_config_or_fail(root)
    data_dir = DataDir.for_site(root, config.sidecar.data_dir)
    data_dir.ensure()  # with its .gitignore, should this be the first use
    return Store(store_target(data_dir, config.sidecar))


def _fail(exc: CommsiteError) -> click.ClickException:
    return click.ClickException(str(exc))


@click.command("run")
@SITE
@click.option("--host", default=None, help="Address to listen on (default: sidecar.host).")
@click.option("--port", "-p", default=None, type=int, help="Port (default: sidecar.port, 8787).")
@click.option(
    "--serve-site",
    is_flag=True,
    help="Also serve the built site (public/) and answer WebFinger, for hosts without nginx.",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="The built site to serve with --serve-site (default: SITE/public).",
)
@click.option(
    "--trust-forwarded-host",
    is_flag=True,
    help="Behind a proxy: verify signatures against X-Forwarded-Host instead of Host.",
)
@click.option("--rate", default=10.0, show_default=True, help="Requests a second per domain.")
@click.option("--burst", default=100, show_default=True, help="Burst allowed per domain.")
@click.option(
    "--threads",
    default=8,
    show_default=True,
    help="waitress worker threads (at most half of them fetch keys at once).",
)
@click.option(
    "--worker-only",
    is_flag=True,
    help="Only process the queue, no HTTP (more workers beside the inbox processes).",
)
def run_sidecar(
    site: Path,
    host: str | None,
    port: int | None,
    serve_site: bool,
    output: Path | None,
    trust_forwarded_host: bool,
    rate: float,
    burst: int,
    threads: int,
    worker_only: bool,
) -> None:
    """Run the inbox: verify, store and answer deliveries; process them in the background.

    \b
    Routes: POST /inbox and /ap/inbox, GET /ap/followers, GET /healthz
    (and, with --serve-site, the site itself). See docs/sidecar.md.

    \b
    Examples:
      commsite sidecar                      the site in this folder, on sidecar.port
      commsite sidecar /srv/community -p 8788
      commsite sidecar --serve-site         also serve public/ and WebFinger (no nginx)
      commsite sidecar --trust-forwarded-host --host 127.0.0.1   behind a proxy
      commsite sidecar --worker-only        one more worker, sharing PostgreSQL

    \b
    The database (SQLite, or PostgreSQL with sidecar.database):
      commsite sidecar migrate [SITE]            apply the schema migrations
      commsite sidecar export-db FILE [SITE]     dump it all (JSON lines)
      commsite sidecar import-db FILE [SITE]     load a dump (e.g. SQLite -> PostgreSQL)

    Ctrl-C or SIGTERM (systemd, docker stop) stops it cleanly: deliveries
    already answered 202 are in the database and are processed on the next start.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    options = Options(
        serve_site=serve_site,
        output=output,
        trust_forwarded_host=trust_forwarded_host,
        rate=rate,
        burst=burst,
        threads=threads,
    )
    try:
        running = open_sidecar(site, options)
    except CommsiteError as exc:
        raise _fail(exc) from exc
    if worker_only:
        signal.signal(signal.SIGTERM, _interrupt)
        click.echo(f"commsite sidecar worker for {running.config.base_url} (Ctrl-C to stop)")
        run_worker(running)
        click.echo("Stopped.")
        return
    host = host or running.config.sidecar.host
    port = port if port is not None else running.config.sidecar.port
    # Bind before the banner, so a busy port is one clear line, not a traceback.
    try:
        server = waitress_server(running, host, port)
    except CommsiteError as exc:
        running.close()
        raise _fail(exc) from exc
    # SIGTERM (systemd, docker stop, kill) stops the sidecar as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"commsite sidecar for {running.config.base_url} on "
        f"http://{shown}:{server.effective_port}/ (Ctrl-C to stop)"
    )
    run(running, server)
    click.echo("Stopped.")


class _SidecarGroup(click.Group):
    """`commsite sidecar [SITE] [OPTIONS]` is `commsite sidecar run ...`: the inbox
    server stays the command; migrate, export-db and import-db are the database's
    chores (cli/sidecar_db_cmd.py)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_SidecarGroup)
def sidecar() -> None:
    """Run the inbox (commsite sidecar [SITE]); migrate, export-db, import-db."""


sidecar.add_command(run_sidecar)
sidecar.add_command(sidecar_db_cmd.migrate)
sidecar.add_command(sidecar_db_cmd.export_db)
sidecar.add_command(sidecar_db_cmd.import_db)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # A second signal while the worker finishes must not cut the shutdown short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


# --- moderate ---------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _check_rule(root: Path, rule: int | None) -> None:
    """Refuse a --rule that rules.md does not show: rule N is the item the
    rules page numbers N (a list written from "3." has rules 3, 4, ...)."""
    if rule is None:
        return
    site, _ = load_site(root, now=_now())
    if site is None:
        raise click.BadParameter(
            "the site does not load, so the rule cannot be checked; run 'commsite check'",
            param_hint="--rule",
        )
    numbers = site.rules.numbers
    if rule not in numbers:
        raise click.BadParameter(
            f"{_rules_numbered(numbers)}; there is no rule {rule}", param_hint="--rule"
        )


def _rules_numbered(numbers: range) -> str:
    if not numbers:
        return "rules.md has no numbered list of rules"
    if len(numbers) == 1:
        return f"rules.md has one rule, rule {numbers[0]}"
    return f"rules.md numbers its rules {numbers[0]} to {numbers[-1]}"


def _notify(root: Path, what: str) -> None:
    hook = rebuild_hook(load_config_or_fail(root).sidecar, os.environ)
    if hook is None:
        return
    if hook.problem():
        click.echo(f"warning: {hook.problem()}", err=True)
    if not RebuildNotifier(hook, delays=(1, 5)).send_now([what]):
        click.echo("warning: the rebuild webhook did not answer; rebuild by hand", err=True)


WELCOME = click.option(
    "--welcome",
    type=click.Choice(welcome_cmd.CHOICES),
    default=None,
    help="For an introduction: send the proposed welcome reply, edit it in $EDITOR"
    " first, skip it, or ask. [default: ask in a terminal; otherwise decide later]",
)
WELCOME_TEXT = click.option(
    "--welcome-text",
    metavar="TEXT",
    help="For an introduction: send this welcome instead of the proposed one"
    " (@user@host mentions someone).",
)

RULE = click.option(
    "--rule",
    type=int,
    help="The number of the rule in rules.md this cites, as the rules page shows it.",
)
NOTE = click.option("--note", help="A note for the decision log.")


@click.group(cls=_ModerateGroup, invoke_without_command=True)
@GROUP_SITE_OPTION
@click.pass_context
def moderate(ctx: click.Context, site: Path | None) -> None:
    """Review what waits: replies, introductions, messages and reports.

    Run it in the site's folder, or name the folder last, as for every
    command (`commsite moderate approve 12 /srv/community`). An item is its
    number from `list`; an actor is its URL or @user@host.

    \b
    Examples:
      commsite moderate                       what waits, for the site here
      commsite moderate /srv/community        what waits, for the site there
      commsite moderate approve 12            publish item 12
      commsite moderate approve 12 --welcome send   ... and send the proposed welcome
      commsite moderate welcome               introductions not welcomed yet
      commsite moderate approve @ada@social.example   every waiting item of an actor
      commsite moderate reject 12 --rule 3 --note "advertising"
      commsite moderate block-actor @spam@bad.example
      commsite moderate block-domain bad.example
      commsite moderate log                   every decision so far
      commsite moderate dead-letters          what processing could not handle
    """
    if site is not None:
        ctx.find_root().meta[_GROUP_SITE] = site
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_pending, site=site)


@moderate.command(name="list")
@SUBCOMMAND_SITE
def list_pending(site: Path) -> None:
    """What waits for a decision: number, kind, who, where, why, excerpt.

    \b
    Examples:
      commsite moderate list
      commsite moderate list /srv/community
    """
    try:
        store = _store(site)
    except CommsiteError as exc:
        raise _fail(exc) from exc
    waiting = moderation.pending(store)
    for p in waiting:
        where = f" on {p.target}" if p.target else ""
        click.echo(f"#{p.seq} {p.kind}{where} from {p.handle} ({p.received_at})")
        if p.reason:
            click.echo(f"    waits: {p.reason}")
        click.echo(f"    {p.excerpt}")
    rsvps = rsvp_moderation.pending(store)
    for r in rsvps:
        place = " (waiting list)" if r.waiting else ""
        click.echo(
            f"#{r.number} rsvp {r.answer}{place} to events/{r.event} from {r.handle}"
            f" via {r.via} ({r.answered_at})"
        )
        if r.reason:
            click.echo(f"    waits: {r.reason}")
        if r.excerpt:
            click.echo(f"    {r.excerpt}")
    dead = store.dead_letters()
    if dead:
        click.echo(
            f"{dead} activit{'ies' if dead != 1 else 'y'} could not be processed;"
            " see `commsite moderate dead-letters`"
        )
    total = len(waiting) + len(rsvps)
    click.echo(f"{total} item{'s' if total != 1 else ''} waiting")
    unwelcomed = len(welcome_send.introductions_awaiting_welcome(store, _now()))
    if unwelcomed:
        click.echo(
            f"{unwelcomed} recent introduction{'s' if unwelcomed != 1 else ''}"
            " without a welcome; see `commsite moderate welcome`"
        )


def _store_for_decision(site: Path, rule: int | None) -> tuple[Path, Store]:
    """The site and its store, once the rule a decision cites is known to exist."""
    try:
        store = _store(site)
        _check_rule(site, rule)
    except CommsiteError as exc:
        raise _fail(exc) from exc
    return site, store


def _decide(
    site: Path,
    verb: str,
    subject: str,
    rule: int | None,
    note: str | None,
    welcome: str | None = None,
    welcome_text: str | None = None,
) -> None:
    site, store = _store_for_decision(site, rule)
    decide = moderation.approve if verb == "approve" else moderation.reject
    now = _now()
    done: list[str] = []
    if not rsvp_moderation.is_rsvp_subject(subject):
        done += [str(n) for n in decide(store, subject, now, rule=rule, note=note)]
    status = "approved" if verb == "approve" else "rejected"
    config = load_config_or_fail(site)
    done += rsvp_moderation.decide(store, config, status, subject, now, rule=rule, note=note)
    if not done:
        raise click.ClickException(f"nothing waits under {subject!r}; see `commsite moderate list`")
    past = "approved" if verb == "approve" else "rejected"
    click.echo(f"{past} {', '.join(f'#{n}' for n in done)}")
    _notify(site, f"{past} {len(done)} item(s)")
    if verb == "approve":
        for seq in done:
            intro = welcome_send.find_introduction(store, str(seq))
            if intro is not None and welcome_send.welcome_of(store, intro.ap_id) is None:
                welcome_cmd.offer_welcome(
                    site, store, intro, welcome, welcome_text, _now, approving=True
                )


@moderate.command(cls=_SubjectCommand)
@click.argument("subject")
@RULE
@NOTE
@WELCOME
@WELCOME_TEXT
@SUBCOMMAND_SITE
def approve(
    site: Path,
    subject: str,
    rule: int | None,
    note: str | None,
    welcome: str | None,
    welcome_text: str | None,
) -> None:
    """Publish SUBJECT: an item (its number) or every waiting item of an actor (URL or @handle).

    Approving an introduction proposes a welcome reply from the community
    account: it greets the newcomer by name, mentions two or three members
    who share interests found in the introduction (its hashtags and words
    against members' `interests`), and links the rules. Send it as it is,
    edit it in $EDITOR first, or skip it (--welcome); see `commsite moderate
    welcome --help`.

    \b
    Examples:
      commsite moderate approve 12
      commsite moderate approve 12 --welcome send      the proposed welcome, as it is
      commsite moderate approve 12 --welcome edit      ... edited in $EDITOR first
      commsite moderate approve 12 --welcome skip      no welcome
      commsite moderate approve 12 --welcome-text "@dan@x.example Welcome, Dan!"
      commsite moderate approve @ada@social.example --note "known from the café"
      commsite moderate approve 12 /srv/community
    """
    _decide(site, "approve", subject, rule, note, welcome, welcome_text)


@moderate.command(name="welcome")
@click.argument("subject", required=False)
@WELCOME
@WELCOME_TEXT
@SUBCOMMAND_SITE
def welcome_reply(
    site: Path, subject: str | None, welcome: str | None, welcome_text: str | None
) -> None:
    """Welcome a newcomer: propose, then send, edit or skip the reply to introduction SUBJECT.

    Without SUBJECT, list the approved introductions of the last 30 days no
    welcome was sent or skipped for. SUBJECT is the introduction's number (as `list` showed it)
    or its ActivityPub id.

    \b
    The welcome is a reply from the community account, in the introduction's
    thread: it greets the newcomer by name, mentions up to three members who
    share interests with the introduction (those sharing more first; among
    equals, those introduced to fewer newcomers before), says what they share
    and links the rules page. It is a signed Create of a Note, addressed to the
    newcomer and the members it mentions and unlisted (public in the thread,
    kept off public timelines), delivered to their inboxes now; the sidecar
    retries deliveries that fail. In the editor, @user@host is a mention and
    lines starting with '#' are left out; the newcomer is always addressed.

    \b
    Examples:
      commsite moderate welcome                  introductions without a welcome
      commsite moderate welcome 12               show the proposal, then ask
      commsite moderate welcome 12 --welcome send
      commsite moderate welcome 12 --welcome edit     EDITOR=nano, like git commit
      commsite moderate welcome 12 --welcome skip
      commsite moderate welcome 12 --welcome-text "@dan@x.example Welcome, Dan!"
    """
    if subject is not None and (Path(subject) / "commsite.yaml").is_file() and site == Path("."):
        site, subject = Path(subject), None
    try:
        store = _store(site)
    except CommsiteError as exc:
        raise _fail(exc) from exc
    if subject is None:
        if welcome is not None or welcome_text is not None:
            raise click.UsageError("--welcome and --welcome-text need an introduction's number")
        welcome_cmd.list_awaiting(store, _now())
        return
    welcome_cmd.welcome_subject(site, store, subject, welcome, welcome_text, _now)


@moderate.command(cls=_SubjectCommand)
@click.argument("subject")
@RULE
@NOTE
@SUBCOMMAND_SITE
def reject(site: Path, subject: str, rule: int | None, note: str | None) -> None:
    """Reject SUBJECT: an item (its number) or every waiting item of an actor.

    \b
    Examples:
      commsite moderate reject 12 --rule 2 --note "advertising"
      commsite moderate reject https://bad.example/users/spam
    """
    _decide(site, "reject", subject, rule, note)


def _block(site: Path, kind: str, value: str, rule: int | None, note: str | None) -> None:
    site, store = _store_for_decision(site, rule)
    rejected = moderation.block(store, kind, value, _now(), rule=rule, note=note)
    rsvp_moderation.settle_all(store, load_config_or_fail(site), _now())  # places freed
    click.echo(f"blocked {kind} {value}; {rejected} item(s) rejected")
    if rejected:
        _notify(site, f"blocked {kind} {value}")


@moderate.command(name="block-actor", cls=_SubjectCommand)
@click.argument("actor")
@RULE
@NOTE
@SUBCOMMAND_SITE
def block_actor(site: Path, actor: str, rule: int | None, note: str | None) -> None:
    """Block ACTOR (URL or @user@host): drop what they send, reject what they sent.

    \b
    Examples:
      commsite moderate block-actor @spam@bad.example --rule 2
      commsite moderate block-actor https://bad.example/users/spam
    """
    _block(site, "actor", actor, rule, note)


@moderate.command(name="block-domain", cls=_SubjectCommand)
@click.argument("domain")
@RULE
@NOTE
@SUBCOMMAND_SITE
def block_domain(site: Path, domain: str, rule: int | None, note: str | None) -> None:
    """Block a whole DOMAIN (and its subdomains).

    \b
    Examples:
      commsite moderate block-domain bad.example --note "spam wave"
    """
    _block(site, "domain", domain, rule, note)


@moderate.command(name="log")
@SUBCOMMAND_SITE
def decision_log(site: Path) -> None:
    """Every moderation decision, oldest first.

    \b
    Examples:
      commsite moderate log
      commsite moderate log /srv/community
    """
    try:
        store = _store(site)
    except CommsiteError as exc:
        raise _fail(exc) from exc
    for d in moderation.decisions(store):
        rule = f" (rule {d.rule})" if d.rule is not None else ""
        note = f": {d.note}" if d.note else ""
        click.echo(f"{d.at} {d.action} {d.subject}{rule}{note}")


@moderate.command(name="dead-letters")
@SUBCOMMAND_SITE
def dead_letter_list(site: Path) -> None:
    """Activities processing could not handle, with the reason (dead letters).

    Retry one (or all) once the cause is fixed, or discard it.

    \b
    Examples:
      commsite moderate dead-letters
      commsite moderate retry https://social.example/users/ada/statuses/1/activity
      commsite moderate retry all
      commsite moderate discard all /srv/community
    """
    try:
        store = _store(site)
    except CommsiteError as exc:
        raise _fail(exc) from exc
    letters = dead_letters.listing(store)
    for d in letters:
        click.echo(f"{d.id}")
        click.echo(f"    {d.type} from {d.actor}, received {d.received_at}")
        click.echo(f"    failed: {d.reason}")
    click.echo(f"{len(letters)} dead letter{'s' if len(letters) != 1 else ''}")


def _dead_letter_decision(site: Path, verb: str, activity: str) -> None:
    try:
        store = _store(site)
    except CommsiteError as exc:
        raise _fail(exc) from exc
    act = dead_letters.retry if verb == "retry" else dead_letters.discard
    done = act(store, activity, _now())
    if not done:
        raise click.ClickException(
            f"no dead letter {activity!r}; see `commsite moderate dead-letters`"
        )
    past = "queued again" if verb == "retry" else "discarded"
    click.echo(f"{past}: {len(done)} activit{'ies' if len(done) != 1 else 'y'}")


@moderate.command(name="retry", cls=_SubjectCommand)
@click.argument("activity")
@SUBCOMMAND_SITE
def retry_dead(site: Path, activity: str) -> None:
    """Process a dead letter again: its ACTIVITY id from `dead-letters`, or `all`.

    \b
    Examples:
      commsite moderate retry all
      commsite moderate retry https://social.example/users/ada/statuses/1/activity
    """
    _dead_letter_decision(site, "retry", activity)


@moderate.command(name="discard", cls=_SubjectCommand)
@click.argument("activity")
@SUBCOMMAND_SITE
def discard_dead(site: Path, activity: str) -> None:
    """Give a dead letter up for good: its ACTIVITY id from `dead-letters`, or `all`.

    \b
    Examples:
      commsite moderate discard all
      commsite moderate discard https://spam.example/users/x/statuses/9/activity
    """
    _dead_letter_decision(site, "discard", activity)


# --- interactions -----------------------------------------------------------


@click.group()
def interactions() -> None:
    """The approved replies, introductions and reactions, as files in interactions/."""


@interactions.command()
@SITE
def export(site: Path) -> None:
    """Write approved interactions to SITE/interactions/ (commit them; then build).

    \b
    Examples:
      commsite interactions export                   the site in this folder
      commsite interactions export /srv/community
      commsite interactions export && git add interactions && git commit -m "replies"
    """
    try:
        store = _store(site)
    except CommsiteError as exc:
        raise _fail(exc) from exc
    result = export_interactions(store, site)
    for rel in result.written:
        click.echo(f"wrote {rel}")
    for rel in result.removed:
        click.echo(f"removed {rel}")
    click.echo(
        f"{len(result.written)} written, {len(result.removed)} removed,"
        f" {result.unchanged} unchanged"
    )
