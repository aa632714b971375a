"""`commsite sidecar` and `commsite interactions`: run the inbox, export what it approved.

`commsite moderate` is moderate_cmd.py (its dead letters dead_letters_cmd.py).
Commands that look after the sidecar and its store (migrating, exporting and
importing the database) belong here, opening the store with
sidecar_store.open_store_or_fail; a new top-level command is also named in
cli/__init__.py's COMMANDS.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

import click

from commsite.cli import sidecar_db_cmd
from commsite.cli.sidecar_store import fail, open_store_or_fail
from commsite.cli.site_arg import site_argument
from commsite.errors import CommsiteError
from commsite.sidecar.export import export_interactions
from commsite.sidecar.server import Options, open_sidecar, run, run_worker, waitress_server

__all__ = ["interactions", "sidecar"]

SITE = site_argument()


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
        raise fail(exc) from exc
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
        raise fail(exc) from exc
    # SIGTERM (systemd, docker stop, kill) stops the sidecar as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"commsite sidecar for {running.config.base_url} on "
        f"http://{shown}:{server.effective_port}/ (Ctrl-C to stop)"
    )
    run(running, server)
    click.echo("Stopped.")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # A second signal while the worker finishes must not cut the shutdown short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


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
    store = open_store_or_fail(site)
    result = export_interactions(store, site)
    for rel in result.written:
        click.echo(f"wrote {rel}")
    for rel in result.removed:
        click.echo(f"removed {rel}")
    click.echo(
        f"{len(result.written)} written, {len(result.removed)} removed,"
        f" {result.unchanged} unchanged"
    )
