"""RSVP intake: words in replies, poll votes, Join/Leave and Friendica's answers.

A real Store (SQLite file) and Processor over a sample site with events in
the future; remote profiles are cached, so nothing here touches the network.
The loopback test with independent peers is tests/test_sidecar_rsvp_peers.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import pg
from commsite.activitypub.poll import question_object
from commsite.config import ModerationConfig, RsvpConfig
from commsite.content.model import Event
from commsite.federation.fetch import Fetcher
from commsite.sidecar.processing import Processor
from commsite.sidecar.profiles import Profile, Profiles
from commsite.sidecar.rsvps import Going, html_text, rsvp_word, waiting_list
from commsite.sidecar.store import Store
from commsite.sidecar.targets import Targets
from sample_site import config as sample_config
from sample_site import site as sample_site

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
BASE = "https://repair.example/"
US = BASE + "ap/actor"
PUBLIC = ["https://www.w3.org/ns/activitystreams#Public"]
PARTY = BASE + "ap/events/party"
PARTY_PAGE = BASE + "events/party/"
POLL = BASE + "ap/polls/party"
SMALL = BASE + "ap/events/small"
OVER = BASE + "ap/events/over"
STORY = BASE + "ap/stories/tricky"
PEOPLE = [f"https://r.example/users/p{n}" for n in range(6)]
BOB, EVE, ANN = PEOPLE[:3]

EVENTS = (
    Event("party", "Party", NOW + timedelta(days=3), "<p>x</p>", "x", "content/events/p.md"),
    Event("small", "Small", NOW + timedelta(days=4), "<p>x</p>", "x", "content/events/s.md",
          capacity=2),
    Event("over", "Over", NOW - timedelta(days=2), "<p>x</p>", "x", "content/events/o.md",
          end=NOW - timedelta(days=2, hours=-3)),
)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def make(tmp_path: Path, clock: Clock | None = None, **moderation: Any) -> Processor:
    clock = clock or Clock()
    store = Store(tmp_path / "db.sqlite3")
    profiles = Profiles(store, Fetcher(allow_private=True, timeout=2.0), clock)
    for actor in PEOPLE:
        user = actor.rsplit("/", 1)[1]
        profiles.save(
            Profile(actor, f"@{user}@r.example", user.title(), f"https://r.example/@{user}",
                    None, actor + "/inbox", "https://r.example/inbox")
        )  # fmt: skip
    cfg = sample_config(moderation=ModerationConfig(**(moderation or {"approve": "everyone"})))
    site = sample_site(config=cfg, events=EVENTS)
    return Processor(
        config=cfg, store=store, profiles=profiles, targets=Targets(lambda: site), clock=clock
    )


def reply(actor: str, n: int, text: str, parent: str = PARTY, **fields: Any) -> dict[str, Any]:
    note = {"id": f"{actor}/statuses/{n}", "type": "Note", "attributedTo": actor,
            "inReplyTo": parent, "content": f"<p>{text}</p>", "to": PUBLIC,
            "url": f"https://r.example/@x/{n}", **fields}  # fmt: skip
    return {"id": note["id"] + "/activity", "type": "Create", "actor": actor, "object": note}


def vote(actor: str, n: int, name: str, poll: str = POLL) -> dict[str, Any]:
    """A vote as Mastodon sends it (VoteSerializer): a Note with `name`, no content."""
    note = {"id": f"{actor}#votes/{n}", "type": "Note", "name": name, "attributedTo": actor,
            "inReplyTo": poll, "to": US}  # fmt: skip
    return {"id": note["id"] + "/activity", "type": "Create", "actor": actor, "object": note,
            "to": US}  # fmt: skip


def native(type_: str, actor: str, obj: str, n: int = 0, **fields: Any) -> dict[str, Any]:
    return {"id": f"{actor}/{type_.lower()}/{n}", "type": type_, "actor": actor, "object": obj,
            **fields}  # fmt: skip


def rsvps(p: Processor, event: str = "party") -> dict[str, dict[str, Any]]:
    rows = p.store.conn.execute("SELECT * FROM rsvps WHERE event = ? ORDER BY seq", (event,))
    return {r["actor"]: dict(r) for r in rows}


def sent(p: Processor, type_: str) -> list[tuple[dict[str, Any], str]]:
    rows = p.store.conn.execute(
        "SELECT a.body, r.inbox FROM delivery_rows r"
        " JOIN delivery_activities a USING (activity_id) ORDER BY r.id"
    )
    found = [(json.loads(body), inbox) for body, inbox in rows]
    return [(a, inbox) for a, inbox in found if a["type"] == type_]


# --- words ---------------------------------------------------------------------------

WORDS = RsvpConfig()


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Going!", "going"),
        (
            '<p><span class="h-card"><a href="x">@<span>repair</span></a></span> I\'m going</p>',
            "going",
        ),
        ("count me in 🎉", "going"),
        ("I’ll be there", "going"),  # a curly apostrophe
        ("I'm not going, sorry", "not_going"),
        ("NOT GOING", "not_going"),
        ("Sadly I won't be coming", "not_going"),
        ("can’t make it", "not_going"),
        ("I can't make it this time, maybe next", "not_going"),  # the first match wins
        ("maybe, if I'm going to be in town", "maybe"),
        ("Peut-être !", "maybe"),
        ("peut etre", "maybe"),  # accents and dashes do not matter
        ("PEUT-ÊTRE", "maybe"),
        ("Je viens avec ma sœur", "going"),
        ("no voy", "not_going"),
        ("no doubt: going", "going"),  # "no" negates only right before
        ("the ongoing repairs", None),  # whole words only
        ("Thanks for organising!", None),
        ("", None),
        ("going" + " x" * 100_000, "going"),  # a huge text costs nothing
    ],
)
def test_rsvp_words(text: str, answer: str | None) -> None:
    assert rsvp_word(WORDS, text) == answer


def test_configured_words_replace_the_defaults() -> None:
    config = RsvpConfig(words=(("going", ("ja",)), ("maybe", ("mal sehen",)), ("not_going", ())))
    assert rsvp_word(config, "<p>Ja!</p>") == "going"
    assert rsvp_word(config, "going") is None
    assert rsvp_word(config, "mal  sehen") == "maybe"


def test_html_text_drops_tags_and_mastodons_invisible_url_parts() -> None:
    content = ('<p>see <a href="https://x.example/long"><span class="invisible">https://</span>'
               "<span>x.example/long</span></a><br>going &amp; more</p>")  # fmt: skip
    assert html_text(content) == "see x.example/long going & more"


def test_waiting_list_is_in_answered_order() -> None:
    going = [Going("c", "3"), Going("a", "1"), Going("b", "2")]
    assert waiting_list(going, 2) == ["c"]
    assert waiting_list(going, None) == []
    assert waiting_list(going, 0) == ["a", "b", "c"]


# --- replies -------------------------------------------------------------------------


def test_a_reply_with_a_word_records_an_answer_and_stays_a_reply(tmp_path: Path) -> None:
    p = make(tmp_path)
    outcome = p.process(reply(BOB, 1, "I'm going!"))
    assert outcome.state == "done" and outcome.public_change, outcome
    row = rsvps(p)[BOB]
    assert (row["answer"], row["via"], row["public"], row["status"]) == (
        "going", "reply", 1, "approved")  # fmt: skip
    assert row["reply_url"] == "https://r.example/@x/1"
    item = p.store.conn.execute("SELECT kind, target FROM inbox_items").fetchone()
    assert tuple(item) == ("reply", "events/party")  # shows in the thread
    # By the page URL too; a reply without a word answers nothing.
    p.process(reply(EVE, 2, "can't make it", parent=PARTY_PAGE))
    p.process(reply(ANN, 3, "What time does it end?"))
    assert {a: r["answer"] for a, r in rsvps(p).items()} == {BOB: "going", EVE: "not_going"}


def test_a_reply_to_a_reply_or_to_a_story_is_no_answer(tmp_path: Path) -> None:
    p = make(tmp_path)
    first = reply(BOB, 1, "Is there parking?")
    p.process(first)
    p.process(reply(EVE, 2, "going, and yes there is", parent=first["object"]["id"]))
    p.process(reply(ANN, 3, "going", parent=STORY))
    assert rsvps(p) == {}
    assert p.store.conn.execute("SELECT COUNT(*) FROM rsvps").fetchone()[0] == 0


def test_a_non_public_reply_answers_without_being_public(tmp_path: Path) -> None:
    p = make(tmp_path)
    p.process(reply(BOB, 1, "going", to=[US]))
    assert rsvps(p)[BOB]["public"] == 0
    kind = p.store.conn.execute("SELECT kind FROM inbox_items").fetchone()[0]
    assert kind == "message"  # a direct message is never published


def test_deleting_the_reply_withdraws_its_answer(tmp_path: Path) -> None:
    p = make(tmp_path)
    create = reply(BOB, 1, "going")
    p.process(create)
    note_id = create["object"]["id"]
    delete = {"id": note_id + "#delete", "type": "Delete", "actor": BOB, "object": note_id}
    assert p.process(delete).public_change
    assert rsvps(p) == {}


# --- the poll ------------------------------------------------------------------------


def test_a_vote_counts_once_per_person_and_is_not_a_reply(tmp_path: Path) -> None:
    p = make(tmp_path)
    assert p.process(vote(BOB, 1, "Going")).state == "done"
    assert p.process(vote(EVE, 1, "Maybe")).state == "done"
    # Bob changes his mind: the second vote replaces the first.
    assert p.process(vote(BOB, 2, "Can't go")).state == "done"
    answers = {a: (r["answer"], r["via"], r["public"]) for a, r in rsvps(p).items()}
    assert answers == {BOB: ("not_going", "poll", 0), EVE: ("maybe", "poll", 0)}
    assert p.store.conn.execute("SELECT COUNT(*) FROM inbox_items").fetchone()[0] == 0


def test_ten_thousand_votes_from_one_actor_count_once(tmp_path: Path) -> None:
    p = make(tmp_path)
    # Counting, not durability, is tested here: commits need not wait for the disk.
    p.store.conn.execute("PRAGMA synchronous=OFF")
    states = [p.process(vote(BOB, n, ("Going", "Maybe")[n // 2500 % 2])).state
              for n in range(10_000)]  # fmt: skip
    assert states.count("done") == 4  # each change of answer; the repeats change nothing
    assert list(rsvps(p)) == [BOB]
    assert rsvps(p)[BOB]["answer"] == "maybe"
    # The counts Update goes out once (debounced), with one voter.
    assert p.rsvps.flush_polls()
    assert not p.rsvps.flush_polls()
    (update, _), *more = sent(p, "Update")
    assert more == [] or all(u["id"] == update["id"] for u, _ in more)
    question = update["object"]
    assert question["votersCount"] == 1
    assert [o["replies"]["totalItems"] for o in question["oneOf"]] == [0, 1, 0]


def test_hostile_votes_are_refused(tmp_path: Path) -> None:
    clock = Clock()
    p = make(tmp_path, clock)
    assert p.process(vote(BOB, 1, "Going; DROP TABLE rsvps")).state == "refused"
    assert p.process(vote(BOB, 2, "going")).state == "refused"  # option names are exact
    assert p.process(vote(BOB, 3, "Going", poll=BASE + "ap/polls/nope")).state == "ignored"
    assert p.process(vote(BOB, 4, "Going", poll=BASE + "ap/polls/over")).state == "refused"
    clock.now = EVENTS[0].start  # the poll closes when the event starts
    outcome = p.process(vote(EVE, 5, "Going"))
    assert outcome.state == "refused" and "closed" in outcome.detail
    assert rsvps(p) == {}


def test_poll_updates_are_debounced_and_reach_followers_and_voters(tmp_path: Path) -> None:
    clock = Clock()
    p = make(tmp_path, clock)
    p.process(vote(BOB, 1, "Going"))
    assert p.rsvps.flush_polls()
    clock.now += timedelta(seconds=1)
    p.process(vote(EVE, 1, "Going"))
    assert not p.rsvps.flush_polls()  # within the debounce: waits
    clock.now += p.rsvps.debounce
    assert p.rsvps.flush_polls()
    updates = sent(p, "Update")
    assert {inbox for _, inbox in updates} == {"https://r.example/inbox"}
    last = updates[-1][0]
    assert last["object"]["votersCount"] == 2 and last["actor"] == US
    assert "updated" not in last["object"]  # new counts, not an edit
    assert last["object"] == {
        k: v
        for k, v in question_object(p.config, EVENTS[0], {"going": 2}, 2, clock.now).items()
        if k != "@context"
    }


def test_an_update_nobody_receives_does_not_hold_the_next_back(tmp_path: Path) -> None:
    p = make(tmp_path)
    p.process(native("Join", BOB, PARTY))  # no followers, no voters: nobody to tell
    assert not p.rsvps.flush_polls()
    p.process(vote(EVE, 1, "Going"))
    assert p.rsvps.flush_polls()  # at once, not a debounce later
    assert sent(p, "Update")[0][0]["object"]["votersCount"] == 2


def test_a_last_update_closes_the_poll_when_the_event_starts(tmp_path: Path) -> None:
    clock = Clock()
    p = make(tmp_path, clock)
    p.process(vote(BOB, 1, "Going"))
    assert p.rsvps.flush_polls()
    clock.now = EVENTS[0].start + timedelta(minutes=1)
    assert p.rsvps.flush_polls()
    closing = sent(p, "Update")[-1][0]["object"]
    assert closing["closed"] == closing["endTime"] == "2026-11-25T03:00:00Z"
    clock.now += timedelta(hours=1)
    assert not p.rsvps.flush_polls()  # once
    assert len(sent(p, "Update")) == 2


# --- native RSVPs --------------------------------------------------------------------


def test_join_is_answered_with_an_accept_embedding_the_join(tmp_path: Path) -> None:
    p = make(tmp_path)
    join = native("Join", BOB, PARTY, participationMessage="See you there")
    outcome = p.process(join)
    assert outcome.state == "done" and outcome.deliveries, outcome
    [(accept, inbox)] = sent(p, "Accept")
    assert inbox == BOB + "/inbox"
    assert accept["actor"] == US and accept["to"] == [BOB]
    assert accept["object"] == {"id": join["id"], "type": "Join", "actor": BOB, "object": PARTY}
    assert rsvps(p)[BOB]["via"] == "join"
    # A replayed Join is not answered twice.
    p.process(join)
    assert len(sent(p, "Accept")) == 1


def test_leave_and_undo_remove_a_later_answer_replaces(tmp_path: Path) -> None:
    p = make(tmp_path)
    p.process(native("Join", BOB, PARTY))
    assert p.process(native("Leave", BOB, PARTY)).state == "done"
    assert rsvps(p) == {}
    accept = native("Accept", EVE, PARTY)
    p.process(accept)
    p.process(native("TentativeAccept", EVE, PARTY, 1))
    assert (rsvps(p)[EVE]["answer"], rsvps(p)[EVE]["via"]) == ("maybe", "tentative")
    p.process(native("Reject", EVE, PARTY, 2))
    assert rsvps(p)[EVE]["answer"] == "not_going"
    undo = {"id": EVE + "/undo/1", "type": "Undo", "actor": EVE,
            "object": native("Reject", EVE, PARTY, 2)}  # fmt: skip
    assert p.process(undo).state == "done"
    assert rsvps(p) == {}
    # An Undo by id of a vote works too.
    p.process(vote(ANN, 1, "Going"))
    undo = {"id": ANN + "/undo/2", "type": "Undo", "actor": ANN, "object": ANN + "#votes/1"}
    assert p.process(undo).state == "done"
    assert rsvps(p) == {}


def test_native_answers_to_what_is_not_an_upcoming_event(tmp_path: Path) -> None:
    p = make(tmp_path)
    assert p.process(native("Join", BOB, STORY)).state == "refused"  # a story
    outcome = p.process(native("Join", BOB, BASE + "ap/events/unknown"))
    assert outcome.state == "ignored" and "not one of our events" in outcome.detail
    assert p.process(native("Join", BOB, "https://elsewhere.example/e/1")).state == "ignored"
    outcome = p.process(native("Join", BOB, OVER))
    assert outcome.state == "refused" and "over" in outcome.detail
    undo = {"id": EVE + "/undo/9", "type": "Undo", "actor": EVE,
            "object": native("Join", BOB, PARTY)}  # fmt: skip
    assert p.process(undo).state == "refused"  # someone else's Join
    assert sent(p, "Accept") == []
    assert p.store.conn.execute("SELECT COUNT(*) FROM rsvps").fetchone()[0] == 0


def test_capacity_makes_a_waiting_list_that_moves_up(tmp_path: Path) -> None:
    clock = Clock()
    p = make(tmp_path, clock)
    for n, person in enumerate(PEOPLE[:4]):
        clock.now = NOW + timedelta(minutes=n)
        p.process(native("Join", person, SMALL, n))
    rows = rsvps(p, "small")
    assert [rows[a]["waiting"] for a in PEOPLE[:4]] == [0, 0, 1, 1]
    assert {a["to"][0] for a, _ in sent(p, "Accept")} == set(PEOPLE[:2])  # waiting: pending
    # Someone with a place leaves: the first waiting moves up and gets the Accept.
    p.process(native("Leave", PEOPLE[0], SMALL, 9))
    rows = rsvps(p, "small")
    assert [rows[a]["waiting"] for a in PEOPLE[1:4]] == [0, 0, 1]
    assert {a["to"][0] for a, _ in sent(p, "Accept")} == set(PEOPLE[:3])
    # Saying going again, another way, keeps one's place.
    p.process(vote(PEOPLE[2], 1, "Going", poll=BASE + "ap/polls/small"))
    assert [rsvps(p, "small")[a]["waiting"] for a in PEOPLE[1:4]] == [0, 0, 1]
    # "maybe" takes no place.
    p.process(native("TentativeAccept", PEOPLE[1], SMALL, 10))
    assert rsvps(p, "small")[PEOPLE[3]]["waiting"] == 0


def test_rsvps_are_moderated_like_replies_and_blocks_apply(tmp_path: Path) -> None:
    p = make(tmp_path, approve="manual", blocked_actors=(EVE,))
    p.process(native("Join", BOB, PARTY))
    row = rsvps(p)[BOB]
    assert row["status"] == "pending" and row["hold_reason"]
    assert sent(p, "Accept") == []  # not confirmed before a person approves
    assert p.process(vote(EVE, 1, "Going")).state == "refused"
    assert EVE not in rsvps(p)


def test_members_rsvps_are_approved_under_the_members_policy(tmp_path: Path) -> None:
    p = make(tmp_path, approve="members")
    site = p.targets._load()
    assert site is not None
    member = next(m for m in site.members if m.handle)
    user, host = member.handle.lstrip("@").split("@")
    actor = f"https://{host}/users/{user}"
    p.profiles.save(Profile(actor, member.handle, member.name, None, None, actor + "/i", None))
    p.process(vote(actor, 1, "Going"))
    p.process(vote(BOB, 1, "Going"))
    assert rsvps(p)[actor]["status"] == "approved"
    assert rsvps(p)[BOB]["status"] == "pending"


def test_a_story_only_site_still_processes(tmp_path: Path) -> None:
    """No events: votes and Joins have nothing to name."""
    p = make(tmp_path)
    p.targets._load = lambda: sample_site(config=p.config, events=())  # type: ignore[method-assign]
    p.targets.reload()
    assert p.process(vote(BOB, 1, "Going")).state == "ignored"
    assert replace(EVENTS[0]).slug == "party"


# --- `commsite moderate` -------------------------------------------------------------


def add_rsvp(store: Store, actor: str, via: str, answer: str = "going") -> None:
    user = actor.rsplit("/", 1)[1]
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_actors (id, handle, name, inbox, fetched_at)"
            " VALUES (?, ?, ?, ?, 'x') ON CONFLICT DO NOTHING",
            (actor, f"@{user}@r.example", user, actor + "/inbox"),
        )
        conn.execute(
            "INSERT INTO rsvps (event, actor, answer, via, activity_id, join_id, excerpt,"
            " answered_at, status, hold_reason) VALUES ('party', ?, ?, ?, ?, ?, 'See you',"
            " '2026-11-20T10:00:00+00:00', 'pending', 'author is not a member')",
            (actor, answer, via, actor + "/j", actor + "/j" if via == "join" else None),
        )


def test_moderate_lists_approves_and_rejects_rsvps(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from commsite.cli import main
    from sidecar_peer import write_site

    write_site(tmp_path, "https://x.example/")
    store = Store(pg.site_target(tmp_path))
    add_rsvp(store, BOB, "join")
    add_rsvp(store, EVE, "join")
    add_rsvp(store, ANN, "poll", "maybe")

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    out = run("moderate", "list", str(tmp_path))
    assert (
        "#r1 rsvp going to events/party from @p0@r.example via join"
        " (2026-11-20T10:00:00+00:00)\n    waits: author is not a member\n    See you\n"
    ) in out
    assert out.endswith("3 items waiting\n")
    assert run("moderate", "approve", "r1", str(tmp_path)) == "approved #r1\n"
    assert run("moderate", "reject", "@p1@r.example", str(tmp_path), "--rule", "2") == (
        "rejected #r2\n"
    )
    rows = store.conn.execute(
        "SELECT a.body, r.inbox FROM delivery_rows r JOIN delivery_activities a USING (activity_id)"
    ).fetchall()
    activities = {json.loads(body)["type"]: (json.loads(body), inbox) for body, inbox in rows}
    accept, inbox = activities["Accept"]
    assert inbox == BOB + "/inbox" and accept["object"]["id"] == BOB + "/j"
    reject, inbox = activities["Reject"]
    assert inbox == EVE + "/inbox" and reject["object"]["id"] == EVE + "/j"
    assert run("moderate", "log", str(tmp_path)).splitlines()[-1].endswith(" reject r2 (rule 2)")
    assert run("moderate", str(tmp_path)).endswith("1 item waiting\n")
    # Approving a reply approves the answer its words gave.
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_items (ap_id, kind, actor, target, content_html, published,"
            " status, received_at) VALUES (?, 'reply', ?, 'events/party', '<p>going</p>',"
            " 'x', 'pending', 'x')",
            (ANN + "/statuses/7", ANN),
        )
        conn.execute("UPDATE rsvps SET reply_id = ? WHERE actor = ?", (ANN + "/statuses/7", ANN))
    seq = store.conn.execute("SELECT seq FROM inbox_items").fetchone()[0]
    assert run("moderate", "approve", str(seq), str(tmp_path)) == f"approved #{seq}, #r3\n"
    assert run("moderate", str(tmp_path)).endswith("0 items waiting\n")
    with store.transaction() as conn:
        conn.execute("UPDATE rsvps SET status = 'pending' WHERE actor = ?", (ANN,))
    # A block rejects what waits of theirs, RSVPs included.
    run("moderate", "block-actor", "@p2@r.example", str(tmp_path))
    assert run("moderate", str(tmp_path)).endswith("0 items waiting\n")
    store.close()


# --- export --------------------------------------------------------------------------


def test_export_writes_rsvps_the_loader_reads_back_and_removes_empty_files(
    tmp_path: Path,
) -> None:
    from commsite.content.interaction_lists import load_rsvps
    from commsite.sidecar.export import export_interactions

    clock = Clock()
    p = make(tmp_path, clock)
    p.profiles.save(
        Profile(BOB, "@p0@r.example", 'Bob "B" Üñï', "https://r.example/@p0",
                "https://r.example/p0.png", BOB + "/inbox", None, "@bob@bob.example")
    )  # fmt: skip
    steps = [
        reply(BOB, 1, "going!"),
        vote(EVE, 1, "Maybe"),
        native("Join", ANN, SMALL),
        native("Join", PEOPLE[3], SMALL, 1),
        native("Join", PEOPLE[4], SMALL, 2),  # beyond capacity: waits
        native("Reject", PEOPLE[5], PARTY),
    ]
    for n, activity in enumerate(steps):
        clock.now = NOW + timedelta(minutes=n)
        assert p.process(activity).state == "done"
    site = tmp_path / "site"
    result = export_interactions(p.store, site)
    assert [w for w in result.written if "/rsvps/" in w] == [
        "interactions/rsvps/party.yaml", "interactions/rsvps/small.yaml"]  # fmt: skip
    first = {f: f.read_bytes() for f in (site / "interactions" / "rsvps").glob("*.yaml")}
    again = export_interactions(p.store, site)
    assert (again.written, again.removed, again.unchanged) == ([], [], 3)  # and the reply
    assert {f: f.read_bytes() for f in first} == first  # deterministic bytes

    rsvps, diagnostics = load_rsvps(site, sorted(
        f.relative_to(site).as_posix() for f in first))  # fmt: skip
    assert diagnostics == []
    got = [(r.event, r.author_actor, r.answer, r.via, r.waiting, r.public) for r in rsvps]
    assert got == [
        ("party", BOB, "going", "reply", False, True),
        ("party", EVE, "maybe", "poll", False, False),
        ("party", PEOPLE[5], "not_going", "reject", False, False),
        ("small", ANN, "going", "join", False, False),
        ("small", PEOPLE[3], "going", "join", False, False),
        ("small", PEOPLE[4], "going", "join", True, False),
    ]
    # The published poll counts what the sidecar's Updates count.
    from commsite.activitypub.poll import tally
    from commsite.sidecar.rsvp_polls import poll_counts

    for slug in ("party", "small"):
        assert tally(rsvps, slug) == poll_counts(p.store.conn, slug)
    bob = rsvps[0]
    assert (bob.author_name, bob.author_handle, bob.author_webfinger, bob.author_avatar) == (
        'Bob "B" Üñï',
        "@p0@r.example",
        "@bob@bob.example",
        "https://r.example/p0.png",
    )
    assert bob.reply_url == "https://r.example/@x/1"
    assert bob.answered == NOW
    # Everyone leaves the small event: its file goes.
    for n, person in enumerate((ANN, PEOPLE[3], PEOPLE[4])):
        p.process(native("Leave", person, SMALL, 10 + n))
    assert export_interactions(p.store, site).removed == ["interactions/rsvps/small.yaml"]
    # Held answers are not exported.
    p.store.conn.execute("UPDATE rsvps SET status = 'pending'")
    assert export_interactions(p.store, site).removed == ["interactions/rsvps/party.yaml"]
    assert not (site / "interactions" / "rsvps").exists()


def test_without_the_poll_votes_are_ignored(tmp_path: Path) -> None:
    p = make(tmp_path)
    p.config = replace(p.config, rsvp=RsvpConfig(poll=False))
    p.rsvps.config = p.config
    p.rsvps.polls.config = p.config
    outcome = p.process(vote(BOB, 1, "Going"))
    assert outcome.state == "ignored" and "no such poll" in outcome.detail
    assert p.process(reply(EVE, 1, "going")).state == "done"  # words still work
    assert list(rsvps(p)) == [EVE]
    assert not p.rsvps.flush_polls()
