"""`commsite moderate dead-letters`, `retry` and `discard`: what processing
could not handle, looked at, queued again or given up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from commsite.cli.moderate_args import SUBCOMMAND_SITE, SubjectCommand, now
from commsite.cli.sidecar_store import open_store_or_fail
from commsite.sidecar import dead_letters
from commsite.sidecar.store import Store

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
    letters = dead_letters.listing(open_store_or_fail(site))
    for d in letters:
        click.echo(f"{d.id}")
        click.echo(f"    {d.type} from {d.actor}, received {d.received_at}")
        click.echo(f"    failed: {d.reason}")
    click.echo(f"{len(letters)} dead letter{'s' if len(letters) != 1 else ''}")


def _decision_command(
    name: str, act: Callable[[Store, str, datetime], list[str]], past: str, help: str
) -> click.Command:
    """`commsite moderate NAME ACTIVITY [SITE]`: `act` on the dead letter ACTIVITY
    (or all of them), saying what was done ("PAST: N activities")."""

    @click.command(name=name, cls=SubjectCommand, help=help)
    @click.argument("activity")
    @SUBCOMMAND_SITE
    def decide(site: Path, activity: str) -> None:
        done = act(open_store_or_fail(site), activity, now())
        if not done:
            raise click.ClickException(
                f"no dead letter {activity!r}; see `commsite moderate dead-letters`"
            )
        click.echo(f"{past}: {len(done)} activit{'ies' if len(done) != 1 else 'y'}")

    return decide


retry_dead = _decision_command(
    "retry",
    dead_letters.retry,
    "queued again",
    """Process a dead letter again: its ACTIVITY id from `dead-letters`, or `all`.

    \b
    Examples:
      commsite moderate retry all
      commsite moderate retry https://social.example/users/ada/statuses/1/activity
    """,
)
discard_dead = _decision_command(
    "discard",
    dead_letters.discard,
    "discarded",
    """Give a dead letter up for good: its ACTIVITY id from `dead-letters`, or `all`.

    \b
    Examples:
      commsite moderate discard all
      commsite moderate discard https://spam.example/users/x/statuses/9/activity
    """,
)


# Added to the `moderate` group by moderate_cmd.py.
COMMANDS = (dead_letter_list, retry_dead, discard_dead)
