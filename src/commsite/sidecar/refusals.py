"""The log line of every refused inbox request: who sent it, and why it was refused."""

from __future__ import annotations

import logging

__all__ = ["log_refusal"]

log = logging.getLogger(__name__)


def _one_line(text: str, limit: int = 1000) -> str:
    """`text` for a log line: control characters (and lone surrogates) escaped, bounded."""
    if len(text) > limit:
        text = text[:limit] + "..."
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def log_refusal(
    remote_addr: str,
    status: int,
    reason: str,
    *,
    key_id: str | None = None,
    actor: str | None = None,
    activity_id: str | None = None,
) -> None:
    """The one log line of every refused inbox request (4xx): who sent it and why.

    WARNING for 429 and 503 (the sidecar is shedding load), INFO for the rest."""
    who = [f"from {remote_addr or '?'}"]
    if key_id:
        who.append(f"key {key_id}")
    if actor:
        who.append(f"actor {actor}")
    if activity_id:
        who.append(f"activity {activity_id}")
    log.log(
        logging.WARNING if status in (429, 503) else logging.INFO,
        "refused %d %s: %s",
        status,
        _one_line(", ".join(who)),
        _one_line(reason),
    )
