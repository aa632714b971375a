"""Turning stored activities into replies, introductions, reactions and followers.

`Processor.process(activity)` handles one admitted activity and returns an
`Outcome`: the state the activity ends in (done / ignored / refused) and
whether something the public site shows changed (then the site needs a
rebuild). Network trouble (an actor that cannot be fetched right now) raises
`FetchError`, and the worker retries later (see worker.py); everything here is
idempotent, so a retry or a crash half-way repeats nothing twice.

Before anything else:

* every string of the activity goes through `clean_json` (content/network_text.py), so
  no field from the network can make a row unstorable;
* the actor's block status is decided: by its URL and domain, and by its
  handles, which a block `@user@host` needs. When such a block could name the
  actor and its profile is not cached yet (first contact), the profile is
  fetched first; a fetch that fails leaves the activity to a retry. So
  nothing from a blocked actor is approved, counted or followed, even the
  first time it writes, and a block added while an activity waits holds for
  it. Inserts check again inside their transaction, so a block committed
  meanwhile by `commsite moderate` is never overtaken.

An activity about something of ours that is not known yet (a reply or Like
to a story published seconds ago, a reply to a post whose Create still waits,
an Undo of an activity still queued) raises `NotYetKnown` unless `final`: the
worker retries it for a while instead of filing it as a message or ignoring
it for good (see targets.py and worker.py).

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
from datetime import datetime
from typing import Any

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.interactions import sanitize_html
from commsite.content.network_text import clean_json
from commsite.federation.followers import Follower
from commsite.sidecar.moderation import (
    blocked_reason,
    handle_block_undecided,
    hold_keyword,
    initial_status,
)
from commsite.sidecar.notes import (
    NOTE_TYPES,
    PUBLIC,
    classify,
    hashtags,
    id_of,
    list_of,
    note_url,
    same_host,
    when,
)
from commsite.sidecar.outcome import Outcome
from commsite.sidecar.profiles import Profiles, profile_from_document
from commsite.sidecar.rsvp_intake import RsvpIntake
from commsite.sidecar.store import Store, iso
from commsite.sidecar.targets import NotYetKnown, Targets

__all__ = ["PUBLIC", "NotYetKnown", "Outcome", "Processor", "classify"]

log = logging.getLogger(__name__)

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


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
        self.rsvps = RsvpIntake(
            config=config,
            store=store,
            profiles=profiles,
            targets=targets,
            clock=clock,
            blocked=self._blocked,
        )

    def process(self, activity: Mapping[str, Any], *, final: bool = True) -> Outcome:
        """What `activity` comes to. Unless `final`, NotYetKnown when it names
        something of ours not known yet (retry it later); FetchError when a
        profile cannot be fetched now."""
        activity = clean_json(activity)
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
            **dict.fromkeys(("Join", "Leave", "Accept", "TentativeAccept", "Reject"), self._rsvp),
        }.get(str(type_))
        if handler is None:
            return Outcome("ignored", f"{type_} is not handled")
        actor = str(id_of(activity.get("actor")))
        if handle_block_undecided(self.store, self.config, actor):
            self.profiles.get(actor)  # its handles decide; a failed fetch is retried
        blocked = self._blocked(actor)
        if blocked is not None:
            return blocked
        return handler(activity, actor, final)

    def _blocked(self, actor: str) -> Outcome | None:
        """Refused when `actor` is blocked now (called again inside each insert's
        transaction, where a block committed since the first call is seen)."""
        reason = blocked_reason(self.store, self.config, actor)
        return None if reason is None else Outcome("refused", f"blocked: {reason}")

    # --- follows -------------------------------------------------------------

    def _follow(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
        if id_of(activity.get("object")) != self.actor_id:
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
            if blocked := self._blocked(actor):
                return blocked
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

    def _undo(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
        inner = activity.get("object")
        inner_id = id_of(inner)
        inner_type = inner.get("type") if isinstance(inner, Mapping) else None
        if isinstance(inner, Mapping) and id_of(inner.get("actor")) not in (None, actor):
            return Outcome("refused", "an Undo of someone else's activity")
        if not final and inner_id and inner_id != activity["id"] and self.store.waits(inner_id):
            # Undone before it was processed: undo it once it is, not before.
            raise NotYetKnown(f"{inner_id} is not processed yet")
        if inner_type not in ("Follow", "Like", "Announce"):
            undone = self.rsvps.undo(inner_id, inner, actor)
            if undone is not None:
                return undone
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
                object_id = id_of(inner.get("object"))
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
        note_id = id_of(note)
        if not note_id or not same_host(note_id, actor):
            return Outcome("refused", "the object's id is not on the actor's host")
        if id_of(note.get("attributedTo")) not in (None, actor):
            return Outcome("refused", "the object is attributed to someone else")
        return note

    def _thread_target(self, in_reply_to: str | None, final: bool) -> str | None:
        if in_reply_to is None:
            return None
        target = self.targets.target_of(in_reply_to)
        if target is not None:
            return target
        row = self.store.conn.execute(
            "SELECT target FROM inbox_items WHERE ap_id = ? AND kind = 'reply'", (in_reply_to,)
        ).fetchone()
        if row is not None:
            return str(row[0])
        if not final and self.targets.pending(in_reply_to):
            raise NotYetKnown(f"{in_reply_to} is not one of our stories or events (yet)")
        if not final and self.store.create_waits(in_reply_to):
            raise NotYetKnown(f"the post it answers, {in_reply_to}, is not processed yet")
        return None

    def _create(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
        note = self._note_of(activity, actor)
        if isinstance(note, Outcome):
            return note
        vote = self.rsvps.vote(note, actor, final=final)  # a vote is never a reply
        if vote is not None:
            return vote
        return self._store_note(note, actor, edit=False, final=final)

    def _store_note(
        self, note: Mapping[str, Any], actor: str, *, edit: bool, final: bool
    ) -> Outcome:
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
        in_reply_to = id_of(note.get("inReplyTo"))
        # A post answering itself waits for nothing (its own Create is the one processing).
        target = self._thread_target(in_reply_to, final or in_reply_to == note_id)
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
            member_handles=self.targets.member_handles(
                profile.handles if self.config.moderation.approve == "members" else ()
            ),
            is_follower=self.store.followers.get(actor) is not None,
            texts=(content, summary),
        )
        now = self.clock()
        with self.store.transaction() as conn:
            if blocked := self._blocked(actor):
                return blocked
            conn.execute(
                "INSERT INTO inbox_items (ap_id, kind, actor, target, in_reply_to,"
                " content_html, summary, sensitive, url, tags, published, updated, status,"
                " hold_reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (
                    note_id,
                    kind,
                    actor,
                    target if kind == "reply" else None,
                    in_reply_to,
                    content,
                    summary,
                    1 if note.get("sensitive") is True else 0,
                    note_url(note),
                    json.dumps(hashtags(note)),
                    iso(when(note.get("published"), now)),
                    iso(when(note.get("updated"), now)) if edit else None,
                    status,
                    reason,
                    iso(now),
                ),
            )
        before = "an edit before its Create: " if edit else ""
        stored = Outcome(
            "done", f"{before}{kind} ({why}), {status}", public_change=status == "approved"
        )
        return self.rsvps.with_reply(stored, note, actor, content, kind)

    def _update(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
        obj = activity.get("object")
        if isinstance(obj, Mapping) and obj.get("type") in (
            "Person", "Service", "Group", "Organization", "Application"
        ):  # fmt: skip
            if id_of(obj) != actor:
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
            return self._store_note(note, actor, edit=True, final=final)
        if row["actor"] != actor:
            return Outcome("refused", "an Update of someone else's post")
        updated = iso(when(note.get("updated"), self.clock()))
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
                    note_url(note),
                    json.dumps(hashtags(note)),
                    updated,
                    status,
                    reason,
                    note_id,
                ),
            )
        edited = Outcome("done", f"edited ({status})", public_change=row["status"] == "approved")
        return self.rsvps.with_reply(edited, note, actor, content, "reply")

    def _delete(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
        object_id = id_of(activity.get("object"))
        if object_id is None:
            return Outcome("ignored", "a Delete without an object id")
        if object_id == actor:
            return self.purge_actor(actor)
        if not same_host(object_id, actor):
            return Outcome("refused", "a Delete of an object on another host")
        now = self.clock()
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT actor, status FROM inbox_items WHERE ap_id = ?", (object_id,)
            ).fetchone()
            if row is not None and row["actor"] != actor:
                return Outcome("refused", "a Delete of someone else's post")
            conn.execute(
                "INSERT INTO inbox_tombstones (id, actor, deleted_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (object_id, actor, iso(now)),
            )
            conn.execute("DELETE FROM inbox_items WHERE ap_id = ?", (object_id,))
            reactions = conn.execute(
                "DELETE FROM inbox_reactions WHERE activity_id = ? AND actor = ?",
                (object_id, actor),
            ).rowcount
        rsvp = self.rsvps.forget_reply(object_id, actor)
        public = (row is not None and row["status"] == "approved") or reactions > 0 or rsvp
        detail = "deleted, tombstone kept" if row is not None else "tombstone kept (not stored)"
        return Outcome("done", detail, public_change=public)

    def purge_actor(self, actor: str) -> Outcome:
        """Delete{actor}: forget everything from them; tombstones keep their posts out."""
        now = self.clock()
        with self.store.transaction() as conn:
            public = self._has_public(actor)
            conn.execute(
                "INSERT INTO inbox_tombstones (id, actor, deleted_at)"
                " SELECT ap_id, actor, ? FROM inbox_items WHERE actor = ? ON CONFLICT DO NOTHING",
                (iso(now), actor),
            )
            conn.execute(
                "INSERT INTO inbox_tombstones (id, actor, deleted_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (actor, actor, iso(now)),
            )
            items = conn.execute("DELETE FROM inbox_items WHERE actor = ?", (actor,)).rowcount
            conn.execute("DELETE FROM inbox_reactions WHERE actor = ?", (actor,))
            self.rsvps.purge(conn, actor, now)
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

    def _react(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
        object_id = id_of(activity.get("object"))
        target = self.targets.target_of(object_id) if object_id else None
        if target is None:
            if not final and object_id and self.targets.could_be_ours(object_id):
                raise NotYetKnown(f"{object_id} is not one of our stories or events (yet)")
            return Outcome("ignored", "not one of our stories or events")
        kind = _kind(str(activity["type"]))
        # Cached, so that its handles are known: a block by handle added later
        # (commsite moderate block-actor @x@host) finds and removes this too.
        self.profiles.get(actor)
        # One per (kind, actor, target): a Like of the object id and another of
        # the page URL are the same like (the unique index ignores the second).
        with self.store.transaction() as conn:
            if blocked := self._blocked(actor):
                return blocked
            added = conn.execute(
                "INSERT INTO inbox_reactions"
                " (activity_id, kind, actor, object, target, created_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (activity["id"], kind, actor, object_id, target, iso(self.clock())),
            ).rowcount
        return Outcome(
            "done" if added else "ignored", f"{kind} of {target}", public_change=bool(added)
        )

    def _rsvp(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
        return self.rsvps.native(activity, actor, final)

    def _flag(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
        objects = sorted({o for o in (id_of(x) for x in list_of(activity.get("object"))) if o})
        content = activity.get("content") if isinstance(activity.get("content"), str) else ""
        text = sanitize_html(f"<p>{html.escape(content, quote=False)}</p>") if content else ""
        now = self.clock()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO inbox_items (ap_id, kind, actor, content_html, tags,"
                " published, status, hold_reason, received_at)"
                " VALUES (?, 'report', ?, ?, ?, ?, 'pending', 'report for organisers', ?)"
                " ON CONFLICT DO NOTHING",
                (activity["id"], actor, text, json.dumps(objects), iso(now), iso(now)),
            )
        return Outcome("done", f"report about {len(objects)} object(s)")


def _kind(activity_type: str) -> str:
    return "boost" if activity_type == "Announce" else "like"
