"""The build's notion of "now": the one place the build reads the clock.

`SOURCE_DATE_EPOCH` (https://reproducible-builds.org/specs/source-date-epoch/)
fixes it, so the same input gives byte-identical output.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from commsite.errors import CommsiteError

__all__ = ["build_now"]


def build_now(environ: Mapping[str, str]) -> datetime:
    """SOURCE_DATE_EPOCH from `environ` as an aware UTC datetime, else the current time."""
    raw = environ.get("SOURCE_DATE_EPOCH")
    if raw is None:
        return datetime.now(UTC)
    text = raw.strip()
    if not text.isdigit():
        raise CommsiteError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 UTC "
            f"(got {raw!r}); for example SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)"
        )
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise CommsiteError(
            f"SOURCE_DATE_EPOCH is out of range (got {raw!r}): {exc}; "
            "use a time between 1970 and 9999"
        ) from None
