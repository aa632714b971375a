"""What the `commsite moderate` subcommands share: where the site is named,
what a decision may cite (--rule, --note), the welcome options, the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from commsite.cli import welcome_cmd
from commsite.cli.site_arg import site_argument

__all__ = [
    "GROUP_SITE",
    "GROUP_SITE_OPTION",
    "NOTE",
    "RULE",
    "SUBCOMMAND_SITE",
    "WELCOME",
    "WELCOME_TEXT",
    "ModerateGroup",
    "SubjectCommand",
    "decision_arguments",
    "now",
]

F = TypeVar("F", bound=Callable[..., Any])


def now() -> datetime:
    return datetime.now(UTC)


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
GROUP_SITE = "commsite.moderate.site"


def _group_site() -> Path:
    """The group's --site (`commsite moderate -s DIR approve 12`), else this folder."""
    group_site = click.get_current_context().find_root().meta.get(GROUP_SITE)
    return group_site if isinstance(group_site, Path) else Path(".")


SUBCOMMAND_SITE = site_argument(fallback=_group_site)


class ModerateGroup(click.Group):
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


class SubjectCommand(click.Command):
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


def decision_arguments(subject: str) -> Callable[[F], F]:
    """What a decision takes (approve, reject, block-actor, block-domain): its
    SUBJECT (named `subject`), --rule and --note, then [SITE]."""

    def decorate(command: F) -> F:
        for option in (SUBCOMMAND_SITE, NOTE, RULE, click.argument(subject)):
            command = option(command)
        return command

    return decorate
