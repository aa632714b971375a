"""Fixtures shared by several test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sidecar_peer import SiteOrigin


@pytest.fixture
def origin() -> Iterator[SiteOrigin]:
    """A loopback server for the community's own documents (its actor, its key)."""
    o = SiteOrigin()
    yield o
    o.stop()
