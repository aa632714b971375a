"""`commsite sidecar migrate | export-db | import-db`: the sidecar's database chores.

The database is the SQLite file in the data directory, or the PostgreSQL
database `sidecar.database` names (docs/sidecar.md, "PostgreSQL"). Moving a
community from one to the other:

    commsite sidecar export-db community.jsonl SITE      # sidecar stopped, SQLite
    (set sidecar.database in commsite.yaml)
    commsite sidecar import-db community.jsonl SITE      # into the empty PostgreSQL one
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from commsite.cli.sidecar_store import fail, site_database
from commsite.cli.site_arg import site_argument
from commsite.database import DATABASE_ERRORS, Connection, Target, connect, describe
from commsite.database.dump import DumpError, export_dump, import_dump
from commsite.errors import CommsiteError
from commsite.sidecar.schema import migrate_all

__all__ = ["export_db", "import_db", "migrate"]

SITE = site_argument()


def _target(site: Path) -> Target:
    try:
        data_dir, target = site_database(site)
    except CommsiteError as exc:
        raise fail(exc) from None
    if isinstance(target, Path):
        data_dir.ensure()
    return target


def _open(target: Target) -> Connection:
    try:
        return connect(target)
    except DATABASE_ERRORS as exc:
        raise click.ClickException(f"cannot open {describe(target)}: {exc}") from None
    except ImportError:
        raise click.ClickException(
            "PostgreSQL needs psycopg: pip install 'commsite[postgresql]'"
        ) from None


@click.command()
@SITE
def migrate(site: Path) -> None:
    """Bring the sidecar's database to this version's schema, and say what changed.

    \b
    Examples:
      commsite sidecar migrate                 the site in this folder
      commsite sidecar migrate /srv/community  before starting a new version on several hosts

    The sidecar migrates when it starts too; run this once before starting
    several processes of a new version, so none of them waits for another.
    """
    target = _target(site)
    conn = _open(target)
    try:
        applied = migrate_all(conn)
    except DATABASE_ERRORS as exc:
        raise click.ClickException(f"{describe(target)}: migration failed: {exc}") from None
    finally:
        conn.close()
    click.echo(describe(target))
    for step in applied:
        if step.after > step.before:
            click.echo(f"  {step.component}: version {step.before} -> {step.after}")
        else:
            click.echo(f"  {step.component}: version {step.after}, up to date")


@click.command("export-db")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@SITE
def export_db(file: Path, site: Path) -> None:
    """Write the whole sidecar database to FILE (JSON lines; '-' for stdout).

    \b
    Examples:
      commsite sidecar export-db community.jsonl
      commsite sidecar export-db - /srv/community | gzip > backup.jsonl.gz

    Followers, the delivery queue, stored activities, interactions, the
    moderation log, cached keys and profiles: everything. It reads one
    consistent moment while the sidecar runs; `import-db` loads it into
    another database (SQLite or PostgreSQL).
    """
    target = _target(site)
    conn = _open(target)
    try:
        migrate_all(conn)  # an old database: exported at this version's schema
        if str(file) == "-":
            counts = export_dump(conn, sys.stdout)
        else:
            partial = file.with_name(file.name + ".partial")
            with partial.open("w", encoding="utf-8") as out:
                counts = export_dump(conn, out)
            partial.replace(file)
    except DATABASE_ERRORS as exc:
        raise click.ClickException(f"{describe(target)}: export failed: {exc}") from None
    finally:
        conn.close()
    if str(file) != "-":
        click.echo(
            f"exported {sum(counts.values())} rows from {len(counts)} tables of"
            f" {describe(target)} to {file}"
        )


@click.command("import-db")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@SITE
@click.option("--force", is_flag=True, help="Replace what the database already holds.")
def import_db(file: Path, site: Path, force: bool) -> None:
    """Load FILE (from export-db) into the sidecar database the site names.

    \b
    Examples:
      commsite sidecar import-db community.jsonl /srv/community
      commsite sidecar import-db community.jsonl --force    replace what is there

    The database is migrated first; the dump must come from the same schema
    version. It is one transaction: a dump cut short, or one that does not
    fit, changes nothing. Stop the sidecar while importing.
    """
    target = _target(site)
    conn = _open(target)
    try:
        migrate_all(conn)
        with file.open(encoding="utf-8") as lines:
            report = import_dump(conn, lines, force=force)
    except DumpError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    except DATABASE_ERRORS as exc:
        raise click.ClickException(f"{file}: import failed: {exc}") from None
    finally:
        conn.close()
    replaced = " (replacing what it held)" if report.replaced else ""
    click.echo(
        f"imported {sum(report.rows.values())} rows into {len(report.rows)} tables of"
        f" {describe(target)}{replaced}"
    )
