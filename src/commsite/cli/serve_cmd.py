"""`commsite serve`: the live preview."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from commsite.cli.site_arg import site_argument
from commsite.errors import CommsiteError

__all__ = ["serve"]


@click.command()
@site_argument(exists=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", "-p", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--hide-drafts",
    is_flag=True,
    help="Leave out drafts and future-dated stories (shown, and marked, by default).",
)
def serve(site: Path, host: str, port: int, hide_drafts: bool) -> None:
    """Preview SITE locally: build it, serve it, and rebuild on every save.

    Open tabs reload by themselves after each change. When a file has an
    error, the page shows it (PATH:LINE: message) and comes back once the
    file is fixed. Only the pages a change affects are rebuilt. The preview
    is written to SITE/.commsite/preview/, never to public/, and the reload
    script exists only here, never in `commsite build` output.

    \b
    Examples:
      commsite serve                      the site in this folder, on :8000
      commsite serve example_site -p 8080
      commsite serve --hide-drafts        see it as `commsite build` would
    """
    from commsite.serve.preview import Preview, PreviewOptions

    if not (site / "commsite.yaml").is_file():
        raise click.ClickException(
            f"{site} has no commsite.yaml, so it is not a commsite site; run this in your "
            "site's folder, give the site's folder, or make one with `commsite init DIR`"
        )

    try:
        preview = Preview(
            PreviewOptions(root=site, host=host, port=port, drafts=not hide_drafts),
            echo=click.echo,
        )
    except CommsiteError as exc:
        raise click.ClickException(str(exc)) from exc
    # SIGTERM (systemd, docker stop, kill) stops the preview as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        preview.build_all()
        click.echo(f"Serving {preview.state.site_title!r} at {preview.url} (Ctrl-C to stop)")
        preview.serve_forever()
    except KeyboardInterrupt:
        click.echo("\nStopped.")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
