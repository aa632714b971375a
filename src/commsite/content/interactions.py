"""Loading interactions/ (written by `commsite interactions export`) into the model."""

from __future__ import annotations

from pathlib import Path

from commsite.content.model import Interactions
from commsite.errors import Diagnostic


def load_interactions(root: Path) -> tuple[Interactions, list[Diagnostic]]:
    """Read ROOT/interactions/. (Being written by the sidecar work; empty until then.)"""
    return Interactions(), []
