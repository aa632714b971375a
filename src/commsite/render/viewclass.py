"""`@view`: how the template-facing views are declared.

A view is a frozen, slotted dataclass, as STYLE.md asks of data. One
difference: builds take `repr()` of page contexts to fingerprint them
(build/fingerprint.py), tens of thousands of views per big build, and the
`__repr__` dataclasses write is wrapped in a guard against recursive reprs
that cost about a third of it (measured). Views hold strings, numbers, tuples
and other views, never themselves, so the guard is left out; the repr's text
is exactly the dataclass one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

__all__ = ["view"]

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def view(cls: type[T]) -> type[T]:
    made = dataclass(frozen=True, slots=True)(cls)
    guarded = made.__repr__
    made.__repr__ = getattr(guarded, "__wrapped__", guarded)  # type: ignore[method-assign]
    return made
