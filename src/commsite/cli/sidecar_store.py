"""The sidecar's store, opened for a command of the inbox side.

Every command that reads or changes the sidecar's database (`moderate`,
`interactions export`, the store's own maintenance) opens it here, so each
makes the data directory the same way and fails with the same one line.
"""

from __future__ import annotations

from pathlib import Path

import click

from commsite.database import Target, store_target
from commsite.datadir import DataDir
from commsite.errors import CommsiteError
from commsite.sidecar.server import load_config_or_fail
from commsite.sidecar.store import Store

__all__ = ["fail", "open_store", "open_store_or_fail", "site_database"]


def site_database(root: Path) -> tuple[DataDir, Target]:
    """SITE's data directory, and its database: `sidecar.database` or the SQLite file."""
    config = load_config_or_fail(root)
    data_dir = DataDir.for_site(root, config.sidecar.data_dir)
    return data_dir, store_target(data_dir, config.sidecar)


def open_store(root: Path) -> Store:
    """The store in SITE's data directory, made (with its .gitignore) if need be."""
    data_dir, target = site_database(root)
    data_dir.ensure()  # with its .gitignore, should this be the first use
    return Store(target)


def open_store_or_fail(root: Path) -> Store:
    """`open_store`, its errors as click's one-line failure (for a command's body)."""
    try:
        return open_store(root)
    except CommsiteError as exc:
        raise fail(exc) from exc


def fail(exc: CommsiteError) -> click.ClickException:
    """A commsite error as click's one-line failure (exit status 1)."""
    return click.ClickException(str(exc))
