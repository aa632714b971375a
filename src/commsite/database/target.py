"""Which database: a SQLite file, or a PostgreSQL server (`sidecar.database`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from commsite.config import SidecarConfig, is_postgres_url
from commsite.datadir import DataDir

__all__ = ["PostgresTarget", "Target", "describe", "is_postgres_url", "store_target"]


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    """A PostgreSQL database: a libpq URL, and where its password comes from.

    The password is never in commsite.yaml (the config check refuses one): it
    is read from the environment variable `password_env` at connect time, or
    left to libpq (PGPASSWORD, ~/.pgpass, peer authentication)."""

    url: str
    password_env: str | None = None

    def password(self, environ: Mapping[str, str] = os.environ) -> str | None:
        if self.password_env is None:
            return None
        return environ.get(self.password_env) or None

    def redacted(self) -> str:
        """The URL without any password, for messages and logs."""
        parts = urlsplit(self.url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            netloc = f"{userinfo.split(':', 1)[0]}@{host}"
        return urlunsplit(parts._replace(netloc=netloc))


Target = Path | PostgresTarget


def describe(target: Target) -> str:
    """What to call the database in messages."""
    if isinstance(target, Path):
        return f"SQLite {target}"
    return f"PostgreSQL {target.redacted()}"


def store_target(data_dir: DataDir, sidecar: SidecarConfig) -> Target:
    """The sidecar's database: `sidecar.database` (PostgreSQL) when set, else the SQLite file."""
    if sidecar.database:
        return PostgresTarget(sidecar.database, sidecar.database_password_env)
    return data_dir.database
