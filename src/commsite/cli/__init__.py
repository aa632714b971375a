"""The `commsite` command line: click commands only (parse, call, print, exit).

Each group of commands lives in its own module here; this one assembles them.
"""

from __future__ import annotations

import difflib
import importlib

import click

from commsite import __version__

__all__ = ["main"]

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


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)  # insertion order, not click's alphabetical one

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


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="commsite")
def main() -> None:
    """Turn a Git repository of community content into a static website
    that people on Mastodon and the rest of the fediverse can follow.

    \b
    Start here:
      commsite init my-community     a new content repository
      commsite build my-community    the site, into my-community/public/
      commsite serve my-community    a live preview while you write
    """
