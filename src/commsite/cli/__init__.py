"""The `commsite` command line: click commands only (parse, call, print, exit).

Each group of commands lives in its own module here; this one assembles them.
"""

from __future__ import annotations

import click

from commsite import __version__
from commsite.cli.build_cmd import build, check
from commsite.cli.content_cmd import init, new
from commsite.cli.keys_cmd import keys
from commsite.cli.publish_cmd import publish
from commsite.cli.serve_cmd import serve
from commsite.cli.sidecar_cmd import interactions, moderate, sidecar

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


for command in (build, check, init, new, serve, keys, publish, sidecar, moderate, interactions):
    main.add_command(command)
