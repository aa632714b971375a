"""A throwaway PostgreSQL server for the test session, and the backend switch.

`PostgresServer.start()` runs initdb into a temporary directory and starts
`postgres` on a Unix socket there (no TCP port), trusting local connections;
each test gets a database of its own (`fresh_database`). PostgreSQL refuses
to run as root: as root, the server runs as the `postgres` user (Debian's
package creates it) through `runuser`. Missing binaries skip the test with a
printed reason, or fail it with CI=true (needs.require).

The sidecar suites run against both backends: their fixtures call
`target(path)` for a Store and `write_site(...)` (sidecar_peer) puts
`sidecar.database` into commsite.yaml, both following the backend the
parametrised `backend` fixture (tests/conftest.py) made active.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from commsite.database import PostgresTarget, Target
from needs import require

BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count(1)


def binaries() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres (Debian keeps them off PATH)."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all((Path(candidate) / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    return None


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="commsite-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.port = 5432 + os.getpid() % 1000
        self.user = "postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> PostgresServer:
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.data), "-U", self.user, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-k {self.socket_dir} -p {self.port} -c listen_addresses=''"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def fresh_database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [*self._as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
             "stop"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


_server: PostgresServer | None = None
# COMMSITE_TEST_BACKEND=postgresql runs any sidecar test that builds its store
# through target()/write_site() on PostgreSQL, parametrised or not.
_DEFAULT = os.environ.get("COMMSITE_TEST_BACKEND", "sqlite")
_active = _DEFAULT


def server() -> PostgresServer:
    """The session's server, started on first use (skip, or fail on CI, without one)."""
    global _server
    if _server is None:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            require(False, "psycopg is not installed: pip install -e '.[postgresql]'")
        bindir = binaries()
        require(bindir is not None, "PostgreSQL is not installed (Debian package 'postgresql')")
        assert bindir is not None
        _server = PostgresServer(bindir).start()
    return _server


def stop_server() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None


def activate(backend: str | None = None) -> None:
    """Make `backend` the active one (None: back to the default)."""
    global _active
    backend = backend or _DEFAULT
    if backend == "postgresql":
        server()
    _active = backend


def active() -> str:
    return _active


def target(path: Path) -> Target:
    """Where a test's Store lives: the SQLite file `path`, or a fresh PostgreSQL database."""
    if _active == "postgresql":
        return PostgresTarget(server().fresh_database())
    return path


def database_url() -> str | None:
    """`sidecar.database` for a test site: None (SQLite) or a fresh database's URL."""
    return server().fresh_database() if _active == "postgresql" else None


def site_target(root: Path) -> Target:
    """The store of the site at `root`, as its commsite.yaml names it."""
    from commsite.content.config_loader import load_config
    from commsite.database import store_target
    from commsite.datadir import DataDir

    config, _ = load_config(root)
    assert config is not None
    return store_target(DataDir.for_site(root, config.sidecar.data_dir), config.sidecar)
