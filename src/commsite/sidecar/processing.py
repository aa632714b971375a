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
* Create, Update and Delete of Notes (and Delete of the actor itself) ->
  note_intake.py; RSVPs (Join, Leave, Accept..., poll votes) -> rsvp_intake.py.
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
from commsite.activitypub.vocabulary import AS_CONTEXT
from commsite.config import SiteConfig
from commsite.content.interactions import sanitize_html
from commsite.content.network_text import clean_json
from commsite.federation.followers import Follower
from commsite.sidecar.moderation import (
    blocked_reason,
    handle_block_undecided,
)
from commsite.sidecar.note_intake import NoteIntake
from commsite.sidecar.notes import (
    PUBLIC,
    classify,
    id_of,
    list_of,
)
from commsite.sidecar.outcome import Outcome
from commsite.sidecar.profiles import Profiles
from commsite.sidecar.rsvp_intake import RsvpIntake
from commsite.sidecar.store import Store, iso
from commsite.sidecar.targets import NotYetKnown, Targets

__all__ = ["PUBLIC", "NotYetKnown", "Outcome", "Processor", "classify"]

log = logging.getLogger(__name__)


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
        self.notes = NoteIntake(
            config=config,
            store=store,
            profiles=profiles,
            targets=targets,
            clock=clock,
            blocked=self._blocked,
            rsvps=self.rsvps,
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
            "Create": self.notes.create,
            "Update": self.notes.update,
            "Delete": self.notes.delete,
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
