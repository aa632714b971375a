"""interactions/: the export's files and the loader that reads them back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import pg
from commsite.content.interactions import load_interactions, sanitize_html
from commsite.content.model import Reaction, Reactor
from commsite.sidecar.export import export_interactions, item_path
from commsite.sidecar.store import Store

# --- sanitising -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p>hi<script>alert(1)</script></p>", "<p>hi</p>"),
        ('<p><img src="x" onerror="alert(1)">pic</p>', "<p>pic</p>"),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="nofollow noopener ugc">x</a>'),
        ('<a href="data:text/html,x">x</a>', '<a rel="nofollow noopener ugc">x</a>'),
        ('<a href="/relative">x</a>', '<a rel="nofollow noopener ugc">x</a>'),
        (
            '<a href="https://ok.example/" rel="me" onclick="x()" target="_blank">ok</a>',
            '<a href="https://ok.example/" rel="nofollow noopener ugc">ok</a>',
        ),
        (
            '<a href="mailto:a@b.example">mail</a>',
            '<a href="mailto:a@b.example" rel="nofollow noopener ugc">mail</a>',
        ),
        (
            '<span class="h-card evil"><a class="u-url mention x" href="https://m.example/@a">@a</a></span>',
            '<span class="h-card"><a class="u-url mention" href="https://m.example/@a"'
            ' rel="nofollow noopener ugc">@a</a></span>',
        ),
        (
            '<ol start="3" reversed onclick="x"><li value="4">a</li></ol>',
            '<ol start="3" reversed=""><li value="4">a</li></ol>',
        ),
        ("<h1>Title</h1><iframe src=x></iframe><style>p{}</style>", "Title"),
        ('<p style="color:red" id="x">t</p>', "<p>t</p>"),
        (
            "<blockquote><pre><code>x &lt; y</code></pre></blockquote>",
            "<blockquote><pre><code>x &lt; y</code></pre></blockquote>",
        ),
        ("<svg><script>alert(1)</script></svg>", ""),
    ],
)
def test_sanitize_to_mastodons_allow_list(dirty: str, clean: str) -> None:
    assert sanitize_html(dirty) == clean


# --- loading ----------------------------------------------------------------------

REPLY = """---
id: https://r.example/users/bob/statuses/1
kind: reply
target: stories/first-meetup
in_reply_to: https://x.example/ap/stories/first-meetup
author_name: Bob
author_handle: '@bob@r.example'
author_url: https://r.example/@bob
published: '2026-11-20T10:00:00+00:00'
updated: '2026-11-20T11:00:00+00:00'
summary: food
sensitive: true
---
<p>Hello <script>alert(1)</script><a href="javascript:x">there</a></p>
"""

INTRO = """---
id: https://r.example/users/eve/statuses/2
kind: introduction
author_name: Eve
author_handle: '@eve@r.example'
author_url: https://r.example/@eve
published: 2026-11-21T09:00:00Z
tags: [Introduction, radios]
---
<p>Hi, I'm Eve.</p>
"""


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="utf-8")


def test_no_directory_is_no_interactions(tmp_path: Path) -> None:
    interactions, diagnostics = load_interactions(tmp_path)
    assert (interactions.replies, interactions.introductions, diagnostics) == ((), (), [])


def test_files_load_and_are_sanitised_again(tmp_path: Path) -> None:
    write(tmp_path, "interactions/replies/stories/first-meetup/aaa.md", REPLY)
    write(tmp_path, "interactions/introductions/bbb.md", INTRO)
    write(
        tmp_path, "interactions/reactions.yaml", "stories/first-meetup:\n  likes: 2\n  boosts: 1\n"
    )
    interactions, diagnostics = load_interactions(tmp_path)
    assert diagnostics == []
    (reply,) = interactions.replies
    assert reply.content_html == '<p>Hello <a rel="nofollow noopener ugc">there</a></p>'
    assert reply.updated == datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    assert (reply.summary, reply.sensitive, reply.target) == ("food", True, "stories/first-meetup")
    assert reply.source == "interactions/replies/stories/first-meetup/aaa.md"
    (intro,) = interactions.introductions
    assert intro.tags == ("introduction", "radios")
    assert intro.published == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert interactions.reactions == (Reaction("stories/first-meetup", 2, 1),)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (REPLY.replace("kind: reply\n", ""), "'kind' is missing", None),
        (REPLY.replace("target: stories/first-meetup", "target: elsewhere"),
         "'target' must be 'stories/SLUG' or 'events/SLUG' (got 'elsewhere')", 4),
        (REPLY.replace("'2026-11-20T10:00:00+00:00'", "yesterday"),
         "'published' is not a date and time (got 'yesterday'); use ISO 8601", 9),
        (REPLY.replace("sensitive: true", "sensitive: maybe"),
         "'sensitive' must be true or false (got 'maybe')", 12),
        (REPLY.replace("kind: reply", "kind: boost"),
         "'kind' must be 'reply' or 'introduction' (got 'boost')", 3),
        ("no front matter\n", "the file does not start with front matter", 1),
    ],
)  # fmt: skip
def test_malformed_files_are_diagnostics_and_left_out(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    write(tmp_path, "interactions/replies/stories/first-meetup/bad.md", text)
    write(tmp_path, "interactions/introductions/bbb.md", INTRO)
    interactions, diagnostics = load_interactions(tmp_path)
    assert interactions.replies == ()
    assert len(interactions.introductions) == 1
    assert [(d.path, d.line, d.message) for d in diagnostics] == [
        ("interactions/replies/stories/first-meetup/bad.md", line, message)
    ]


def test_bad_reaction_entries_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "interactions/reactions.yaml", "stories/a: {likes: 1}\nnonsense: 3\n")
    interactions, diagnostics = load_interactions(tmp_path)
    assert interactions.reactions == (Reaction("stories/a", 1, 0),)
    assert [d.message for d in diagnostics] == ["bad entry 'nonsense'"]


# --- exporting --------------------------------------------------------------------


def seed(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_actors (id, handle, name, url, avatar, fetched_at) VALUES"
            " ('https://r.example/users/bob', '@bob@r.example', 'Bob \"B\" Üñï', 'https://r.example/@bob',"
            "  'https://r.example/bob.png', 'x')"
        )
        for n, (kind, status, target) in enumerate(
            [
                ("reply", "approved", "stories/first-meetup"),
                ("reply", "pending", "stories/first-meetup"),
                ("reply", "approved", "events/repair-day"),
                ("introduction", "approved", None),
                ("message", "approved", None),
                ("reply", "rejected", "stories/first-meetup"),
            ]
        ):
            conn.execute(
                "INSERT INTO inbox_items (ap_id, kind, actor, target, in_reply_to, content_html,"
                " summary, tags, published, status, received_at) VALUES"
                " (?, ?, 'https://r.example/users/bob', ?, ?, ?, ?, ?, ?, ?, 'x')",
                (
                    f"https://r.example/users/bob/statuses/{n}",
                    kind,
                    target,
                    "https://x.example/ap/stories/first-meetup" if target else None,
                    f"<p>text {n}: a: b --- </p>\n---\n<p>more</p>",
                    "cw: yes" if n == 0 else None,
                    '["introduction"]' if kind == "introduction" else "[]",
                    "2026-11-20T10:00:00+00:00",
                    status,
                ),
            )
        conn.execute(
            "INSERT INTO inbox_reactions VALUES ('https://r.example/l1', 'like',"
            " 'https://r.example/users/bob', 'https://x.example/ap/stories/first-meetup',"
            " 'stories/first-meetup', 'x')"
        )


@pytest.mark.usefixtures("backend")
def test_export_writes_approved_items_deterministically_and_loads_back(tmp_path: Path) -> None:
    store = Store(pg.target(tmp_path / "db.sqlite3"))
    seed(store)
    result = export_interactions(store, tmp_path)
    assert result.written == sorted(
        [
            item_path("reply", "https://r.example/users/bob/statuses/0", "stories/first-meetup"),
            item_path("reply", "https://r.example/users/bob/statuses/2", "events/repair-day"),
            item_path("introduction", "https://r.example/users/bob/statuses/3", None),
            "interactions/reactions.yaml",
        ]
    )
    first = {p: p.read_bytes() for p in (tmp_path / "interactions").rglob("*") if p.is_file()}
    again = export_interactions(store, tmp_path)
    assert (again.written, again.removed, again.unchanged) == ([], [], 4)
    assert {p: p.read_bytes() for p in first} == first
    name = item_path("reply", "https://r.example/users/bob/statuses/0", "stories/first-meetup")
    assert (
        name.startswith("interactions/replies/stories/first-meetup/")
        and len(name.rsplit("/", 1)[1]) == 15
    )
    interactions, diagnostics = load_interactions(tmp_path)
    assert diagnostics == []
    by_id = {r.id: r for r in interactions.replies}
    reply = by_id["https://r.example/users/bob/statuses/0"]
    assert reply.author_name == 'Bob "B" Üñï'
    assert reply.summary == "cw: yes"
    assert reply.content_html == "<p>text 0: a: b --- </p>\n---\n<p>more</p>"
    assert reply.author_avatar == "https://r.example/bob.png"
    assert interactions.introductions[0].tags == ("introduction",)
    bob = Reactor("like", 'Bob "B" Üñï', "@bob@r.example", "https://r.example/@bob",
                  "https://r.example/users/bob", None, "https://r.example/bob.png")  # fmt: skip
    assert interactions.reactions == (Reaction("stories/first-meetup", 1, 0, (bob,)),)


@pytest.mark.usefixtures("backend")
def test_export_removes_files_of_deleted_and_rejected_items(tmp_path: Path) -> None:
    store = Store(pg.target(tmp_path / "db.sqlite3"))
    seed(store)
    export_interactions(store, tmp_path)
    with store.transaction() as conn:
        conn.execute("DELETE FROM inbox_items WHERE ap_id LIKE '%/0'")
        conn.execute("UPDATE inbox_items SET status = 'rejected' WHERE ap_id LIKE '%/2'")
        conn.execute("DELETE FROM inbox_reactions")
    result = export_interactions(store, tmp_path)
    assert result.written == []
    assert result.removed == sorted(
        [
            item_path("reply", "https://r.example/users/bob/statuses/0", "stories/first-meetup"),
            item_path("reply", "https://r.example/users/bob/statuses/2", "events/repair-day"),
            "interactions/reactions.yaml",
        ]
    )
    assert not (tmp_path / "interactions" / "replies").exists() or not any(
        (tmp_path / "interactions" / "replies").rglob("*")
    )
    interactions, _ = load_interactions(tmp_path)
    assert interactions.replies == () and len(interactions.introductions) == 1


@pytest.mark.usefixtures("backend")
def test_export_names_the_actor_and_its_webfinger_handle_for_member_matching(
    tmp_path: Path,
) -> None:
    """What the site recognises a member by (content/member_match.py) goes into the
    files: the actor's URL always, its FEP-2c59 handle when the sidecar kept one; a
    file without them (an older export) still loads."""
    store = Store(pg.target(tmp_path / "db.sqlite3"))
    seed(store)
    with store.transaction() as conn:
        conn.execute("UPDATE inbox_actors SET webfinger = '@bob@example'")
    export_interactions(store, tmp_path)
    interactions, diagnostics = load_interactions(tmp_path)
    assert diagnostics == []
    for item in (*interactions.replies, *interactions.introductions):
        assert item.author_actor == "https://r.example/users/bob"
        assert item.author_webfinger == "@bob@example"
    old = tmp_path / "old"
    write(
        old,
        "interactions/introductions/abc.md",
        "---\nid: https://o.example/n/1\nkind: introduction\nauthor_name: O\n"
        "author_handle: '@o@o.example'\nauthor_url: https://o.example/@o\n"
        "published: 2026-01-01T00:00:00Z\n---\n<p>hi</p>\n",
    )
    loaded, diagnostics = load_interactions(old)
    assert diagnostics == [] and loaded.introductions[0].author_actor is None
