"""Moderation: who is blocked, what waits for a person, and the decisions they make.

Policy (commsite.yaml `moderation`):

* `approve` decides whether a reply or introduction is published at once:
  `members` (the author's handle is a member's `handle` in content/members),
  `followers` (the author follows the community), `everyone`, or `manual`
  (everything waits). Messages to organisers and reports always wait; they are
  never published.
* `hold_keywords`: a post containing one (case-insensitive) waits, whatever
  `approve` says, and the list shows which keyword held it.
* `blocked_domains` / `blocked_actors` (plus what `commsite moderate
  block-actor/block-domain` added): their activities are answered 202 and
  dropped. A blocked domain covers its subdomains. A block by handle is only
  known to match once the actor's profile is: processing decides it first,
  fetching the profile when `handle_block_undecided`, so even an actor's
  first activity is refused. Every match compares identities
  (content/identity.py), never spellings.

Every decision (approve, reject, block) is a row of `moderation_decisions`,
with the rule of rules.md it cites and a note.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from commsite.config import SiteConfig
from commsite.content.identity import (
    handle_domain,
    identity,
    is_url,
    normalise_actor_url,
    normalise_handle,
    normalise_host,
)
from commsite.content.network_text import clean_text
from commsite.database import Connection, Row
from commsite.sidecar.store import Store, iso

__all__ = [
    "Decision",
    "Pending",
    "approve",
    "block",
    "blocked_reason",
    "decisions",
    "handle_block_undecided",
    "hold_keyword",
    "initial_status",
    "log_decision",
    "normalise_handle",
    "pending",
    "reject",
]

PUBLISHABLE = ("reply", "introduction")


def _host(url: str) -> str:
    try:
        return normalise_host(urlsplit(clean_text(url)).hostname or "")
    except ValueError:
        return ""


def _domain_blocked(host: str, domains: list[str]) -> str | None:
    """The blocked domain that is `host` or a parent of it (a.spam.example is
    covered by spam.example; notspam.example is not)."""
    host = normalise_host(host)
    for domain in domains:
        d = normalise_host(domain).lstrip(".")
        if d and (host == d or host.endswith("." + d)):
            return d
    return None


def _blocked_actors(store: Store, config: SiteConfig) -> set[str]:
    """Every actor block (commsite.yaml and `commsite moderate`), as identities."""
    rows = store.conn.execute("SELECT value FROM moderation_blocks WHERE kind = 'actor'")
    return {identity(b) for b in (*config.moderation.blocked_actors, *(r[0] for r in rows))}


def _known_handles(store: Store, actor_url: str) -> tuple[str, ...]:
    row = store.conn.execute(
        "SELECT handle, webfinger FROM inbox_actors WHERE id = ?", (actor_url,)
    ).fetchone()
    return tuple(h for h in (row or ()) if h)


def blocked_reason(store: Store, config: SiteConfig, actor: str) -> str | None:
    """Why `actor` (an actor URL, or a key id) is blocked, or None.

    A block by handle is only found once the actor's profile (its handles) is
    cached: see `handle_block_undecided`, which processing asks first."""
    actor_url = clean_text(actor).split("#", 1)[0]
    extra_domains = [
        r[0]
        for r in store.conn.execute("SELECT value FROM moderation_blocks WHERE kind = 'domain'")
    ]
    domain = _domain_blocked(_host(actor_url), [*config.moderation.blocked_domains, *extra_domains])
    if domain:
        return f"domain {domain} is blocked"
    blocked = _blocked_actors(store, config)
    if normalise_actor_url(actor_url) in blocked:
        return f"actor {actor_url} is blocked"
    for known in _known_handles(store, actor_url):
        if normalise_handle(known) in blocked:
            return f"actor {known} is blocked"
    return None


def handle_block_undecided(store: Store, config: SiteConfig, actor: str) -> bool:
    """True when a block by handle could name `actor` but its profile is not cached,
    so whether it is blocked cannot be told yet. A handle @user@domain can only
    be an actor's on `domain` or a subdomain of it (its FEP-2c59 WebFinger
    handle; see profiles.py), so other actors are decided without a fetch."""
    actor_url = clean_text(actor).split("#", 1)[0]
    host = _host(actor_url)
    domains = {handle_domain(b) for b in _blocked_actors(store, config) if not is_url(b)}
    if not any(host == d or host.endswith("." + d) for d in domains if d):
        return False
    return not _known_handles(store, actor_url)


def hold_keyword(config: SiteConfig, *texts: str | None) -> str | None:
    """The first hold keyword found in the texts (case-insensitive, whole words), or None."""
    haystack = " ".join(t for t in texts if t).lower()
    for keyword in config.moderation.hold_keywords:
        k = keyword.strip().lower()
        if k and re.search(r"(?<!\w)" + re.escape(k) + r"(?!\w)", haystack):
            return keyword
    return None


def initial_status(
    config: SiteConfig,
    *,
    kind: str,
    handle: str,
    member_handles: frozenset[str],
    is_follower: bool,
    texts: tuple[str | None, ...],
    aliases: tuple[str, ...] = (),
) -> tuple[str, str | None]:
    """(status, why it waits) for a new item. `aliases` are the author's other
    handles (its FEP-2c59 WebFinger handle), any of which may be a member's."""
    if kind not in PUBLISHABLE:
        return "pending", f"{kind} for organisers"
    keyword = hold_keyword(config, *texts)
    if keyword:
        return "pending", f"contains hold keyword {keyword!r}"
    policy = config.moderation.approve
    if policy == "everyone":
        return "approved", None
    if policy == "members" and any(
        normalise_handle(h) in member_handles for h in (handle, *aliases)
    ):
        return "approved", None
    if policy == "followers" and is_follower:
        return "approved", None
    why = {
        "members": "author is not a member",
        "followers": "author does not follow the community",
        "manual": "every post is reviewed",
    }
    return "pending", why.get(policy, "waits for review")


