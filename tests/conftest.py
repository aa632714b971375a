"""Fixtures shared by several test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import pg
from sidecar_peer import SiteOrigin

# A build slowed down by a loaded machine must not add progress lines to output
# that tests compare (commsite.progress); tests/test_progress.py sets its own.
os.environ.setdefault("COMMSITE_PROGRESS_INTERVAL", "3600")


@pytest.fixture
def origin() -> Iterator[SiteOrigin]:
    """A loopback server for the community's own documents (its actor, its key)."""
    o = SiteOrigin()
    yield o
    o.stop()


@pytest.fixture(params=pg.BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test on SQLite, then on PostgreSQL (tests/pg.py): its stores and
    sites use the active backend. Modules opt in with
    `pytestmark = pytest.mark.usefixtures("backend")`."""
    pg.activate(request.param)
    yield request.param
    pg.activate()


@pytest.fixture(scope="module", params=pg.BACKENDS)
def module_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """`backend` for modules whose sidecar is module-scoped."""
    pg.activate(request.param)
    yield request.param
    pg.activate()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    pg.stop_server()
