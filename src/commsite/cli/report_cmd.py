"""`commsite report`: the community health report, for the organisers."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click

from commsite.cli.build_cmd import _print_diagnostics, _shown_file, _shown_path
from commsite.cli.site_arg import site_argument
from commsite.errors import CommsiteError, Diagnostic

__all__ = ["report"]


def _refuse_unsafe(site: Path, target: Path) -> None:
    from commsite.report.output import unsafe_output

    why = unsafe_output(site, target)
    if why is not None:
        raise click.ClickException(
            f"{target}: not writing the report there: {why}; the report is for the"
            " organisers, never published: give another --out, or leave it out"
            " for .commsite/report/"
        )


@click.command()
@site_argument()
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the report here (default: the data folder's report/, SITE/.commsite/report/).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the numbers as JSON on stdout instead of writing the folder (needs no charts).",
)
@click.option(
    "--months",
    type=click.IntRange(min=1, max=600),
    help="Monthly numbers and replies for the last N months (default 12).",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m"]),
    help="Monthly numbers and replies from this date (YYYY-MM or YYYY-MM-DD) on.",
)
def report(
    site: Path, out: Path | None, as_json: bool, months: int | None, since: datetime | None
) -> None:
    """Write a community health report for SITE's organisers (default: this folder).

    New members and introductions per month, replies per story and event, how
    many replies are members answering each other, the commitment curve from
    following to hosting, first-timers who came back, newcomers nobody has
    answered yet and members nobody has replied to in 90 days: as an HTML page
    with charts (index.html), report.json and the charts as SVG and PNG.

    Made only from the repository (content/, interactions/) and the sidecar's
    store: it tracks nobody. The folder is never published; it cannot be
    written inside public/, static/ or the content.

    \b
    Examples:
      commsite report                     into .commsite/report/
      commsite report example_site -o ~/reports/2027-03
      commsite report --months 24
      commsite report --json | jq .conversation
    """
    if months is not None and since is not None:
        raise click.UsageError("give --months or --since, not both")
    if not site.is_dir():
        raise click.ClickException(f"{site}: no such directory; give the site's folder")
    from commsite.build.clock import build_now
    from commsite.database import store_target
    from commsite.datadir import DataDir
    from commsite.report.numbers import Window, health_report
    from commsite.report.output import report_json
    from commsite.report.site_load import load_for_report
    from commsite.report.store import read_store

    if out is not None and not as_json:
        _refuse_unsafe(site, out)  # before anything is read
    try:
        now = build_now(os.environ)
        loaded, diagnostics = load_for_report(site, now)
        errors = [d for d in diagnostics if d.is_error]
        if loaded is None or errors:
            _print_diagnostics(sorted(set(errors), key=Diagnostic.sort_key), site)
            click.echo(
                "No report: fix the content first (commsite check shows the same).", err=True
            )
            sys.exit(1)
        data_dir = DataDir.for_site(site, loaded.config.sidecar.data_dir)
        store = read_store(store_target(data_dir, loaded.config.sidecar))
        window = Window(months=months, since=since.date() if since else None)
        numbers = health_report(loaded, store, now=now, window=window)
    except CommsiteError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(report_json(numbers), nl=False)
        return
    target = out if out is not None else data_dir.path / "report"
    _refuse_unsafe(site, target)
    from commsite.report.charts import MissingMatplotlib, draw_charts
    from commsite.report.output import write_report
    from commsite.report.page import render_page

    try:
        charts = draw_charts(numbers)
    except MissingMatplotlib as exc:
        raise click.ClickException(str(exc)) from None
    if out is None:
        data_dir.ensure()  # with its .gitignore
    try:
        written = write_report(
            target, render_page(numbers, charts, loaded.config.language), numbers, charts
        )
    except OSError as exc:
        raise click.ClickException(f"{target}: cannot write the report: {exc.strerror}") from None
    click.echo(
        f"Report written to {_shown_path(target)} ({len(written)} files);"
        f" open {_shown_file(written[0])}",
        err=True,
    )
    waiting = len(numbers.unanswered)
    if waiting:
        click.echo(
            f"{waiting} newcomer{'s' if waiting != 1 else ''} waiting for an answer.", err=True
        )
