"""The welcome reply's text, HTML and activity (sidecar/welcome.py), and whom it mentions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from commsite.activitypub.vocabulary import PUBLIC
from commsite.federation.fetch import BlockedAddress, Fetcher
from commsite.sidecar.handles import HandleNotFound, Resolver
from commsite.sidecar.store import Store
from commsite.sidecar.welcome import (
    MentionTarget,
    Proposed,
    handles_in,
    note_html,
    plain_name,
    plain_text,
    proposal_text,
    strip_comments,
    welcome_activity,
)
from commsite.sidecar.welcome_send import find_introduction, introductions_awaiting_welcome, skip

ADA = Proposed("ada", "Ada Okafor", "@ada@eastfield.example", ("electronics", "soldering"))
DEV = Proposed("dev", "Dev Patel", "@dev@eastfield.example", ("radios",))


def test_proposal_greets_mentions_says_what_is_shared_and_links_the_rules() -> None:
    text = proposal_text(
        newcomer_name="Dan <b>Ryder</b>",
        newcomer_handle="@dan@social.example",
        community="Eastfield Repair Café",
        members=[ADA, DEV],
        rules_url="https://eastfield.example/rules/",
    )
    assert text.startswith(
        "@dan@social.example Welcome to Eastfield Repair Café, Dan Ryder! We're glad you're here."
    )
    assert (
        "@ada@eastfield.example (electronics and soldering) and @dev@eastfield.example (radios)"
        in text
    )
    assert text.rstrip().endswith("https://eastfield.example/rules/")


def test_proposal_without_matches_greets_and_links_the_rules_only() -> None:
    text = proposal_text(
        newcomer_name="Eve",
        newcomer_handle="@eve@social.example",
        community="",
        members=[],
        rules_url="https://x.example/rules/",
    )
    assert handles_in(text) == ["@eve@social.example"]
    assert "meet" not in text
    assert "Welcome, Eve!" in text and "https://x.example/rules/" in text


def test_names_are_plain_one_line_and_short() -> None:
    assert plain_name("  Zoë\n<script>x</script> &amp; co ") == "Zoë x & co"
    # Entities cannot smuggle terminal escapes or bidi overrides in.
    assert plain_name("Eve&#27;]0;pwned&#7;&#x202E;kcah") == "Eve]0;pwnedkcah"
    assert plain_text("<p>a&#27;[31mred&#8238;</p><p>b</p>") == "a[31mred b"
    assert len(plain_name("a" * 500)) == 80


def test_handles_found_once_in_order_and_not_inside_addresses() -> None:
    text = (
        "@Ada@Eastfield.example hi @dev@eastfield.example:8443, @ada@eastfield.example again;"
        " mail ada@eastfield.example, see https://x.example/@bob@y.example"
    )
    assert handles_in(text) == ["@Ada@Eastfield.example", "@dev@eastfield.example:8443"]


def test_html_escapes_everything_but_mentions_and_links() -> None:
    ada = MentionTarget(
        "@ada@eastfield.example", "https://e.example/users/ada", "https://e.example/@ada"
    )
    html = note_html(
        '@ADA@eastfield.example <script>alert(1)</script> & "quotes"\n'
        "see https://x.example/a?b=1&c=2.\n\n"
        "@stranger@nowhere.example <img src=x onerror=alert(2)>",
        {"@ada@eastfield.example": ada},
    )
    assert html == (
        '<p><span class="h-card" translate="no"><a href="https://e.example/@ada"'
        ' class="u-url mention">@<span>ADA</span></a></span> &lt;script&gt;alert(1)&lt;/script&gt;'
        " &amp; &quot;quotes&quot;<br>see"
        ' <a href="https://x.example/a?b=1&amp;c=2" rel="nofollow noopener" target="_blank">'
        "https://x.example/a?b=1&amp;c=2</a>.</p>"
        "<p>@stranger@nowhere.example &lt;img src=x onerror=alert(2)&gt;</p>"
    )


def test_editor_comments_are_left_out() -> None:
    assert strip_comments("Hello\n# a comment\n\nBye\n#another\n\n") == "Hello\n\nBye"


def test_activity_is_an_unlisted_reply_addressed_to_whom_it_mentions() -> None:
    dan = MentionTarget("@dan@s.example", "https://s.example/users/dan", "https://s.example/@dan")
    ada = MentionTarget("@ada@e.example", "https://e.example/users/ada", "https://e.example/@ada")
    activity = welcome_activity(
        our_actor="https://site.example/ap/actor",
        note_id="https://site.example/ap/welcomes/1",
        introduction="https://s.example/users/dan/statuses/1",
        content_html="<p>hi</p>",
        mentioned=[dan, ada, dan],
        published=datetime(2026, 12, 7, 1, 0, tzinfo=UTC),
    )
    note = activity["object"]
    assert activity["type"] == "Create" and note["type"] == "Note"
    assert activity["id"] == note["id"] + "/activity"
    assert note["inReplyTo"] == "https://s.example/users/dan/statuses/1"
    assert note["to"] == activity["to"] == [dan.actor, ada.actor]
    assert note["cc"] == activity["cc"] == [PUBLIC]
    assert note["tag"] == [
        {"type": "Mention", "href": dan.actor, "name": "@dan@s.example"},
        {"type": "Mention", "href": ada.actor, "name": "@ada@e.example"},
    ]
    assert note["published"] == "2026-12-07T01:00:00Z"


def test_a_member_handle_on_a_private_address_is_not_fetched(tmp_path: Path) -> None:
    """A hostile or mistaken member file cannot make the welcome fetch from the LAN."""
    store = Store(tmp_path / "db.sqlite3")
    resolver = Resolver(store, Fetcher(allow_private=False, timeout=2), lambda: datetime.now(UTC))
    with pytest.raises(BlockedAddress, match="does not connect there"):
        resolver.handle("@admin@127.0.0.1:9")
    with pytest.raises(HandleNotFound, match="not a handle"):
        resolver.handle("not a handle")
    store.close()


def test_only_recent_unwelcomed_introductions_are_listed(tmp_path: Path) -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    store = Store(tmp_path / "db.sqlite3")
    with store.transaction() as conn:
        for n, received in ((1, "2026-10-01T00:00:00+00:00"), (2, "2026-12-01T00:00:00+00:00")):
            conn.execute(
                "INSERT INTO inbox_items (ap_id, kind, actor, content_html, published, status,"
                " received_at) VALUES (?, 'introduction', ?, '<p>hi</p>', ?, 'approved', ?)",
                (f"https://s.example/n/{n}", f"https://s.example/u/{n}", received, received),
            )
    assert [i.seq for i in introductions_awaiting_welcome(store, now)] == [2]
    skip(store, introductions_awaiting_welcome(store, now)[0], now)
    assert introductions_awaiting_welcome(store, now) == []
    assert find_introduction(store, "1") is not None  # older ones can still be welcomed
    store.close()
