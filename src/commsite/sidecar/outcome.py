"""What processing an activity came to (see processing.py)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Outcome"]


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # done | ignored | refused
    detail: str
    public_change: bool = False
    deliveries: bool = False  # something was queued for delivery