# --- what waits, and decisions ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Pending:
    seq: int
    kind: str
    actor: str
    handle: str
    target: str | None
    excerpt: str
    reason: str | None
    received_at: str


@dataclass(frozen=True, slots=True)
class Decision:
    seq: int
    at: str
    action: str
    subject: str
    rule: int | None
    note: str | None


def _excerpt(html_text: str, limit: int = 120) -> str:
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", html_text))).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pending(store: Store) -> list[Pending]:
    rows = store.conn.execute(
        "SELECT i.seq, i.kind, i.actor, COALESCE(a.handle, i.actor) AS handle, i.target,"
        " i.content_html, i.hold_reason, i.received_at"
        " FROM inbox_items i LEFT JOIN inbox_actors a ON a.id = i.actor"
        " WHERE i.status = 'pending' ORDER BY i.seq"
    ).fetchall()
    return [
        Pending(
            seq=r["seq"],
            kind=r["kind"],
            actor=r["actor"],
            handle=r["handle"],
            target=r["target"],
            excerpt=_excerpt(r["content_html"]),
            reason=r["hold_reason"],
            received_at=r["received_at"],
        )
        for r in rows
    ]


def log_decision(
    conn: Connection,
    now: datetime,
    action: str,
    subject: str,
    *,
    item_ap_id: str | None = None,
    actor: str | None = None,
    rule: int | None = None,
    note: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO moderation_decisions (at, action, subject, item_ap_id, actor, rule, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (iso(now), action, subject, item_ap_id, actor, rule, note),
    )


def _actors_named(conn: Connection, subject: str) -> list[str]:
    """The stored actors an actor URL or handle names, compared as identities."""
    wanted = identity(subject)
    if is_url(subject):
        rows = conn.execute(
            "SELECT actor FROM inbox_items UNION SELECT actor FROM inbox_reactions"
            " UNION SELECT actor FROM rsvps UNION SELECT id FROM inbox_actors"
        )
        return sorted({r[0] for r in rows if normalise_actor_url(r[0]) == wanted})
    rows = conn.execute("SELECT id, handle, webfinger FROM inbox_actors")
    return sorted(r[0] for r in rows if wanted in {normalise_handle(h) for h in r[1:] if h})


def _items_for(conn: Connection, subject: str) -> list[Row]:
    """An item number, or an actor URL / handle (then every item of theirs that waits)."""
    if subject.isdigit():
        return conn.execute("SELECT * FROM inbox_items WHERE seq = ?", (int(subject),)).fetchall()
    rows: list[Row] = []
    for actor in _actors_named(conn, subject):
        rows += conn.execute(
            "SELECT * FROM inbox_items WHERE actor = ? AND status = 'pending'", (actor,)
        ).fetchall()
    return sorted(rows, key=lambda r: int(r["seq"]))


def _decide(
    store: Store, status: str, subject: str, now: datetime, rule: int | None, note: str | None
) -> list[int]:
    with store.transaction() as conn:
        rows = _items_for(conn, subject)
        for row in rows:
            conn.execute("UPDATE inbox_items SET status = ? WHERE seq = ?", (status, row["seq"]))
            log_decision(
                conn,
                now,
                "approve" if status == "approved" else "reject",
                str(row["seq"]),
                item_ap_id=row["ap_id"],
                actor=row["actor"],
                rule=rule,
                note=note,
            )
    return [int(r["seq"]) for r in rows]


def approve(
    store: Store, subject: str, now: datetime, *, rule: int | None = None, note: str | None = None
) -> list[int]:
    """Approve an item (by number) or every waiting item of an actor; the numbers done."""
    return _decide(store, "approved", subject, now, rule, note)


def reject(
    store: Store, subject: str, now: datetime, *, rule: int | None = None, note: str | None = None
) -> list[int]:
    return _decide(store, "rejected", subject, now, rule, note)


def block(
    store: Store,
    kind: str,
    value: str,
    now: datetime,
    *,
    rule: int | None = None,
    note: str | None = None,
) -> int:
    """Block an actor (URL or handle) or a domain; reject what they sent. Returns items rejected."""
    if kind not in ("actor", "domain"):
        raise ValueError(f"cannot block a {kind!r}")
    value = normalise_host(value) if kind == "domain" else identity(value)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO moderation_blocks (kind, value, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (kind, value, iso(now)),
        )
        # Activities still queued are refused when processed: processing asks
        # blocked_reason first (see processing.py), so a block holds for them too.
        if kind == "domain":
            actors = [
                r[0]
                for r in conn.execute(
                    "SELECT actor FROM inbox_items UNION SELECT actor FROM inbox_reactions"
                    " UNION SELECT actor FROM rsvps"
                )
                if _domain_blocked(_host(r[0]), [value])
            ]
        else:
            actors = _actors_named(conn, value)
        rejected = 0
        for actor in actors:
            rejected += conn.execute(
                "UPDATE inbox_items SET status = 'rejected'"
                " WHERE actor = ? AND status != 'rejected'",
                (actor,),
            ).rowcount
            conn.execute("DELETE FROM inbox_reactions WHERE actor = ?", (actor,))
            # Their RSVPs too (rsvp_moderation.settle_all then frees their places).
            conn.execute("UPDATE rsvps SET status = 'rejected' WHERE actor = ?", (actor,))
        log_decision(conn, now, f"block-{kind}", value, rule=rule, note=note)
    return rejected


def decisions(store: Store) -> list[Decision]:
    rows = store.conn.execute(
        "SELECT seq, at, action, subject, rule, note FROM moderation_decisions ORDER BY seq"
    ).fetchall()
    return [
        Decision(r["seq"], r["at"], r["action"], r["subject"], r["rule"], r["note"]) for r in rows
    ]
