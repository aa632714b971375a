"""`commsite moderate`: review what waits, decide, block, welcome, read the log.

The subcommands' shared options and the site argument are moderate_args.py;
the dead letters' subcommands are dead_letters_cmd.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from commsite.cli import dead_letters_cmd, welcome_cmd
from commsite.cli.moderate_args import (
    GROUP_SITE,
    GROUP_SITE_OPTION,
    SUBCOMMAND_SITE,
    WELCOME,
    WELCOME_TEXT,
    ModerateGroup,
    SubjectCommand,
    decision_arguments,
    now,
)
from commsite.cli.sidecar_store import fail, open_store_or_fail
from commsite.content.loader import load_site
from commsite.errors import CommsiteError
from commsite.sidecar import moderation, rsvp_moderation, welcome_send
from commsite.sidecar.rebuild import rebuild_hook
from commsite.sidecar.server import load_config_or_fail
from commsite.sidecar.store import Store
from commsite.sidecar.worker import RebuildNotifier

__all__ = ["moderate"]


def _check_rule(root: Path, rule: int | None) -> None:
    """Refuse a --rule that rules.md does not show: rule N is the item the
    rules page numbers N (a list written from "3." has rules 3, 4, ...)."""
    if rule is None:
        return
    site, _ = load_site(root, now=now())
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


@click.group(cls=ModerateGroup, invoke_without_command=True)
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
        ctx.find_root().meta[GROUP_SITE] = site
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
    store = open_store_or_fail(site)
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
    unwelcomed = len(welcome_send.introductions_awaiting_welcome(store, now()))
    if unwelcomed:
        click.echo(
            f"{unwelcomed} recent introduction{'s' if unwelcomed != 1 else ''}"
            " without a welcome; see `commsite moderate welcome`"
        )


def _store_for_decision(site: Path, rule: int | None) -> tuple[Path, Store]:
    """The site and its store, once the rule a decision cites is known to exist."""
    store = open_store_or_fail(site)
    try:
        _check_rule(site, rule)
    except CommsiteError as exc:
        raise fail(exc) from exc
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
    at = now()
    done: list[str] = []
    if not rsvp_moderation.is_rsvp_subject(subject):
        done += [str(n) for n in decide(store, subject, at, rule=rule, note=note)]
    status = "approved" if verb == "approve" else "rejected"
    config = load_config_or_fail(site)
    done += rsvp_moderation.decide(store, config, status, subject, at, rule=rule, note=note)
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
                    site, store, intro, welcome, welcome_text, now, approving=True
                )


@moderate.command(cls=SubjectCommand)
@decision_arguments("subject")
@WELCOME
@WELCOME_TEXT
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
    store = open_store_or_fail(site)
    if subject is None:
        if welcome is not None or welcome_text is not None:
            raise click.UsageError("--welcome and --welcome-text need an introduction's number")
        welcome_cmd.list_awaiting(store, now())
        return
    welcome_cmd.welcome_subject(site, store, subject, welcome, welcome_text, now)


@moderate.command(cls=SubjectCommand)
@decision_arguments("subject")
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
    rejected = moderation.block(store, kind, value, now(), rule=rule, note=note)
    rsvp_moderation.settle_all(store, load_config_or_fail(site), now())  # places freed
    click.echo(f"blocked {kind} {value}; {rejected} item(s) rejected")
    if rejected:
        _notify(site, f"blocked {kind} {value}")


@moderate.command(name="block-actor", cls=SubjectCommand)
@decision_arguments("actor")
def block_actor(site: Path, actor: str, rule: int | None, note: str | None) -> None:
    """Block ACTOR (URL or @user@host): drop what they send, reject what they sent.

    \b
    Examples:
      commsite moderate block-actor @spam@bad.example --rule 2
      commsite moderate block-actor https://bad.example/users/spam
    """
    _block(site, "actor", actor, rule, note)


@moderate.command(name="block-domain", cls=SubjectCommand)
@decision_arguments("domain")
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
    store = open_store_or_fail(site)
    for d in moderation.decisions(store):
        rule = f" (rule {d.rule})" if d.rule is not None else ""
        note = f": {d.note}" if d.note else ""
        click.echo(f"{d.at} {d.action} {d.subject}{rule}{note}")


for _command in dead_letters_cmd.COMMANDS:
    moderate.add_command(_command)
