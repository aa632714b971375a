"""The report's numbers: frozen dataclasses, nothing but data.

`commsite.report.numbers.health_report` computes a `HealthReport` from the
site and a `StoreSnapshot`; the charts, the HTML page and `--json` all read
it. Every definition is in the package docstring (`commsite.report`) and in
docs/organisers.md ("The community health report").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "Comeback",
    "CommitmentStep",
    "Conversation",
    "FirstTimers",
    "Follower",
    "HealthReport",
    "MonthCount",
    "Newcomer",
    "PendingIntroduction",
    "PostReplies",
    "QuietMember",
    "StoreSnapshot",
]


# --- what the sidecar's store holds (read by commsite.report.store) ----------


@dataclass(frozen=True, slots=True)
class Follower:
    actor: str  # the actor's URL
    handle: str | None  # "@user@host", when the sidecar recorded it


@dataclass(frozen=True, slots=True)
class PendingIntroduction:
    number: int  # what `commsite moderate approve N` takes
    ap_id: str
    actor: str
    name: str
    handle: str
    published: datetime  # aware
    url: str | None = None


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """What the report reads from the sidecar's SQLite file; None: not known
    (no store, or a store without that table)."""

    followers: tuple[Follower, ...] | None = None
    pending_introductions: tuple[PendingIntroduction, ...] | None = None
    # The ids (and URLs) of introductions a welcome reply was sent to.
    welcomed: frozenset[str] | None = None
    path: str | None = None  # the file read, to say so on the page


# --- the numbers ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthCount:
    month: str  # "YYYY-MM", in the site's time zone
    new_members: int
    introductions: int


@dataclass(frozen=True, slots=True)
class PostReplies:
    target: str  # "stories/SLUG" or "events/SLUG"
    title: str
    replies: int
    repliers: int  # distinct people


@dataclass(frozen=True, slots=True)
class Conversation:
    """Replies sorted by whom they answer (see the package docstring)."""

    member_to_member: int
    to_community: int  # to the community's own stories and events
    other: int  # between non-members, to oneself, or to a post not in interactions/
    by_community: int  # written by the community account itself

    @property
    def total(self) -> int:
        return self.member_to_member + self.to_community + self.other + self.by_community

    @property
    def member_share(self) -> float | None:
        """member_to_member / total, None with no replies."""
        return self.member_to_member / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class CommitmentStep:
    key: str
    label: str
    people: int | None  # distinct people who did it; None: not known (no store)
    highest: int | None  # of them, how many went no further up the curve


@dataclass(frozen=True, slots=True)
class Comeback:
    event: str  # the event's slug
    title: str
    start: str  # YYYY-MM-DD in the site's time zone
    first_timers: int  # went, and had gone to no earlier event
    came_back: int  # of those, went to a later event too


@dataclass(frozen=True, slots=True)
class FirstTimers:
    people: int  # went to at least one event
    came_back: int  # went to a second one
    by_event: tuple[Comeback, ...] = ()


@dataclass(frozen=True, slots=True)
class Newcomer:
    name: str
    handle: str
    published: str  # YYYY-MM-DD in the site's time zone
    days_waiting: int
    url: str | None
    member: str | None = None  # member id, when already listed in content/members/
    pending: int | None = None  # the store's item number, while it waits for moderation


@dataclass(frozen=True, slots=True)
class QuietMember:
    member: str  # member id
    name: str
    last_posted: str  # YYYY-MM-DD
    last_replied_to: str | None  # YYYY-MM-DD, None: never


@dataclass(frozen=True, slots=True)
class HealthReport:
    title: str
    generated: str  # ISO 8601 in the site's time zone
    timezone: str
    since: str  # first month of the window, "YYYY-MM"
    until: str  # last month of the window (the current month)
    months: tuple[MonthCount, ...]
    replies_by_post: tuple[PostReplies, ...]  # posts with replies, most first
    posts_without_replies: int
    conversation: Conversation
    commitment: tuple[CommitmentStep, ...]
    first_timers: FirstTimers
    unanswered: tuple[Newcomer, ...]  # oldest first
    quiet_members: tuple[QuietMember, ...]
    members: int
    members_without_joined: int
    anonymous_reactions: int  # likes and boosts counted without who (older exports)
    quiet_days: int = 90
    sources: tuple[str, ...] = field(default=())  # what was read, in words
