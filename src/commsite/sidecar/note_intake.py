"""Posts arriving at the inbox: Create, Update and Delete of Notes (and of
the actor itself), for processing.py.

* Create{Note} -> by `classify`: a reply (inReplyTo one of our stories/events,
  by object id or page URL, or a reply we already have, at any depth), an
  introduction, or a message for organisers; others are ignored. A Note whose
  id has a tombstone is refused.
* Update{Note} -> the item's text replaced (only by its author; an older edit
  is ignored); an Update of a Note not stored yet is taken as its Create.
  Update{Person} -> the cached profile refreshed.
* Delete{Note or Tombstone or id} -> the item removed, a tombstone kept;
  Delete{actor} -> everything from that actor purged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.interactions import sanitize_html
from commsite.sidecar.moderation import hold_keyword, initial_status
from commsite.sidecar.notes import NOTE_TYPES, classify, hashtags, id_of, note_url, same_host, when
from commsite.sidecar.outcome import Outcome
from commsite.sidecar.profiles import Profiles, profile_from_document
from commsite.sidecar.rsvp_intake import RsvpIntake
from commsite.sidecar.store import Store, iso
from commsite.sidecar.targets import NotYetKnown, Targets

__all__ = ["NoteIntake"]


class NoteIntake:
    def __init__(
        self,
        *,
        config: SiteConfig,
        store: Store,
        profiles: Profiles,
        targets: Targets,
        clock: Callable[[], datetime],
        blocked: Callable[[str], Outcome | None],
        rsvps: RsvpIntake,
    ) -> None:
        self.config = config
        self.store = store
        self.profiles = profiles
        self.targets = targets
        self.clock = clock
        self.blocked = blocked
        self.rsvps = rsvps
        self.actor_id = config.url(urls.ACTOR)

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

    def create(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
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
            if blocked := self.blocked(actor):
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

    def update(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
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

    def delete(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
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
