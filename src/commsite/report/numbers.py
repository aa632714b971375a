"""The site and a store snapshot -> HealthReport (pure: no files, no clock).

The definitions are in the package docstring (commsite.report).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from commsite.content.member_match import normal_url
from commsite.content.model import Reply, Site
from commsite.report.commitment import commitment_curve, first_timers, went
from commsite.report.conversations import (
    Thread,
    answered_addresses,
    conversation,
    quiet_members,
    replies_by_post,
)
from commsite.report.model import HealthReport, MonthCount, Newcomer, StoreSnapshot
from commsite.report.people import COMMUNITY, Author, People, member_id

__all__ = ["DEFAULT_MONTHS", "QUIET_DAYS", "Window", "health_report"]

DEFAULT_MONTHS = 12
QUIET_DAYS = 90


def _month(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _add_months(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    total = year * 12 + (mon - 1) + n
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class Window:
    """The months the monthly numbers and the reply counts cover: `months`
    months ending with the current one, or from `since` (a date) on."""

    months: int | None = None
    since: date | None = None

    def first_month(self, current: str) -> str:
        if self.since is not None:
            return min(_month(self.since), current)
        return _add_months(current, -((self.months or DEFAULT_MONTHS) - 1))


def _authors(site: Site, store: StoreSnapshot) -> Iterable[Author]:
    ix = site.interactions
    for r in ix.replies:
        yield Author(r.author_handle, r.author_webfinger, r.author_actor)
    for i in ix.introductions:
        yield Author(i.author_handle, i.author_webfinger, i.author_actor)
    for v in ix.rsvps:
        yield Author(v.author_handle, v.author_webfinger, v.author_actor)
    for reaction in ix.reactions:
        for b in reaction.by:
            yield Author(b.author_handle, b.author_webfinger, b.author_actor)
    for f in store.followers or ():
        yield Author(f.handle, None, f.actor)
    for p in store.pending_introductions or ():
        yield Author(p.handle, None, p.actor)


def health_report(
    site: Site, store: StoreSnapshot, *, now: datetime, window: Window = Window()
) -> HealthReport:
    tz = site.config.tz
    local_now = now.astimezone(tz)

    def day(moment: datetime) -> str:
        return moment.astimezone(tz).date().isoformat()

    until = _month(local_now.date())
    since = window.first_month(until)
    people = People.of(site.members, site.config, _authors(site, store))
    thread = Thread.of(site, people)

    def in_window(reply: Reply) -> bool:
        return since <= _month(reply.published.astimezone(tz).date()) and reply.published <= now

    joined = Counter(_month(m.joined) for m in site.members if m.joined is not None)
    introduced = Counter(
        _month(i.published.astimezone(tz).date()) for i in site.interactions.introductions
    )
    months: list[MonthCount] = []
    month = since
    while month <= until:
        months.append(MonthCount(month, joined[month], introduced[month]))
        month = _add_months(month, 1)
    by_post, without = replies_by_post(site, thread, in_window)
    attended = went(site, people, now)
    return HealthReport(
        title=site.config.title,
        generated=local_now.isoformat(timespec="minutes"),
        timezone=site.config.timezone,
        since=since,
        until=until,
        months=tuple(months),
        replies_by_post=by_post,
        posts_without_replies=without,
        conversation=conversation(thread, in_window),
        commitment=commitment_curve(site, people, store, attended),
        first_timers=first_timers(site, attended, day),
        unanswered=_unanswered(site, store, people, thread, now, day),
        quiet_members=quiet_members(site, thread, now, QUIET_DAYS, day),
        members=len(site.members),
        members_without_joined=sum(1 for m in site.members if m.joined is None),
        anonymous_reactions=sum(
            max(0, r.likes + r.boosts - len(r.by)) for r in site.interactions.reactions
        ),
        quiet_days=QUIET_DAYS,
        sources=_sources(site, store),
    )


def _unanswered(
    site: Site,
    store: StoreSnapshot,
    people: People,
    thread: Thread,
    now: datetime,
    day: Callable[[datetime], str],
) -> tuple[Newcomer, ...]:
    """Introductions nobody (a member or the community account, not the newcomer)
    replied to in interactions/ and no welcome reply was sent to; then those
    still waiting for moderation in the store. Oldest first."""
    answers: dict[str, set[str]] = {}
    for address, who in answered_addresses(
        thread, lambda key: key == COMMUNITY or member_id(key) is not None
    ):
        answers.setdefault(address, set()).add(who)
    welcomed = {normal_url(a) or a for a in store.welcomed or ()}
    found: list[Newcomer] = []
    shown: set[str] = set()
    for intro in site.interactions.introductions:
        who = people.key(Author(intro.author_handle, intro.author_webfinger, intro.author_actor))
        addresses = {a for a in map(normal_url, (intro.id, intro.url)) if a}
        shown |= addresses
        repliers = set().union(*(answers.get(a, set()) for a in addresses))
        if addresses & welcomed or repliers - {who}:
            continue
        found.append(
            Newcomer(
                intro.author_name,
                intro.author_handle,
                day(intro.published),
                max(0, (now - intro.published).days),
                intro.url,
                member_id(who),
            )
        )
    for pending in store.pending_introductions or ():
        if normal_url(pending.ap_id) in shown:
            continue
        who = people.key(Author(pending.handle, None, pending.actor))
        found.append(
            Newcomer(
                pending.name,
                pending.handle,
                day(pending.published),
                max(0, (now - pending.published).days),
                pending.url if normal_url(pending.url) else None,  # http(s) links only
                member_id(who),
                pending.number,
            )
        )
    found.sort(key=lambda n: (n.published, n.handle))
    return tuple(found)


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def _sources(site: Site, store: StoreSnapshot) -> tuple[str, ...]:
    ix = site.interactions
    said = [
        f"content/: {len(site.stories)} stories, {len(site.events)} events,"
        f" {len(site.members)} members",
        f"interactions/: {len(ix.replies)} replies, {len(ix.introductions)} introductions,"
        f" {len(ix.rsvps)} RSVPs, reactions to {len(ix.reactions)} posts",
    ]
    if store.path is None:
        said.append("no sidecar store: followers and introductions waiting for moderation unknown")
    else:
        parts = []
        if store.followers is not None:
            parts.append(_n(len(store.followers), "follower"))
        if store.pending_introductions is not None:
            parts.append(_n(len(store.pending_introductions), "introduction") + " waiting")
        if store.welcomed is not None:
            parts.append(_n(len(store.welcomed), "welcome reply", "welcome replies") + " sent")
        said.append("the sidecar's store: " + (", ".join(parts) or "no tables the report reads"))
    return tuple(said)
