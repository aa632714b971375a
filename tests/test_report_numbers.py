"""The health report's numbers, asserted exactly on tests/fixtures/report_site/.

Every expected number below is worked out by hand from the fixture's files
(the comments say from which), not taken from the code's output. The store
is a real SQLite file made by the sidecar's own migrations (report_fixture).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

import report_fixture
from commsite.errors import CommsiteError
from commsite.report.model import (
    Comeback,
    CommitmentStep,
    Conversation,
    FirstTimers,
    MonthCount,
    Newcomer,
    PostReplies,
    QuietMember,
    StoreSnapshot,
)
from commsite.report.numbers import Window, health_report
from commsite.report.output import report_json
from commsite.report.store import read_store
from report_fixture import NOW, PENDING_NAME


@pytest.fixture(scope="module")
def site():  # type: ignore[no-untyped-def]
    return report_fixture.load()


@pytest.fixture
def store(tmp_path: Path) -> StoreSnapshot:
    return read_store(report_fixture.make_store(tmp_path / "commsite.sqlite3"))


def test_months_count_members_by_joined_and_introductions_in_the_sites_time_zone(site, store):  # type: ignore[no-untyped-def]
    report = health_report(site, store, now=NOW)
    assert (report.since, report.until) == ("2025-05", "2026-04")  # 12 months to April
    busy = [m for m in report.months if m.new_members or m.introductions]
    # Ada joined in January, Ben and Cleo in February (Eve in 2025-03, outside the
    # window; Dan has no `joined`). Ada's introduction, posted at 23:30 UTC on
    # 31 January, is 00:30 on 1 February in Berlin; Nia, Omar and Pia in March.
    assert busy == [
        MonthCount("2026-01", 1, 0),
        MonthCount("2026-02", 2, 1),
        MonthCount("2026-03", 0, 3),
    ]
    assert len(report.months) == 12
    assert (report.members, report.members_without_joined) == (5, 1)


def test_replies_per_story_and_event(site, store):  # type: ignore[no-untyped-def]
    report = health_report(site, store, now=NOW)
    # The welcome story's two replies from 2024 are outside the window; of the
    # seven left one is the community account's, which is no person replying.
    assert report.replies_by_post == (
        PostReplies("stories/welcome", "Welcome to the club", 7, 4),
        PostReplies("stories/ada-repairs", "Ada repairs a valve radio", 3, 3),
        PostReplies("events/february-meetup", "February meetup", 2, 2),
        PostReplies("stories/ben-bikes", "Ben on bikes", 2, 1),
    )
    assert report.posts_without_replies == 3  # January, March and April events


def test_a_second_members_reply_to_the_first_members_reply_is_member_to_member(site, store):  # type: ignore[no-untyped-def]
    report = health_report(site, store, now=NOW)
    # member to member: Ben on Ada's story (r01); Cleo, as @Cleo@Hometown.Example,
    # answering Ben's reply (r02).
    # to the community: Zed on the welcome story (r03), Ada on her own story by its
    # page URL (r05), Ben on his own story (r06), Yuki on the February event (r08),
    # Yuki answering the community account's reply (r15).
    # other: Ada to Zed (r04), Ben to himself (r07), Eve to Yuki (r09), Cleo to a
    # deleted post (r11), Ada and Zed answering introductions (r13, r14).
    # by the community: r10.
    assert report.conversation == Conversation(
        member_to_member=2, to_community=5, other=6, by_community=1
    )
    assert report.conversation.member_share == pytest.approx(2 / 14)


def test_a_member_answering_themselves_is_not_member_to_member(site, store):  # type: ignore[no-untyped-def]
    ix = site.interactions
    ben_to_himself = next(r for r in ix.replies if r.id.endswith("/statuses/107"))
    only = replace(site, interactions=replace(ix, replies=(ben_to_himself,)))
    report = health_report(only, store, now=NOW)
    assert report.conversation == Conversation(0, 0, 1, 0)


def test_the_commitment_curve_counts_distinct_people(site, store):  # type: ignore[no-untyped-def]
    report = health_report(site, store, now=NOW)
    # followers: Ben, Zed, Quinn, Fay. liked or boosted: Ben (a renamed handle, known
    # by his actor URL in his profile's links), Zed (twice, once by handle only),
    # Quinn. replied: Ada, Ben, Cleo, Eve (by her FEP-2c59 webfinger), Yuki, Zed.
    # introduced: Nia, Omar, Ada, Pia. going or maybe: Ada, Zed, Yuki (January; Ben
    # said no), Zed, Rex, Quinn, Cleo (February; Cleo waiting), Rex (the cancelled
    # picnic), Nia, Omar (April). went: Ada, Zed, Yuki, Rex. hosts and authors: Ada,
    # Ben, Cleo. Furthest step: Fay follows; Eve replied; Pia introduced herself;
    # Quinn, Nia, Omar said going or maybe; Zed, Yuki, Rex went; Ada, Ben, Cleo host.
    assert report.commitment == (
        CommitmentStep("followers", "Follow the account", 4, 1),
        CommitmentStep("reactors", "Liked or boosted", 3, 0),
        CommitmentStep("repliers", "Replied", 6, 1),
        CommitmentStep("introduced", "Introduced themselves", 4, 1),
        CommitmentStep("rsvped", "Said going or maybe", 8, 3),
        CommitmentStep("went", "Went to an event", 4, 3),
        CommitmentStep("hosts_authors", "Hosted an event or wrote a story", 3, 3),
    )
    # One like on Ada's story and both on the welcome story came without names.
    assert report.anonymous_reactions == 3


def test_without_a_store_the_followers_are_unknown(site):  # type: ignore[no-untyped-def]
    report = health_report(site, StoreSnapshot(), now=NOW)
    assert report.commitment[0] == CommitmentStep("followers", "Follow the account", None, None)
    # Ben and Zed are still counted further up; Fay, who only follows, is not known.
    assert [s.highest for s in report.commitment[1:]] == [0, 1, 1, 3, 3, 3]
    assert "no sidecar store" in report.sources[-1]


def test_first_timers_who_came_back(site, store):  # type: ignore[no-untyped-def]
    report = health_report(site, store, now=NOW)
    # January: Ada, Zed, Yuki went (Ben said no); February: Zed again and Rex
    # (Cleo was on the waiting list); the picnic was cancelled; April is to come.
    assert report.first_timers == FirstTimers(
        people=4,
        came_back=1,
        by_event=(
            Comeback("january-meetup", "January meetup", "2026-01-20", 3, 1),
            Comeback("february-meetup", "February meetup", "2026-02-20", 1, 0),
        ),
    )


def test_newcomers_nobody_has_answered(site, store):  # type: ignore[no-untyped-def]
    report = health_report(site, store, now=NOW)
    # Omar got Ada's reply (r13) and Ada the welcome reply (the store's table); a
    # non-member's reply to Pia (r14) and the welcome the organiser skipped for Nia
    # do not count. Sam waits for moderation (item 1).
    assert report.unanswered == (
        Newcomer("Nia", "@nia@newbie.example", "2026-03-20", 12, "https://newbie.example/@nia/1"),
        Newcomer("Pia", "@pia@newbie.example", "2026-03-28", 4, "https://newbie.example/@pia/4"),
        Newcomer(
            PENDING_NAME,
            "@sam@newbie.example",
            "2026-03-30",
            2,
            "https://newbie.example/@sam/5",
            pending=1,
        ),
    )


def test_without_the_welcome_table_a_members_introduction_without_replies_waits(
    site, tmp_path: Path
):  # type: ignore[no-untyped-def]
    snapshot = read_store(report_fixture.make_store(tmp_path / "s.sqlite3", welcome_table=False))
    assert snapshot.welcomed is None
    report = health_report(site, snapshot, now=NOW)
    ada = report.unanswered[0]
    assert (ada.name, ada.member, ada.published) == ("Ada Lovelace", "ada", "2026-02-01")
    assert len(report.unanswered) == 4


def test_members_nobody_has_replied_to_in_90_days(site, store):  # type: ignore[no-untyped-def]
    report = health_report(site, store, now=NOW)
    # Ada had Ben's reply on her story on 11 February, Ben had Cleo's on 12 February:
    # both within 90 days. Nobody ever answered Cleo; Eve's last answer was Zed's in
    # December 2024. Dan never posted.
    assert report.quiet_members == (
        QuietMember("cleo", "Cleo Park", "2026-03-05", None),
        QuietMember("eve", "Eve Stone", "2026-02-22", "2024-12-01"),
    )


def test_the_window_narrows_monthly_numbers_and_replies_only(site, store):  # type: ignore[no-untyped-def]
    whole = health_report(site, store, now=NOW)
    march = health_report(site, store, now=NOW, window=Window(since=date(2026, 3, 10)))
    assert (march.since, march.until) == ("2026-03", "2026-04")
    assert march.months == (MonthCount("2026-03", 0, 3), MonthCount("2026-04", 0, 0))
    # March: r06, r07 (Ben), r11 (Cleo), r13 (Ada), r14 (Zed).
    assert march.conversation == Conversation(0, 1, 4, 0)
    assert [p.target for p in march.replies_by_post] == ["stories/welcome", "stories/ben-bikes"]
    assert march.commitment == whole.commitment  # all time, whatever the window
    april = health_report(site, store, now=NOW, window=Window(months=1))
    assert april.conversation.total == 0 and april.conversation.member_share is None
    assert health_report(site, store, now=NOW, window=Window(months=36)).since == "2023-05"


def test_the_json_is_the_numbers(site, store):  # type: ignore[no-untyped-def]
    import json

    data = json.loads(report_json(health_report(site, store, now=NOW)))
    assert data["conversation"]["member_to_member"] == 2
    assert data["conversation"]["total"] == 14
    assert data["conversation"]["member_share"] == 0.1429
    assert data["commitment"][0] == {
        "key": "followers",
        "label": "Follow the account",
        "people": 4,
        "highest": 1,
    }
    assert data["generated"] == "2026-04-01T14:00+02:00"


def test_the_store_is_read_without_writing(tmp_path: Path) -> None:
    path = report_fixture.make_store(tmp_path / "commsite.sqlite3")
    before = path.read_bytes()
    read_store(path)
    # (Reading a WAL database may make its -shm and -wal files; the data stays.)
    assert path.read_bytes() == before
    assert read_store(tmp_path / "none.sqlite3") == StoreSnapshot()
    assert not (tmp_path / "none.sqlite3").exists()


def test_a_store_from_before_the_tables_gives_unknowns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    sqlite3.connect(path).close()
    snapshot = read_store(path)
    assert (snapshot.followers, snapshot.pending_introductions, snapshot.welcomed) == (
        None,
        None,
        None,
    )


def test_a_file_that_is_not_a_database_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "commsite.sqlite3"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(CommsiteError, match="cannot read the sidecar's store"):
        read_store(path)


def test_a_pending_introductions_address_is_linked_only_when_it_is_a_web_address(site):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from commsite.report.model import PendingIntroduction

    hostile = PendingIntroduction(
        7,
        "https://x.example/1",
        "https://x.example/u",
        "X",
        "@x@x.example",
        datetime(2026, 3, 31, tzinfo=UTC),
        "javascript:alert(1)",
    )
    report = health_report(site, StoreSnapshot(pending_introductions=(hostile,)), now=NOW)
    assert [(n.pending, n.url) for n in report.unanswered if n.pending] == [(7, None)]


@pytest.mark.parametrize(
    "root", [report_fixture.SITE, report_fixture.SITE.parent.parent.parent / "example_site"]
)
def test_loading_without_the_bodies_gives_the_same_report(root: Path, store: StoreSnapshot) -> None:
    from commsite.content.loader import load_site

    full, _ = load_site(root, now=NOW)
    assert full is not None
    quick = report_fixture.load(root)
    assert health_report(quick, store, now=NOW) == health_report(full, store, now=NOW)
    assert [s.title for s in quick.stories] == [s.title for s in full.stories]
    assert quick.stories[0].body_html == "" != full.stories[0].body_html


EXPECTED_JSON = Path(__file__).parent / "fixtures" / "report_expected.json"


def test_golden_the_fixtures_report_json_matches_the_committed_one(site, store):  # type: ignore[no-untyped-def]
    """The whole report.json, golden: a change shows as a diff to review. When it
    is intended: COMMSITE_REGENERATE=1 pytest tests/test_report_numbers.py -k golden"""
    import difflib
    import os

    actual = report_json(health_report(site, store, now=NOW))
    if os.environ.get("COMMSITE_REGENERATE") == "1":
        EXPECTED_JSON.write_text(actual, encoding="utf-8")
    expected = EXPECTED_JSON.read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True), "expected", "now"
        )
    )
    assert actual == expected, diff
