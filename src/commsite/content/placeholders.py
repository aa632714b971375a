"""Warnings for what `commsite init`'s starter left to replace: its address, its
sample members and their example handle. A site published with them would have
a fediverse account nobody can reach, and people who do not exist."""

from __future__ import annotations

from collections.abc import Sequence

from commsite.content.checks import Checker, meta_str
from commsite.content.parse import ParsedFile
from commsite.content.scaffold import STARTER_HANDLE, STARTER_MEMBERS
from commsite.errors import Severity

__all__ = ["check_starter_members"]


def check_starter_members(c: Checker, member_files: Sequence[ParsedFile]) -> None:
    """Warn about the starter's sample members and example handle while they remain."""
    for p in member_files:
        name = meta_str(p.meta, "name")
        if name in STARTER_MEMBERS:
            c.error(
                p,
                "name",
                f"{name} is the starter's sample member",
                "replace the name, handle and text with a real member's (and rename the"
                " file to their id), or delete the file",
                Severity.WARNING,
            )
        if (meta_str(p.meta, "handle") or "").casefold() == STARTER_HANDLE:
            c.error(
                p,
                "handle",
                f"the handle {STARTER_HANDLE} is the starter's example, nobody's account",
                'write the member\'s own handle, e.g. "@ada@mastodon.social", or remove the line',
                Severity.WARNING,
            )
