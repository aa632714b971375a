"""The welcome reply's I/O: the introduction from the store, the proposal, whom it
mentions (actors found through the cache, the followers or WebFinger), the
record of what was decided, and the delivery.

A welcome is sent once per introduction. Sending stores it (`welcome_replies`,
`welcome_mentions`: the fairness count of later proposals and `commsite
report` read them), logs a `welcome` decision and queues the signed `Create`
in the delivery queue, in one transaction; the caller then delivers what is
due (and the sidecar's worker retries what failed). Skipping records the
decision only; a skipped introduction can still be welcomed later.

Whom a handle names is handles.py's job (the profile cache, the followers,
WebFinger; the sidecar's Fetcher and its private-address rules).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.introductions_match import Candidate, propose
from commsite.content.member_match import MemberMatcher, normal_handle
from commsite.content.model import Member
from commsite.database import Row
from commsite.datadir import DataDir
from commsite.errors import CommsiteError
from commsite.federation.delivery import DeliveryOutcome, run_deliveries, signer
from commsite.federation.fetch import Fetcher, FetchError
from commsite.federation.keys import key_id, load_private_key
from commsite.sidecar.handles import HandleNotFound, Resolver
from commsite.sidecar.moderation import log_decision
from commsite.sidecar.store import Store, iso
from commsite.sidecar.welcome import (
    TEXT_LIMIT,
    MentionTarget,
    Proposed,
    handles_in,
    note_html,
    note_path,
    plain_name,
    plain_text,
    proposal_text,
    welcome_activity,
)

__all__ = [
    "IntroductionRow",
    "WelcomeError",
    "deliver",
    "find_introduction",
    "introductions_awaiting_welcome",
    "proposal",
    "proposed_counts",
    "send",
    "skip",
    "welcome_of",
]


class WelcomeError(CommsiteError):
    """A welcome that cannot be proposed or sent, with what to do about it."""


@dataclass(frozen=True, slots=True)
class IntroductionRow:
    seq: int
    ap_id: str
    actor: str
    handle: str
    webfinger: str | None
    name: str
    tags: tuple[str, ...]
    text: str  # plain text
    status: str  # pending | approved | rejected


@dataclass(frozen=True, slots=True)
class Proposal:
    introduction: IntroductionRow
    members: tuple[Proposed, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Sent:
    activity: dict[str, object]
    inboxes: tuple[str, ...]
    mentioned: tuple[MentionTarget, ...]


_INTRO_SELECT = (
    "SELECT i.seq, i.ap_id, i.actor, i.tags, i.content_html, i.status,"
    " COALESCE(a.handle, i.actor) AS handle, a.webfinger, COALESCE(a.name, '') AS name"
    " FROM inbox_items i LEFT JOIN inbox_actors a ON a.id = i.actor"
    " WHERE i.kind = 'introduction'"
)


def _row(r: Row) -> IntroductionRow:
    tags = json.loads(r["tags"] or "[]")
    return IntroductionRow(
        seq=int(r["seq"]),
        ap_id=r["ap_id"],
        actor=r["actor"],
        handle=r["handle"],
        webfinger=r["webfinger"],
        name=plain_name(r["name"] or "") or r["handle"],
        tags=tuple(str(t).lower().lstrip("#") for t in tags if isinstance(t, str)),
        text=plain_text(r["content_html"]),
        status=r["status"],
    )


def find_introduction(store: Store, subject: str) -> IntroductionRow | None:
    """The introduction numbered `subject` in `commsite moderate`, or with that id."""
    subject = subject.strip().removeprefix("#")
    if subject.isdigit():
        row = store.conn.execute(_INTRO_SELECT + " AND i.seq = ?", (int(subject),)).fetchone()
    else:
        row = store.conn.execute(_INTRO_SELECT + " AND i.ap_id = ?", (subject,)).fetchone()
    return None if row is None else _row(row)


def welcome_of(store: Store, introduction: str) -> tuple[str, str] | None:
    """(status, decided_at) of the welcome decided for an introduction, or None."""
    row = store.conn.execute(
        "SELECT status, decided_at FROM welcome_replies WHERE introduction = ?", (introduction,)
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


# Introductions older than this are not listed as waiting for a welcome: a
# greeting months late helps nobody, and a store from before welcomes existed
# would otherwise list every introduction it ever approved.
RECENT = timedelta(days=30)


def introductions_awaiting_welcome(store: Store, now: datetime) -> list[IntroductionRow]:
    """Approved introductions of the last RECENT no welcome was sent or skipped for,
    oldest first. (`commsite moderate welcome N` still takes an older one.)"""
    rows = store.conn.execute(
        _INTRO_SELECT + " AND i.status = 'approved' AND i.received_at >= ? AND NOT EXISTS"
        " (SELECT 1 FROM welcome_replies w WHERE w.introduction = i.ap_id) ORDER BY i.seq",
        (iso(now - RECENT),),
    ).fetchall()
    return [_row(r) for r in rows]


def proposed_counts(store: Store) -> Counter[str]:
    """How many sent welcomes introduced each member (by member id)."""
    rows = store.conn.execute(
        "SELECT m.member, COUNT(*) FROM welcome_mentions m"
        " JOIN welcome_replies w ON w.introduction = m.introduction"
        " WHERE w.status = 'sent' GROUP BY m.member"
    ).fetchall()
    return Counter({str(r[0]): int(r[1]) for r in rows})


def _newcomer_member(members: Sequence[Member], intro: IntroductionRow) -> str | None:
    return MemberMatcher.of(members).match(
        intro.handle, webfinger=intro.webfinger, actor=intro.actor
    )


def proposal(
    store: Store, config: SiteConfig, members: Sequence[Member], intro: IntroductionRow
) -> Proposal:
    """The welcome proposed for `intro`: members who share interests (only
    members with a handle can be mentioned), and its text."""
    by_id = {m.id: m for m in members if m.handle and normal_handle(m.handle)}
    myself = _newcomer_member(members, intro)
    matches = propose(
        newcomer=intro.actor,
        hashtags=intro.tags,
        text=intro.text,
        members=[Candidate(m.id, m.interests) for m in by_id.values()],
        proposed_before=proposed_counts(store),
        exclude={myself} if myself else (),
    )
    proposed = tuple(
        Proposed(m.id, by_id[m.id].name, str(by_id[m.id].handle), m.shared) for m in matches
    )
    text = proposal_text(
        newcomer_name=intro.name,
        newcomer_handle=intro.handle if intro.handle.startswith("@") else "",
        community=config.community.name or config.title,
        members=proposed,
        rules_url=config.url(urls.RULES),
    )
    return Proposal(intro, proposed, text)


# --- deciding ----------------------------------------------------------------


def _targets(
    text: str, intro: IntroductionRow, resolver: Resolver
) -> tuple[str, list[tuple[MentionTarget, str | None]]]:
    """The text (the newcomer's handle first if it was taken out) and each mention
    with its inbox. WelcomeError listing every handle that could not be found."""
    newcomer = resolver.actor(intro.actor)
    newcomer_handles = {normal_handle(h) for h in (intro.handle, intro.webfinger) if h}
    written = handles_in(text)
    if not newcomer_handles & {normal_handle(h) for h in written} and intro.handle.startswith("@"):
        text = f"{intro.handle} {text}"
        written = handles_in(text)
    targets: list[tuple[MentionTarget, str | None]] = []
    if not intro.handle.startswith("@"):  # an actor without a handle: addressed, not named
        targets.append(
            (MentionTarget(intro.actor, intro.actor, newcomer.url or intro.actor), newcomer.inbox)
        )
    problems = []
    for handle in written:
        try:
            profile = (
                newcomer if normal_handle(handle) in newcomer_handles else resolver.handle(handle)
            )
        except (FetchError, HandleNotFound) as exc:
            problems.append(f"{handle}: {exc}")
            continue
        targets.append(
            (MentionTarget(handle, profile.id, profile.url or profile.id), profile.inbox)
        )
    if problems:
        raise WelcomeError(
            "cannot find whom the welcome mentions:\n  "
            + "\n  ".join(problems)
            + "\nedit the text (or mention fewer people) and try again"
        )
    return text, targets


def send(
    store: Store,
    config: SiteConfig,
    members: Sequence[Member],
    intro: IntroductionRow,
    text: str,
    resolver: Resolver,
    now: datetime,
    *,
    proposed: Sequence[Proposed] = (),
) -> Sent:
    """Record the welcome and queue its signed Create to everyone it mentions."""
    text = text.strip()
    if not text:
        raise WelcomeError("the welcome is empty; nothing was sent")
    if len(text) > TEXT_LIMIT:
        raise WelcomeError(f"the welcome is {len(text)} characters; keep it under {TEXT_LIMIT}")
    decided = welcome_of(store, intro.ap_id)
    if decided and decided[0] == "sent":
        raise WelcomeError(f"introduction #{intro.seq} was welcomed already, at {decided[1]}")
    text, targets = _targets(text, intro, resolver)
    mentioned = [t for t, _ in targets]
    content = note_html(text, {normal_handle(t.handle) or t.handle: t for t in mentioned})
    note_id = config.url(note_path(intro.ap_id))
    activity = welcome_activity(
        our_actor=config.url(urls.ACTOR),
        note_id=note_id,
        introduction=intro.ap_id,
        content_html=content,
        mentioned=mentioned,
        published=now,
    )
    inboxes = tuple(dict.fromkeys(inbox for _, inbox in targets if inbox))
    matcher = MemberMatcher.of(members)
    shared = {p.member_id: p.shared for p in proposed}
    myself = _newcomer_member(members, intro)
    with store.transaction() as conn:
        # Checked again where it counts: another `moderate` may have sent it meanwhile.
        if (decided := welcome_of(store, intro.ap_id)) and decided[0] == "sent":
            raise WelcomeError(f"introduction #{intro.seq} was welcomed already, at {decided[1]}")
        conn.execute(
            "INSERT INTO welcome_replies"
            " (introduction, newcomer, status, note_id, activity_id, content_html, decided_at)"
            " VALUES (?, ?, 'sent', ?, ?, ?, ?) ON CONFLICT (introduction) DO UPDATE SET"
            " status = 'sent', note_id = excluded.note_id, activity_id = excluded.activity_id,"
            " content_html = excluded.content_html, decided_at = excluded.decided_at",
            (intro.ap_id, intro.actor, note_id, activity["id"], content, iso(now)),
        )
        for target in mentioned:
            member = matcher.match(target.handle, actor=target.actor)
            if member is None or member == myself:
                continue
            conn.execute(
                "INSERT INTO welcome_mentions"
                " (introduction, member, handle, actor, shared) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (
                    intro.ap_id,
                    member,
                    target.handle,
                    target.actor,
                    json.dumps(list(shared.get(member, ())), ensure_ascii=False),
                ),
            )
        log_decision(
            conn,
            now,
            "welcome",
            str(intro.seq),
            item_ap_id=intro.ap_id,
            actor=intro.actor,
            note=f"mentions {', '.join(t.handle for t in mentioned)}",
        )
        store.deliveries.enqueue(activity, inboxes, now=now)
    return Sent(activity, inboxes, tuple(mentioned))


def skip(store: Store, intro: IntroductionRow, now: datetime) -> None:
    """Record that this introduction gets no welcome (it can still get one later)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO welcome_replies (introduction, newcomer, status, decided_at)"
            " VALUES (?, ?, 'skipped', ?) ON CONFLICT (introduction) DO NOTHING",
            (intro.ap_id, intro.actor, iso(now)),
        )
        log_decision(
            conn, now, "welcome-skip", str(intro.seq), item_ap_id=intro.ap_id, actor=intro.actor
        )


def deliver(
    store: Store, fetcher: Fetcher, config: SiteConfig, root: Path, clock: Callable[[], datetime]
) -> list[DeliveryOutcome]:
    """One pass over the delivery queue (what is due now, the welcome included)."""
    data_dir = DataDir.for_site(root, config.sidecar.data_dir)
    private_key = load_private_key(root, data_dir=data_dir)
    return run_deliveries(
        store.deliveries,
        store.followers,
        sign=signer(key_id(config), private_key, clock),
        post=fetcher.post,
        clock=clock,
        until_idle=False,
    )
