"""The health report's fixture site (tests/fixtures/report_site/) and a real
sidecar store to go with it, shared by tests/test_report_*.py."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from commsite.content.model import Site
from commsite.federation.followers import Follower
from commsite.report.site_load import load_for_report
from commsite.sidecar.store import Store

__all__ = ["NOW", "SITE", "copy_site", "load", "make_store"]

SITE = Path(__file__).parent / "fixtures" / "report_site"
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)  # 14:00 in Berlin, the site's time zone
EPOCH = str(int(NOW.timestamp()))  # SOURCE_DATE_EPOCH for the command line

# Followers: Ben (a member, by his actor URL), Zed and Quinn (who also liked
# things), and Fay, who only follows.
FOLLOWERS = (
    ("https://mastodon.example/users/ben", "@ben@mastodon.example"),
    ("https://other.example/users/zed", "@zed@other.example"),
    ("https://other.example/users/quinn", None),
    ("https://far.example/users/fay", "@fay@far.example"),
)
# An introduction still waiting for moderation; its author's name is hostile.
PENDING_NAME = "Sam <img src=x onerror=alert(1)>"
PENDING_ID = "https://newbie.example/users/sam/statuses/5"
# Ada's own introduction got the community's welcome reply (h4's table).
WELCOMED = "https://social.example/users/ada/statuses/3"


def load(root: Path = SITE) -> Site:
    site, diagnostics = load_for_report(root, NOW)
    assert site is not None and not [d for d in diagnostics if d.is_error], diagnostics
    return site


def copy_site(dest: Path) -> Path:
    shutil.copytree(SITE, dest)
    return dest


def make_store(path: Path, *, welcome_table: bool = True) -> Path:
    """A real store (the sidecar's own migrations) holding the followers, one
    pending introduction and, if asked, the welcome replies sent."""
    store = Store(path)
    try:
        for actor, handle in FOLLOWERS:
            store.followers.add(
                Follower(
                    actor, actor + "/inbox", None, None, datetime(2026, 1, 1, tzinfo=UTC), handle
                )
            )
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO inbox_actors (id, handle, name, url, fetched_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    "https://newbie.example/users/sam",
                    "@sam@newbie.example",
                    PENDING_NAME,
                    "https://newbie.example/@sam",
                    "2026-03-30T10:00:00+00:00",
                ),
            )
            conn.execute(
                "INSERT INTO inbox_items (ap_id, kind, actor, content_html, url, published,"
                " status, received_at) VALUES (?, 'introduction', ?, ?, ?, ?, 'pending', ?)",
                (
                    PENDING_ID,
                    "https://newbie.example/users/sam",
                    "<p>Sam, furniture.</p>",
                    "https://newbie.example/@sam/5",
                    "2026-03-30T10:00:00+00:00",
                    "2026-03-30T10:00:05+00:00",
                ),
            )
            if welcome_table:
                # The sidecar's table (h4's migration), made here too for a store
                # from before it: Ada's welcome was sent, Nia's skipped.
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS welcome_replies (introduction TEXT PRIMARY KEY,"
                    " newcomer TEXT NOT NULL, status TEXT NOT NULL, note_id TEXT,"
                    " activity_id TEXT, content_html TEXT, decided_at TEXT NOT NULL)"
                )
                conn.executemany(
                    "INSERT INTO welcome_replies (introduction, newcomer, status, note_id,"
                    " decided_at) VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            WELCOMED,
                            "https://social.example/users/ada",
                            "sent",
                            "https://club.example/ap/welcomes/1",
                            "2026-02-01T09:00:00+00:00",
                        ),
                        (
                            "https://newbie.example/users/nia/statuses/1",
                            "https://newbie.example/users/nia",
                            "skipped",
                            None,
                            "2026-03-21T09:00:00+00:00",
                        ),
                    ],
                )
            else:  # a store from before the sidecar kept its welcome replies
                conn.execute("DROP TABLE IF EXISTS welcome_mentions")
                conn.execute("DROP TABLE IF EXISTS welcome_replies")
    finally:
        store.close()
    return path
