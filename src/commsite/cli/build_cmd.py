"""`commsite build` and `commsite check`."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from commsite.build.clock import build_now
from commsite.build.output import DiskFull
from commsite.build.run import BuildOptions, BuildResult, build_site
from commsite.cli import exiting
from commsite.cli.site_arg import site_argument
from commsite.content.left_out import LeftOut
from commsite.errors import CommsiteError, Diagnostic, count_line
from commsite.progress import ProgressReporter

if TYPE_CHECKING:
    from commsite.content.model import Site
    from commsite.links.check import ExternalLink
    from commsite.links.external import ExternalReport, Unchecked

__all__ = ["build", "check"]

SITE = site_argument()
QUIET = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only problems: no progress and no summary.",
)


def _print_diagnostics(diagnostics: Sequence[Diagnostic], site: Path) -> None:
    """Every diagnostic, then the count line, with paths an editor can open from here."""
    for d in diagnostics:
        click.echo(replace(d, path=_from_here(site, d.path)).format(), err=True)
    if diagnostics:
        click.echo(count_line(diagnostics), err=True)


def _from_here(site: Path, path: str) -> str:
    """A site-relative path as seen from the current folder ('example_site/content/x.md')."""
    if site == Path(".") or Path(path).is_absolute():
        return path
    shown = os.path.relpath(site / path)
    return path if shown.startswith("..") else shown.replace(os.sep, "/")


def _require_site(root: Path) -> None:
    if not root.is_dir():
        raise click.ClickException(f"{root}: no such directory; give the site's folder")


def _shown_path(path: Path) -> str:
    try:
        shown = os.path.relpath(path)
    except ValueError:
        shown = str(path)
    if shown.startswith(".." + os.sep + ".."):
        shown = str(path)
    return shown.rstrip(os.sep) + os.sep


def _shown_file(path: Path) -> str:
    """A file's path as seen from here ('public/index.html'), absolute when far."""
    shown = _shown_path(path)
    return shown[:-1] if shown.endswith(os.sep) else shown


def summary_line(result: BuildResult, site: Path = Path(".")) -> str:
    """'Built 1,234 files (56 written) in 2.3 s → public/', and a second line
    'Left out: ...' when the build left drafts or future stories out (see
    left_out_line; paths as seen from here, `site` being the site's folder)."""
    changes = f"{len(result.written):,} written"
    if result.removed:
        changes += f", {len(result.removed):,} removed"
    where = _shown_path(result.output) if result.output is not None else ""
    line = f"Built {result.total:,} files ({changes}) in {result.seconds:.1f} s → {where}"
    if result.images_made:  # (the slow part of a build that has new pictures)
        line += f" (images: {result.images_made:,} made, {result.images_reused:,} from cache)"
    if result.left_out:
        line += "\n" + left_out_line(result.left_out, site)
    return line


def search_line(indexed: tuple[int, float]) -> str:
    """'Indexed 15 pages for search in 0.1 s' (build.search)."""
    pages, seconds = indexed
    return f"Indexed {_count(pages, 'page')} for search in {seconds:.1f} s"


def left_out_line(left_out: LeftOut, site: Path = Path(".")) -> str:
    """'Left out: 2 drafts (--drafts includes them), 1 story dated in the future
    (content/stories/x.md is due 2026-12-01 09:00 GMT; build again then, or use
    --future)': what a build without --drafts or --future did not publish, and
    when the first future story is due (in the site's time zone)."""
    parts = []
    if left_out.drafts:
        n = len(left_out.drafts)
        them = "it" if n == 1 else "them"
        parts.append(f"{_count(n, 'draft')} (--drafts includes {them})")
    if left_out.future:
        path, due = left_out.future[0]
        first = _from_here(site, path)
        if len(left_out.future) > 1:
            first = f"the first, {first},"
        when = f"{due:%Y-%m-%d %H:%M} {due.tzname() or format(due, '%z')}"
        parts.append(
            f"{_count(len(left_out.future), 'story', 'stories')} dated in the future"
            f" ({first} is due {when}; build again then, or use --future)"
        )
    return "Left out: " + ", ".join(parts)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


