"""What a build left out of the site: drafts and stories dated after the build time.

Part of the model (`commsite.content.model` exports it) but a module of its own:
the build's no-change check reports it without importing the whole model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["LeftOut"]


@dataclass(frozen=True, slots=True)
class LeftOut:
    """Stories the loader skipped: drafts (without --drafts) and stories dated after
    the build time (without --future). A draft dated in the future counts as a
    draft. Only told to people: nothing rendered depends on it."""

    drafts: tuple[str, ...] = ()  # source paths, sorted
    # (source path, date in the site's time zone), earliest first (then by path)
    future: tuple[tuple[str, datetime], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.drafts or self.future)
