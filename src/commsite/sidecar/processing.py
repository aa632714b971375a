"""Turning stored activities into replies, introductions, reactions and followers.

`Processor.process(activity)` handles one admitted activity and returns an
`Outcome`: the state the activity ends in (done / ignored / refused) and
whether something the public site shows changed (then the site needs a
rebuild). Network trouble (an actor that cannot be fetched right now) raises
`FetchError`, and the worker retries later (see worker.py); everything here is
idempotent, so a retry or a crash half-way repeats nothing twice.

What each activity does:

* Follow (of our actor) -> follower stored, a signed Accept{Follow} queued to
  the follower's inbox; Undo{Follow} -> follower removed.
* Create{Note} -> by `classify`: a reply (inReplyTo one of our stories/events,
  by object id or page URL, or a reply we already have, at any depth), an
  introduction (mentions us with #introduction, or is addressed to us and
  replies to nothing), or a message for organisers (other mentions, and every
  non-public post: a direct message is never published). Others are ignored.
  A Note whose id has a tombstone is refused: a late or replayed Create cannot
  bring back what was deleted.
* Update{Note} -> the item's text replaced and `updated` set (only by its
  author; an edit older than the stored one is ignored). An Update of a Note
  not stored yet (its Create still waits for a retry, or arrives later) is
  taken as its Create, as Mastodon does, so the edit is never lost; the late
  Create is then ignored. Update{Person} -> the cached profile refreshed.
* Delete{Note or Tombstone or id} -> the item removed, a tombstone kept;
  Delete{actor} -> everything from that actor purged.
* Like / Announce of our objects and their Undo -> counts per story or event,
  one per person and kind however the object was named (id or page URL).
* Flag -> a report for organisers.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.fields import web_address
from commsite.content.interactions import sanitize_html
from commsite.federation.followers import Follower
from commsite.sidecar.moderation import hold_keyword, initial_status
from commsite.sidecar.profiles import Profiles, profile_from_document
from commsite.sidecar.store import Store, iso
from commsite.sidecar.targets import Targets

__all__ = ["PUBLIC", "Outcome", "Processor", "classify"]

log = logging.getLogger(__name__)

PUBLIC = frozenset({"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"})
NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question"})
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # done | ignored | refused
    detail: str
    public_change: bool = False
    deliveries: bool = False  # something was queued for delivery


def _id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _when(value: Any, default: datetime) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return default
        return moment if moment.tzinfo is not None else default
    return default


def hashtags(note: Mapping[str, Any]) -> list[str]:
    names = []
    for tag in _list(note.get("tag")):
        if isinstance(tag, Mapping) and tag.get("type") == "Hashtag":
            name = tag.get("name")
            if isinstance(name, str) and name.strip("#"):
                names.append(name.strip().lstrip("#").lower())
    return sorted(set(names))


def classify(
    note: Mapping[str, Any], *, our_actor: str, thread_target: str | None
) -> tuple[str, str]:
    """(kind, why) for a Note: reply | introduction | message | ignore."""
    audience = {_id(a) for a in _list(note.get("to")) + _list(note.get("cc"))}
    public = bool(audience & PUBLIC)
    mentions = {
        _id(t.get("href"))
        for t in _list(note.get("tag"))
        if isinstance(t, Mapping) and t.get("type") == "Mention"
    }
    mentions_us = our_actor in mentions
    addressed = our_actor in audience or mentions_us
    replies_to = _id(note.get("inReplyTo"))
    if thread_target is not None:
        if public:
            return "reply", f"in the thread of {thread_target}"
        return "message", "a non-public reply (never published)"
    if mentions_us and "introduction" in hashtags(note):
        if public:
            return "introduction", "mentions the community with #introduction"
        return "message", "a non-public introduction (never published)"
    if addressed and replies_to is None:
        if public:
            return "introduction", "addressed to the community, replying to nothing"
        return "message", "a direct message"
    if addressed:
        return "message", "mentions the community"
    return "ignore", "not addressed to the community nor in one of its threads"


class Processor:
    def __init__(
        self,
        *,
        config: SiteConfig,
        store: Store,
        profiles: Profiles,
        targets: Targets,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.store = store
        self.profiles = profiles
        self.targets = targets
        self.clock = clock
        self.actor_id = config.url(urls.ACTOR)

    def process(self, activity: Mapping[str, Any]) -> Outcome:
        type_ = activity.get("type")
        handler = {
            "Follow": self._follow,
            "Undo": self._undo,
            "Create": self._create,
            "Update": self._update,
            "Delete": self._delete,
            "Like": self._react,
            "Announce": self._react,
            "Flag": self._flag,
        }.get(str(type_))
        if handler is None:
            return Outcome("ignored", f"{type_} is not handled")
        return handler(activity, str(_id(activity.get("actor"))))

    # --- follows -------------------------------------------------------------

    def _follow(self, activity: Mapping[str, Any], actor: str) -> Outcome:
        if _id(activity.get("object")) != self.actor_id:
            return Outcome("ignored", "a Follow of someone else")
        profile = self.profiles.get(actor)
        if profile.inbox is None:
            return Outcome("refused", f"{actor} has no inbox to send the Accept to")
        follow = {
            "id": activity["id"],
            "type": "Follow",
            "actor": actor,
            "object": self.actor_id,
        }
        digest = hashlib.sha256(str(activity["id"]).encode()).hexdigest()[:24]
        accept = {
            "@context": AS_CONTEXT,
            "id": self.config.url(f"ap/accepts/{digest}"),
            "type": "Accept",
            "actor": self.actor_id,
            "to": [actor],
            "object": follow,
        }
        now = self.clock()
        with self.store.transaction():
            self.store.followers.add(
                Follower(
                    actor=actor,
                    inbox=profile.inbox,
                    shared_inbox=profile.shared_inbox,
                    follow_id=str(activity["id"]),
                    since=now,
                    handle=profile.handle,
                )
            )
            self.store.deliveries.enqueue(accept, [profile.inbox], now=now)
        return Outcome("done", f"follower added, Accept queued to {profile.inbox}", deliveries=True)

    def _undo(self, activity: Mapping[str, Any], actor: str) -> Outcome:
        inner = activity.get("object")
        inner_id = _id(inner)
        inner_type = inner.get("type") if isinstance(inner, Mapping) else None
        if isinstance(inner, Mapping) and _id(inner.get("actor")) not in (None, actor):
            return Outcome("refused", "an Undo of someone else's activity")
        follower = self.store.followers.get(actor)
        with self.store.transaction() as conn:
            if inner_type == "Follow" or (
                inner_type is None and follower is not None and follower.follow_id == inner_id
            ):
                was = self.store.followers.remove(actor)
                return Outcome("done", "follower removed" if was else "was not following")
            removed = 0
            if inner_id:
                removed = conn.execute(
                    "DELETE FROM inbox_reactions WHERE activity_id = ? AND actor = ?",
                    (inner_id, actor),
                ).rowcount
            if not removed and isinstance(inner, Mapping) and inner_type in ("Like", "Announce"):
                # Not the activity we stored (a duplicate that named the object
                # another way): undo the reaction to the same story or event.
                object_id = _id(inner.get("object"))
                target = self.targets.target_of(object_id) if object_id else None
                removed = conn.execute(
                    "DELETE FROM inbox_reactions WHERE kind = ? AND actor = ?"
                    " AND (object = ? OR target = ?)",
                    (_kind(inner_type), actor, object_id, target),
                ).rowcount
        if removed:
            return Outcome("done", "reaction withdrawn", public_change=True)
        return Outcome("ignored", "nothing to undo")

    # --- notes ---------------------------------------------------------------

    def _note_of(self, activity: Mapping[str, Any], actor: str) -> Mapping[str, Any] | Outcome:
        note = activity.get("object")
        if not isinstance(note, Mapping):
            return Outcome("ignored", "the object is not embedded")
        if note.get("type") not in NOTE_TYPES:
            return Outcome("ignored", f"object type {note.get('type')} is not handled")
        note_id = _id(note)
        if not note_id or _host(note_id) != _host(actor):
            return Outcome("refused", "the object's id is not on the actor's host")
        if _id(note.get("attributedTo")) not in (None, actor):
            return Outcome("refused", "the object is attributed to someone else")
        return note

    def _thread_target(self, in_reply_to: str | None) -> str | None:
        if in_reply_to is None:
            return None
        target = self.targets.target_of(in_reply_to)
        if target is not None:
            return target
        row = self.store.conn.execute(
            "SELECT target FROM inbox_items WHERE ap_id = ? AND kind = 'reply'", (in_reply_to,)
        ).fetchone()
        return None if row is None else str(row[0])

    def _create(self, activity: Mapping[str, Any], actor: str) -> Outcome:
        note = self._note_of(activity, actor)
        if isinstance(note, Outcome):
            return note
        return self._store_note(note, actor, edit=False)

    def _store_note(self, note: Mapping[str, Any], actor: str, *, edit: bool) -> Outcome:
        """A new item from a Create, or from an Update whose Create has not been
        processed (yet): Mastodon sends the whole Note with each edit, and a
        Create that waits for a retry, or arrives after its edit, must not lose
        the edit. A Create that comes later finds the item stored and is
        ignored: it can only be older than the edit."""
        note_id = str(note["id"])
        verb = "an Update" if edit else "a Create"
        conn = self.store.conn
        if conn.execute("SELECT 1 FROM inbox_tombstones WHERE id = ?", (note_id,)).fetchone():
            return Outcome("refused", f"{note_id} was deleted; {verb} cannot bring it back")
        if conn.execute("SELECT 1 FROM inbox_items WHERE ap_id = ?", (note_id,)).fetchone():
            return Outcome("ignored", f"{note_id} is already stored")
        in_reply_to = _id(note.get("inReplyTo"))
        target = self._thread_target(in_reply_to)
        kind, why = classify(note, our_actor=self.actor_id, thread_target=target)
        if kind == "ignore":
            return Outcome("ignored", why)
        profile = self.profiles.get(actor)
        content = sanitize_html(str(note.get("content") or ""))
        summary = note.get("summary") if isinstance(note.get("summary"), str) else None
        status, reason = initial_status(
            self.config,
            kind=kind,
            handle=profile.handle,
            aliases=profile.handles[1:],
            member_handles=self.targets.member_handles(),
            is_follower=self.store.followers.get(actor) is not None,
            texts=(content, summary),
        )
        now = self.clock()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO inbox_items (ap_id, kind, actor, target, in_reply_to,"
                " content_html, summary, sensitive, url, tags, published, updated, status,"
                " hold_reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    note_id,
                    kind,
                    actor,
                    target if kind == "reply" else None,
                    in_reply_to,
                    content,
                    summary,
                    1 if note.get("sensitive") is True else 0,
                    _note_url(note),
                    json.dumps(hashtags(note)),
                    iso(_when(note.get("published"), now)),
                    iso(_when(note.get("updated"), now)) if edit else None,
                    status,
                    reason,
                    iso(now),
                ),
            )
        before = "an edit before its Create: " if edit else ""
        return Outcome(
            "done", f"{before}{kind} ({why}), {status}", public_change=status == "approved"
        )

    def _update(self, activity: Mapping[str, Any], actor: str) -> Outcome:
        obj = activity.get("object")
        if isinstance(obj, Mapping) and obj.get("type") in (
            "Person", "Service", "Group", "Organization", "Application"
        ):  # fmt: skip
            if _id(obj) != actor:
                return Outcome("refused", "an Update of someone else's profile")
            self.profiles.save(profile_from_document(obj, actor))
            return Outcome("done", "profile refreshed", public_change=self._has_public(actor))
        note = self._note_of(activity, actor)
        if isinstance(note, Outcome):
            return note
        note_id = str(note["id"])
        row = self.store.conn.execute(
            "SELECT status, actor, updated FROM inbox_items WHERE ap_id = ?", (note_id,)
        ).fetchone()
        if row is None:
            return self._store_note(note, actor, edit=True)
        if row["actor"] != actor:
            return Outcome("refused", "an Update of someone else's post")
        updated = iso(_when(note.get("updated"), self.clock()))
        if row["updated"] is not None and updated < row["updated"]:
            return Outcome("ignored", f"an older edit than the one stored ({row['updated']})")
        content = sanitize_html(str(note.get("content") or ""))
        summary = note.get("summary") if isinstance(note.get("summary"), str) else None
        status = row["status"]
        reason = None
        keyword = hold_keyword(self.config, content, summary)
        if keyword and status == "approved":
            status, reason = "pending", f"edited to contain hold keyword {keyword!r}"
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE inbox_items SET content_html = ?, summary = ?, sensitive = ?, url = ?,"
                " tags = ?, updated = ?, status = ?, hold_reason = COALESCE(?, hold_reason)"
                " WHERE ap_id = ?",
                (
                    content,
                    summary,
                    1 if note.get("sensitive") is True else 0,
                    _note_url(note),
                    json.dumps(hashtags(note)),
                    updated,
                    status,
                    reason,
                    note_id,
                ),
            )
        return Outcome("done", f"edited ({status})", public_change=row["status"] == "approved")

    def _delete(self, activity: Mapping[str, Any], actor: str) -> Outcome:
        object_id = _id(activity.get("object"))
        if object_id is None:
            return Outcome("ignored", "a Delete without an object id")
        if object_id == actor:
            return self.purge_actor(actor)
        if _host(object_id) != _host(actor):
            return Outcome("refused", "a Delete of an object on another host")
        now = self.clock()
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT actor, status FROM inbox_items WHERE ap_id = ?", (object_id,)
            ).fetchone()
            if row is not None and row["actor"] != actor:
                return Outcome("refused", "a Delete of someone else's post")
            conn.execute(
                "INSERT OR IGNORE INTO inbox_tombstones (id, actor, deleted_at) VALUES (?, ?, ?)",
                (object_id, actor, iso(now)),
            )
            conn.execute("DELETE FROM inbox_items WHERE ap_id = ?", (object_id,))
            reactions = conn.execute(
                "DELETE FROM inbox_reactions WHERE activity_id = ? AND actor = ?",
                (object_id, actor),
            ).rowcount
        public = (row is not None and row["status"] == "approved") or reactions > 0
        detail = "deleted, tombstone kept" if row is not None else "tombstone kept (not stored)"
        return Outcome("done", detail, public_change=public)

    def purge_actor(self, actor: str) -> Outcome:
        """Delete{actor}: forget everything from them; tombstones keep their posts out."""
        now = self.clock()
        with self.store.transaction() as conn:
            public = self._has_public(actor)
            conn.execute(
                "INSERT OR IGNORE INTO inbox_tombstones (id, actor, deleted_at)"
                " SELECT ap_id, actor, ? FROM inbox_items WHERE actor = ?",
                (iso(now), actor),
            )
            conn.execute(
                "INSERT OR IGNORE INTO inbox_tombstones (id, actor, deleted_at) VALUES (?, ?, ?)",
                (actor, actor, iso(now)),
            )
            items = conn.execute("DELETE FROM inbox_items WHERE actor = ?", (actor,)).rowcount
            conn.execute("DELETE FROM inbox_reactions WHERE actor = ?", (actor,))
            conn.execute("DELETE FROM inbox_actors WHERE id = ?", (actor,))
            conn.execute("DELETE FROM inbox_keys WHERE owner = ?", (actor,))
            self.store.followers.remove(actor)
            conn.execute(
                "UPDATE inbox_activities SET body = NULL, state = 'purged'"
                " WHERE actor = ? AND state NOT IN ('processing')",
                (actor,),
            )
        return Outcome("done", f"actor purged ({items} items)", public_change=public)

    def _has_public(self, actor: str) -> bool:
        conn = self.store.conn
        return (
            conn.execute(
                "SELECT 1 FROM inbox_items WHERE actor = ? AND status = 'approved' LIMIT 1",
                (actor,),
            ).fetchone()
            is not None
            or conn.execute(
                "SELECT 1 FROM inbox_reactions WHERE actor = ? LIMIT 1", (actor,)
            ).fetchone()
            is not None
        )

    # --- reactions and reports ----------------------------------------------

    def _react(self, activity: Mapping[str, Any], actor: str) -> Outcome:
        object_id = _id(activity.get("object"))
        target = self.targets.target_of(object_id) if object_id else None
        if target is None:
            return Outcome("ignored", "not one of our stories or events")
        kind = _kind(str(activity["type"]))
        # One per (kind, actor, target): a Like of the object id and another of
        # the page URL are the same like (the unique index ignores the second).
        with self.store.transaction() as conn:
            added = conn.execute(
                "INSERT OR IGNORE INTO inbox_reactions"
                " (activity_id, kind, actor, object, target, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (activity["id"], kind, actor, object_id, target, iso(self.clock())),
            ).rowcount
        return Outcome(
            "done" if added else "ignored", f"{kind} of {target}", public_change=bool(added)
        )

    def _flag(self, activity: Mapping[str, Any], actor: str) -> Outcome:
        objects = sorted({o for o in (_id(x) for x in _list(activity.get("object"))) if o})
        content = activity.get("content") if isinstance(activity.get("content"), str) else ""
        text = sanitize_html(f"<p>{html.escape(content, quote=False)}</p>") if content else ""
        now = self.clock()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO inbox_items (ap_id, kind, actor, content_html, tags,"
                " published, status, hold_reason, received_at)"
                " VALUES (?, 'report', ?, ?, ?, ?, 'pending', 'report for organisers', ?)",
                (activity["id"], actor, text, json.dumps(objects), iso(now), iso(now)),
            )
        return Outcome("done", f"report about {len(objects)} object(s)")


def _kind(activity_type: str) -> str:
    return "boost" if activity_type == "Announce" else "like"


def _note_url(note: Mapping[str, Any]) -> str | None:
    for value in _list(note.get("url")):
        url = value.get("href") if isinstance(value, Mapping) else value
        if isinstance(url, str) and web_address(url) is not None:
            return web_address(url)
    return None
