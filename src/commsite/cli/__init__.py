"""The `commsite` command line: click commands only (parse, call, print, exit).

Each group of commands lives in its own module here; this one assembles them.
"""

from __future__ import annotations

import difflib
import gc
import importlib

import click

__all__ = ["COMMANDS", "EXITING", "SUMMARIES", "exiting", "main", "run", "summary"]

# command name -> module defining it, in the order of the work (--help lists
# them so): start a site, write, check, build, look, then federate and moderate.
# A command's module (and what it imports: Jinja2, Markdown, HTTP clients...) is
# imported only when that command runs, so `commsite build` with nothing to do
# starts in a fraction of a second.
COMMANDS = {
    "init": "commsite.cli.init_cmd",
    "new": "commsite.cli.new_cmd",
    "check": "commsite.cli.build_cmd",
    "build": "commsite.cli.build_cmd",
    "serve": "commsite.cli.serve_cmd",
    "keys": "commsite.cli.keys_cmd",
    "publish": "commsite.cli.publish_cmd",
    "sidecar": "commsite.cli.sidecar_cmd",
    "moderate": "commsite.cli.moderate_cmd",
    "interactions": "commsite.cli.sidecar_cmd",
    "report": "commsite.cli.report_cmd",
}


# What `commsite --help` says of each command: the first sentence of its help, so
# that listing the commands imports none of their modules (tests/test_cli_main.py
# checks that each is what click would make of the command's own help).
SUMMARIES = {
    "init": "Make DIRECTORY a new commsite content repository.",
    "new": "Create a new story, member or event file.",
    "check": "Check the site in SITE (default: the current folder) without building it.",
    "build": "Build the static site in SITE (default: the current folder) into SITE/public/.",
    "serve": "Preview SITE locally: build it, serve it, and rebuild on every save.",
    "keys": "The key pair that signs what the community sends to the fediverse.",
    "publish": (
        "Send followers a Create for each new story and event, an Update for each"
        " edited one and a Delete for each one removed, then work through the delivery"
        " queue."
    ),
    "sidecar": "Run the inbox (commsite sidecar [SITE]); migrate, export-db, import-db.",
    "moderate": "Review what waits: replies, introductions, messages and reports.",
    "interactions": (
        "The approved replies, introductions and reactions, as files in interactions/."
    ),
    "report": "Write a community health report for SITE's organisers (default: this folder).",
}
# The commands whose summary is a short_help of their own (shown whole, never cut).
SHORT_HELP = frozenset({"new"})


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)  # insertion order, not click's alphabetical one

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands, from SUMMARIES (click's own imports every module)."""
        limit = formatter.width - 6 - max(map(len, COMMANDS))
        rows = [(name, summary(name, limit)) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command = getattr(importlib.import_module(module), cmd_name)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            message = f"No such command {name!r}."
            nearest = difflib.get_close_matches(name, COMMANDS, n=1)
            if nearest:
                message += f" Did you mean {nearest[0]!r}?"
            raise click.UsageError(message, ctx)
        return super().resolve_command(ctx, args)


def summary(name: str, limit: int) -> str:
    """What click would list for the command `name` (its help's first sentence, cut
    to `limit` characters), without importing it."""
    text = SUMMARIES[name]
    short = text if name in SHORT_HELP else None
    return click.Command(name, help=text, short_help=short).get_short_help_str(limit)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """--version (click's version_option would look the version up on every start)."""
    if not value or ctx.resilient_parsing:
        return
    from commsite import __version__

    click.echo(f"commsite, version {__version__}")
    ctx.exit()


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def main() -> None:
    """Turn a Git repository of community content into a static website
    that people on Mastodon and the rest of the fediverse can follow.

    \b
    Start here:
      commsite init my-community     a new content repository
      commsite build my-community    the site, into my-community/public/
      commsite serve my-community    a live preview while you write
    """


# The context object of `run`'s commands: the process ends after the command.
EXITING = "exiting"


def exiting() -> bool:
    """Whether the running command's process ends after it (`run`), so that what
    the command made need never be collected."""
    context = click.get_current_context(silent=True)
    return context is not None and context.find_root().obj is EXITING


def run() -> None:
    """The `commsite` program (and `python -m commsite`): `main`, in a process of
    its own. As a process exits, Python runs one last collection that walks every
    object still alive; after a build that is the site's model and the build's
    caches, 0.1 s of a one-story edit at 2,000 stories spent on nothing. They are
    frozen first, so that collection skips them. (Not in `main`: a test that
    invokes it goes on in the same process and needs its collector.)"""
    try:
        main(obj=EXITING)
    finally:
        gc.freeze()