@click.command()
@SITE
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the site here instead of SITE/public.",
)
@click.option("--drafts", is_flag=True, help="Include stories marked 'draft: true'.")
@click.option("--future", is_flag=True, help="Include stories dated after the build time.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes for parsing and rendering (default: one per CPU).",
)
@click.option(
    "--no-cache",
    "no_cache",
    is_flag=True,
    help="Ignore the build cache: parse and render everything (the cache is not updated).",
)
@QUIET
def build(
    site: Path,
    output: Path | None,
    drafts: bool,
    future: bool,
    strict: bool,
    jobs: int | None,
    no_cache: bool,
    quiet: bool,
) -> None:
    """Build the static site in SITE (default: the current folder) into SITE/public/.

    Only what changed since the last build is parsed, rendered and written; files
    whose bytes did not change keep their modification times. A build with errors
    writes nothing: the previous output stays as it was. Set SOURCE_DATE_EPOCH for
    a reproducible build (the same input then gives byte-identical output).

    \b
    Examples:
      commsite build                      the site in this folder, into ./public/
      commsite build example_site         into example_site/public/
      commsite build . -o /srv/www/site   somewhere else
      commsite build --drafts --future    preview unpublished stories
      SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) commsite build
    """
    _require_site(site)
    options = BuildOptions(
        root=site,
        output=output,
        drafts=drafts,
        future=future,
        strict=strict,
        jobs=jobs,
        cache=not no_cache,
    )
    progress = ProgressReporter.for_stream(sys.stderr, quiet=quiet)
    had_output = options.output_dir.exists()
    try:
        now = build_now(os.environ)
        result = build_site(options, now=now, progress=progress, exiting=exiting())
    except DiskFull as exc:
        progress.finish()
        shown = None if exc.path is None else _shown_file(exc.path)
        click.echo(f"error: {DiskFull.message(shown)}", err=True)
        sys.exit(1)
    except CommsiteError as exc:
        progress.finish()
        raise click.ClickException(str(exc)) from None
    finally:
        progress.finish()  # (again after the above: a no-op; first for anything else)
    if result.indexed is not None and not quiet:  # (before the diagnostics)
        click.echo(search_line(result.indexed), err=True)
    _print_diagnostics(result.diagnostics, site)
    if not result.ok:
        if had_output:
            click.echo("Build failed; the previous output was left as it was.", err=True)
        else:
            click.echo("Build failed; nothing was written.", err=True)
        sys.exit(1)
    if not quiet:
        click.echo(summary_line(result, site), err=True)
    if result.cache_full is not None:
        click.echo(
            "warning: no space left on device while writing the build cache in "
            f"{_shown_path(result.cache_full)}; the site was built without it, "
            "and the next build starts from scratch",
            err=True,
        )


@click.command()
@SITE
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--drafts", is_flag=True, help="Check drafts too (they are always parsed).")
@click.option("--future", is_flag=True, help="Check as if building with --future.")
@click.option(
    "--external",
    is_flag=True,
    help="Also check links to other sites over HTTP (answers are kept for a day).",
)
@QUIET
def check(
    site: Path, strict: bool, drafts: bool, future: bool, external: bool, quiet: bool
) -> None:
    """Check the site in SITE (default: the current folder) without building it.

    Loads commsite.yaml and every content file, checks them together (required
    keys, dates, references between stories, members and events, duplicate slugs,
    links and images that point nowhere on the site) and prints every problem as
    PATH:LINE: message. Writes nothing but the --external answers. Exits 1 when
    there is any error (or, with --strict, any warning).

    \b
    Examples:
      commsite check
      commsite check example_site --strict
      commsite check --external           links to other sites too
    """
    _require_site(site)
    # (not imported for `commsite build`)
    from commsite.activitypub.documents import federation_diagnostics
    from commsite.build.link_targets import site_links
    from commsite.content.loader import load_site
    from commsite.content.parse import ParsedFile, parse_file

    parsed: list[ParsedFile] = []
    progress = ProgressReporter.for_stream(sys.stderr, quiet=quiet)

    def parse(kind: str, rel: str, data: bytes) -> ParsedFile:
        parsed.append(parse_file(kind, rel, data))
        progress("parsing", len(parsed), 0)
        return parsed[-1]

    unchecked: tuple[Unchecked, ...] = ()
    try:
        now = build_now(os.environ)
        loaded, diagnostics = load_site(site, now=now, drafts=drafts, future=future, parse=parse)
        if loaded is not None:
            links = site_links(loaded, site, parsed)
            diagnostics = [*diagnostics, *federation_diagnostics(loaded), *links.broken]
            if external and links.external:
                found = _check_external(loaded, site, links.external, progress, quiet)
                diagnostics += found.broken
                unchecked = found.unchecked
    except CommsiteError as exc:
        progress.finish()
        raise click.ClickException(str(exc)) from None
    finally:
        progress.finish()
    found_all = sorted(set(diagnostics), key=Diagnostic.sort_key)
    if strict:
        found_all = [d.as_error() for d in found_all]
    _print_diagnostics(found_all, site)
    for note in unchecked:
        click.echo(replace(note, path=_from_here(site, note.path)).format(), err=True)
    if any(d.is_error for d in found_all):
        sys.exit(1)
    if not found_all and not quiet:
        click.echo("No problems found.", err=True)


def _check_external(
    site: Site,
    root: Path,
    links: Sequence[ExternalLink],
    progress: ProgressReporter,
    quiet: bool,
) -> ExternalReport:
    """Ask the outside links' servers (answers kept in the data directory)."""
    from commsite.datadir import DataDir
    from commsite.links.external import LINK_CACHE, check_external

    data_dir = DataDir.for_site(root, site.config.sidecar.data_dir)
    try:
        cache: Path | None = data_dir.ensure() / LINK_CACHE
    except OSError:
        cache = None  # checked all the same, kept for no next run
    count = len({link.url for link in links})
    if not quiet:
        click.echo(f"Checking {count:,} outside address{'es' if count != 1 else ''}...", err=True)
    return check_external(links, cache, progress=progress)
