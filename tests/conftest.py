"""Fixtures shared by several test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

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
