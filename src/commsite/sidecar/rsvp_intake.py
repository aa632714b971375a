"""RSVPs arriving at the inbox: recorded, moderated, answered, counted.

Called by processing.py for what concerns an event (rsvps.py decides what an
activity says; this module stores it and queues what must be sent):

* a reply to the event (its object id or page) carrying an RSVP word: an
  answer via=reply, public when the reply is (the reply itself goes on
  through the normal reply path and shows in the thread);
* a vote in the event's poll (a Note named after an option, answering the
  Question BASE/ap/polls/SLUG, with no text): via=poll, never public, never a
  reply; the poll's counts change, and an `Update` of the Question goes to
  the followers and voters (debounced: `flush_polls`);
* Join (Mobilizon) -> going, via=join, answered with a signed `Accept` whose
  object is the Join embedded (what Mobilizon looks its participation up by);
  while the person waits (beyond capacity) no Accept is sent, so Mobilizon
  shows the participation as pending, and the Accept goes when a place frees;
  Leave -> removed; Accept / TentativeAccept / Reject of the Event (Friendica,
  Hubzilla) -> going / maybe / not_going; Undo of any of these -> removed.

One answer per person per event: a later answer replaces the earlier one.
An event the site does not have is ignored (with the reason); an event that
has ended is refused (a poll closes when the event starts). Capacity: going
answers beyond it wait, in the order they answered (rejected ones take no
place; those waiting for a moderator do); when a place frees, the first
waiting person moves up. RSVPs are moderated like replies (the same
`moderation.approve` policy), and a block removes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from commsite import urls
from commsite.activitypub.poll import is_closed
from commsite.config import SiteConfig
from commsite.content.model import Event
from commsite.database import Connection
from commsite.sidecar.moderation import initial_status
from commsite.sidecar.notes import PUBLIC, id_of, list_of, note_url
from commsite.sidecar.outcome import Outcome
from commsite.sidecar.profiles import Profiles
from commsite.sidecar.rsvp_places import (
    poll_changed,
    rebalance,
    rebalance_known,
    send_due_accepts,
)
from commsite.sidecar.rsvp_polls import POLL_DEBOUNCE, PollUpdates
from commsite.sidecar.rsvps import (
    html_text,
    is_vote,
    native_answer,
    rsvp_word,
    vote_answer,
)
from commsite.sidecar.store import Store, iso
from commsite.sidecar.targets import NotYetKnown, Targets

__all__ = ["RsvpIntake"]

log = logging.getLogger(__name__)

EXCERPT = 120


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


class RsvpIntake:
    def __init__(
        self,
        *,
        config: SiteConfig,
        store: Store,
        profiles: Profiles,
        targets: Targets,
        clock: Callable[[], datetime],
        blocked: Callable[[str], Outcome | None],
        debounce: timedelta = POLL_DEBOUNCE,
    ) -> None:
        self.config = config
        self.store = store
        self.profiles = profiles
        self.targets = targets
        self.clock = clock
        self.blocked = blocked
        self.debounce = debounce
        self.actor_id = config.url(urls.ACTOR)
        self.poll_prefix = config.url(urls.event_poll("x")).removesuffix("x")
        self.polls = PollUpdates(
            config=config, store=store, targets=targets, clock=clock, debounce=debounce
        )

    # --- which event -----------------------------------------------------------

    def _event(self, url: str | None, final: bool, what: str) -> tuple[str, Event] | Outcome:
        """The event `url` names, or why the activity goes no further."""
        target = self.targets.target_of(url) if url else None
        if target is None:
            if not final and url and self.targets.could_be_ours(url):
                raise NotYetKnown(f"{url} is not one of our events (yet)")
            log.info("%s of %s ignored: not one of our events", what, url)
            return Outcome("ignored", f"{what} of {url}: not one of our events")
        kind, slug = target.split("/", 1)
        event = self.targets.event(slug) if kind == "events" else None
        if event is None:
            return Outcome("refused", f"{what} of {target}: only events take RSVPs")
        if self.clock() >= event.finishes:
            return Outcome("refused", f"{what} of {target}: the event is over")
        return slug, event

    def _status(self, actor: str, texts: tuple[str | None, ...]) -> tuple[str, str | None]:
        profile = self.profiles.get(actor)
        return initial_status(
            self.config,
            kind="reply",
            handle=profile.handle,
            aliases=profile.handles[1:],
            member_handles=self.targets.member_handles(
                profile.handles if self.config.moderation.approve == "members" else ()
            ),
            is_follower=self.store.followers.get(actor) is not None,
            texts=texts,
        )

    # --- the three ways -----------------------------------------------------

    def from_reply(
        self, note: Mapping[str, Any], actor: str, content_html: str, *, final: bool
    ) -> Outcome | None:
        """A reply naming the event itself, with an RSVP word: its answer (the
        reply is stored by the caller either way). None: no answer in it."""
        in_reply_to = id_of(note.get("inReplyTo"))
        target = self.targets.target_of(in_reply_to) if in_reply_to else None
        if target is None or not target.startswith("events/"):
            return None
        answer = rsvp_word(self.config.rsvp, content_html)
        if answer is None:
            return None
        found = self._event(in_reply_to, final, "a reply")
        if isinstance(found, Outcome):
            return found if found.state == "refused" else None
        slug, event = found
        audience = {id_of(a) for a in list_of(note.get("to")) + list_of(note.get("cc"))}
        text = html_text(content_html)
        summary = note.get("summary") if isinstance(note.get("summary"), str) else None
        status, reason = self._status(actor, (content_html, summary))
        return self._record(
            slug,
            event,
            actor,
            answer=answer,
            via="reply",
            public=bool(audience & PUBLIC),
            activity_id=str(note["id"]),
            reply_id=str(note["id"]),
            reply_url=note_url(note),
            excerpt=text,
            status=status,
            reason=reason,
        )

    def vote(self, note: Mapping[str, Any], actor: str, *, final: bool) -> Outcome | None:
        """A vote in one of our polls, or None when the Note is not one (then it
        goes the normal way)."""
        in_reply_to = id_of(note.get("inReplyTo"))
        if in_reply_to is None or not is_vote(note):
            return None
        slug = self.targets.poll_event(in_reply_to)
        if slug is None:
            if in_reply_to.startswith(self.poll_prefix):
                return Outcome("ignored", f"a vote in {in_reply_to}: no such poll")
            return None
        event = self.targets.event(slug)
        if event is None or not self.config.rsvp.poll:
            return Outcome("ignored", f"a vote in {in_reply_to}: no such poll")
        answer = vote_answer(self.config.rsvp, note)
        if answer is None:
            return Outcome("refused", f"a vote for {note.get('name')!r}: not an option of the poll")
        if is_closed(event, self.clock()):
            return Outcome("refused", f"a vote in the poll of events/{slug}: the poll is closed")
        same = self.store.conn.execute(
            "SELECT 1 FROM rsvps WHERE event = ? AND actor = ? AND answer = ? AND via = 'poll'",
            (slug, actor, answer),
        ).fetchone()
        if same is not None:  # a repeat (or a flood) changes nothing
            return Outcome("ignored", f"the same vote again ({answer} to events/{slug})")
        status, reason = self._status(actor, ())
        return self._record(
            slug,
            event,
            actor,
            answer=answer,
            via="poll",
            public=False,
            activity_id=str(note["id"]),
            excerpt=f"voted {note.get('name')}",
            status=status,
            reason=reason,
        )

    def native(self, activity: Mapping[str, Any], actor: str, final: bool) -> Outcome:
        """Join / Leave / Accept / TentativeAccept / Reject of one of our events."""
        type_ = str(activity.get("type"))
        found = self._event(id_of(activity.get("object")), final, f"a {type_}")
        if isinstance(found, Outcome):
            return found
        slug, event = found
        if type_ == "Leave":
            return self._remove(slug, event, actor, f"{actor} left events/{slug}")
        answer_via = native_answer(type_)
        assert answer_via is not None
        answer, via = answer_via
        message = activity.get("participationMessage")
        status, reason = self._status(actor, (message if isinstance(message, str) else None,))
        return self._record(
            slug,
            event,
            actor,
            answer=answer,
            via=via,
            public=False,
            activity_id=str(activity["id"]),
            join_id=str(activity["id"]) if type_ == "Join" else None,
            excerpt=message if isinstance(message, str) else f"{type_} of the event",
            status=status,
            reason=reason,
        )

    def undo(self, activity_id: str | None, inner: Any, actor: str) -> Outcome | None:
        """Undo of an RSVP (by the id of what carried it, or an embedded Join /
        Accept / ... of our event); None when it undoes no RSVP."""
        row = None
        if activity_id:
            row = self.store.conn.execute(
                "SELECT event FROM rsvps WHERE activity_id = ? AND actor = ?",
                (activity_id, actor),
            ).fetchone()
        slug = row["event"] if row is not None else None
        if slug is None and isinstance(inner, Mapping) and native_answer(str(inner.get("type"))):
            target = self.targets.target_of(str(id_of(inner.get("object")) or ""))
            slug = target.split("/", 1)[1] if target and target.startswith("events/") else None
        if slug is None:
            return None
        event = self.targets.event(slug)
        return self._remove(slug, event, actor, "RSVP withdrawn")

    def forget_reply(self, reply_id: str, actor: str) -> bool:
        """A deleted reply takes its RSVP with it."""
        row = self.store.conn.execute(
            "SELECT event FROM rsvps WHERE reply_id = ? AND actor = ?", (reply_id, actor)
        ).fetchone()
        if row is None:
            return False
        self._remove(row["event"], self.targets.event(row["event"]), actor, "reply deleted")
        return True

    # --- storing ---------------------------------------------------------------

    def _record(
        self,
        slug: str,
        event: Event,
        actor: str,
        *,
        answer: str,
        via: str,
        public: bool,
        activity_id: str,
        excerpt: str,
        status: str,
        reason: str | None,
        reply_id: str | None = None,
        reply_url: str | None = None,
        join_id: str | None = None,
    ) -> Outcome:
        now = self.clock()
        with self.store.transaction() as conn:
            if blocked := self.blocked(actor):
                return blocked
            before = conn.execute(
                "SELECT answer, status FROM rsvps WHERE event = ? AND actor = ?", (slug, actor)
            ).fetchone()
            conn.execute(
                "INSERT INTO rsvps (event, actor, answer, via, public, activity_id, reply_id,"
                " reply_url, join_id, excerpt, answered_at, status, hold_reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (event, actor) DO UPDATE SET answer = excluded.answer,"
                " via = excluded.via, public = excluded.public,"
                " activity_id = excluded.activity_id, reply_id = excluded.reply_id,"
                " reply_url = excluded.reply_url,"
                " accept_id = CASE WHEN rsvps.join_id IS NOT DISTINCT FROM excluded.join_id"
                "   THEN rsvps.accept_id END,"
                " join_id = excluded.join_id, excerpt = excluded.excerpt,"
                " answered_at = CASE WHEN rsvps.answer = excluded.answer"  # keeps their place
                "   THEN rsvps.answered_at ELSE excluded.answered_at END,"
                " status = CASE WHEN rsvps.status = 'rejected' THEN 'rejected'"
                "   ELSE excluded.status END,"
                " hold_reason = excluded.hold_reason",
                (
                    slug, actor, answer, via, int(public), activity_id, reply_id, reply_url,
                    join_id, _excerpt(excerpt), iso(now), status, reason,
                ),
            )  # fmt: skip
            waiting = rebalance(conn, slug, event.capacity)
            accepts = send_due_accepts(self.store, self.config, now, slug)
            poll_changed(conn, slug, now)
        row = self.store.conn.execute(
            "SELECT status, waiting FROM rsvps WHERE event = ? AND actor = ?", (slug, actor)
        ).fetchone()
        says = f"{answer} to events/{slug} (via {via})"
        if row["waiting"]:
            says += f", waiting list ({len(waiting)} waiting)"
        replaced = f", replacing {before['answer']}" if before is not None else ""
        return Outcome(
            "done",
            f"RSVP {says}{replaced}, {row['status']}",
            public_change=row["status"] == "approved"
            or (before is not None and before["status"] == "approved"),
            deliveries=accepts > 0,
        )

    def _remove(self, slug: str, event: Event | None, actor: str, detail: str) -> Outcome:
        now = self.clock()
        with self.store.transaction() as conn:
            row = conn.execute(
                "DELETE FROM rsvps WHERE event = ? AND actor = ? RETURNING status",
                (slug, actor),
            ).fetchone()
            if row is None:
                return Outcome("ignored", f"no RSVP of {actor} to events/{slug}")
            if event is not None:
                rebalance(conn, slug, event.capacity)
            else:  # gone from the site: the capacity it had
                rebalance_known(conn, slug)
            accepts = send_due_accepts(self.store, self.config, now, slug)
            poll_changed(conn, slug, now)
        return Outcome(
            "done", detail, public_change=row["status"] == "approved", deliveries=accepts > 0
        )

    def flush_polls(self) -> bool:
        """Send the poll Updates now due (see rsvp_polls.py); True if any was queued."""
        return self.polls.flush()

    # --- processing.py's hooks ---------------------------------------------------

    def with_reply(
        self, stored: Outcome, note: Mapping[str, Any], actor: str, content: str, kind: str
    ) -> Outcome:
        """A stored reply (or non-public message) to an event may also answer it."""
        if kind not in ("reply", "message"):
            return stored
        rsvp = self.from_reply(note, actor, content, final=True)
        if rsvp is None:
            return stored
        return Outcome(
            stored.state,
            f"{stored.detail}; {rsvp.detail}",
            public_change=stored.public_change or rsvp.public_change,
            deliveries=rsvp.deliveries,
        )

    def purge(self, conn: Connection, actor: str, now: datetime) -> None:
        """Delete{actor}: their answers go, and their places free up (inside the
        caller's transaction)."""
        answered = [
            r[0] for r in conn.execute("SELECT DISTINCT event FROM rsvps WHERE actor = ?", (actor,))
        ]
        conn.execute("DELETE FROM rsvps WHERE actor = ?", (actor,))
        for event in answered:
            rebalance_known(conn, event)
            send_due_accepts(self.store, self.config, now, event)
            poll_changed(conn, event, now)

    # --- the poll's counts -------------------------------------------------------
