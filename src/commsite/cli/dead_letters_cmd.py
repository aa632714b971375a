"""`commsite moderate dead-letters`, `retry` and `discard`: what processing
could not handle, looked at, queued again or given up."""

from __future__ import annotations

from pathlib import Path

import click

from commsite.cli.moderate_args import SUBCOMMAND_SITE, SubjectCommand, now
from commsite.cli.sidecar_store import fail, open_store
from commsite.errors import CommsiteError
from commsite.sidecar import dead_letters

__all__ = ["COMMANDS"]


@click.command(name="dead-letters")
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
        store = open_store(site)
    except CommsiteError as exc:
        raise fail(exc) from exc
    letters = dead_letters.listing(store)
    for d in letters:
        click.echo(f"{d.id}")
        click.echo(f"    {d.type} from {d.actor}, received {d.received_at}")
        click.echo(f"    failed: {d.reason}")
    click.echo(f"{len(letters)} dead letter{'s' if len(letters) != 1 else ''}")


def _dead_letter_decision(site: Path, verb: str, activity: str) -> None:
    try:
        store = open_store(site)
    except CommsiteError as exc:
        raise fail(exc) from exc
    act = dead_letters.retry if verb == "retry" else dead_letters.discard
    done = act(store, activity, now())
    if not done:
        raise click.ClickException(
            f"no dead letter {activity!r}; see `commsite moderate dead-letters`"
        )
    past = "queued again" if verb == "retry" else "discarded"
    click.echo(f"{past}: {len(done)} activit{'ies' if len(done) != 1 else 'y'}")


@click.command(name="retry", cls=SubjectCommand)
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


@click.command(name="discard", cls=SubjectCommand)
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


# Added to the `moderate` group by moderate_cmd.py.
COMMANDS = (dead_letter_list, retry_dead, discard_dead)
