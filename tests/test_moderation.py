"""Moderation: the approval policy, blocks, and `commsite moderate` on a real database."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

import pg
from commsite.cli import main
from commsite.config import ModerationConfig, SiteConfig
from commsite.content.identity import identity
from commsite.sidecar import moderation
from commsite.sidecar.store import Store
from sidecar_peer import write_site

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
MEMBERS = frozenset({"@ada@social.example"})


def config(**moderation_values: object) -> SiteConfig:
    return SiteConfig(
        title="t",
        base_url="https://x.example/",
        moderation=ModerationConfig(**moderation_values),  # type: ignore[arg-type]
    )


def status(
    cfg: SiteConfig,
    kind: str = "reply",
    handle: str = "@Ada@Social.example",
    follower: bool = False,
    text: str = "<p>hello</p>",
) -> tuple[str, str | None]:
    return moderation.initial_status(
        cfg, kind=kind, handle=handle, member_handles=MEMBERS, is_follower=follower, texts=(text,)
    )


def test_members_policy_approves_members_by_handle_case_insensitively() -> None:
    assert status(config(approve="members")) == ("approved", None)
    assert status(config(approve="members"), handle="@bob@social.example") == (
        "pending",
        "author is not a member",
    )


def test_followers_everyone_and_manual_policies() -> None:
    stranger = "@bob@else.example"
    assert status(config(approve="followers"), handle=stranger, follower=True)[0] == "approved"
    assert status(config(approve="followers"), handle=stranger)[0] == "pending"
    assert status(config(approve="everyone"), handle=stranger)[0] == "approved"
    assert status(config(approve="manual")) == ("pending", "every post is reviewed")


def test_hold_keywords_hold_even_a_member() -> None:
    cfg = config(approve="everyone", hold_keywords=("crypto", "free money"))
    assert status(cfg, text="<p>Get FREE money now</p>") == (
        "pending",
        "contains hold keyword 'free money'",
    )
    assert status(cfg, text="<p>cryptography talk</p>")[0] == "approved"  # whole words only


def test_messages_and_reports_always_wait() -> None:
    assert status(config(approve="everyone"), kind="message")[0] == "pending"
    assert status(config(approve="everyone"), kind="report")[0] == "pending"


@pytest.mark.usefixtures("backend")
def test_blocked_domains_cover_subdomains_and_actors_match_by_url_or_handle(
    tmp_path: Path,
) -> None:
    store = Store(pg.target(tmp_path / "db.sqlite3"))
    cfg = config(blocked_domains=("spam.example",), blocked_actors=("@troll@ok.example",))
    assert moderation.blocked_reason(store, cfg, "https://a.spam.example/u") == (
        "domain spam.example is blocked"
    )
    assert moderation.blocked_reason(store, cfg, "https://notspam.example/u") is None
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_actors (id, handle, name, fetched_at)"
            " VALUES ('https://ok.example/users/troll', '@troll@ok.example', 'T', 'x')"
        )
    assert moderation.blocked_reason(store, cfg, "https://ok.example/users/troll#main-key") == (
        "actor @troll@ok.example is blocked"
    )
    moderation.block(store, "domain", "Other.Example", NOW)
    assert moderation.blocked_reason(store, cfg, "https://other.example/u") is not None


@pytest.mark.parametrize(
    ("spellings", "same"),
    [
        (["https://evil.example/users/m", "HTTPS://Evil.Example:443/users/m/",
          "https://evil.example./users/m#main-key", "https://u@evil.example/users/m"], True),
        (["http://127.0.0.1:8080/u", "HTTP://127.0.0.1:8080/u/"], True),
        (["https://bücher.example/u", "https://xn--bcher-kva.example/u"], True),
        (["@Mallory@Evil.Example", "mallory@evil.example.", "acct:mallory@evil.example",
          "@mallory@evil.example:443"], True),
        (["https://evil.example/users/m", "https://evil.example/users/M"], False),  # paths differ
        (["https://evil.example/users/m", "https://evil.example:8443/users/m"], False),
        (["@m@evil.example", "@m@evil.example:8443"], False),
    ],
)  # fmt: skip
def test_one_identity_for_every_spelling_of_an_actor(spellings: list[str], same: bool) -> None:
    assert (len({identity(s) for s in spellings}) == 1) is same


@pytest.mark.parametrize(
    "actor",
    [
        "https://spam.example/u",
        "https://a.spam.example/u",
        "https://A.SPAM.Example/u",
        "https://a.spam.example./u",  # the root's dot
        "https://a.spam.example:8443/u",
    ],
)
@pytest.mark.usefixtures("backend")
def test_a_blocked_domain_covers_every_spelling_and_subdomain(tmp_path: Path, actor: str) -> None:
    store = Store(pg.target(tmp_path / "db.sqlite3"))
    cfg = config(blocked_domains=("Spam.Example",))
    assert moderation.blocked_reason(store, cfg, actor) == "domain spam.example is blocked"
    assert moderation.blocked_reason(store, cfg, "https://notspam.example/u") is None
    assert moderation.blocked_reason(store, cfg, "https://spam.example.org/u") is None


@pytest.mark.usefixtures("backend")
def test_an_actor_block_matches_however_the_url_or_handle_is_spelt(tmp_path: Path) -> None:
    store = Store(pg.target(tmp_path / "db.sqlite3"))
    cfg = config(blocked_actors=("HTTPS://Bad.Example/users/x/",))
    assert moderation.blocked_reason(store, cfg, "https://bad.example/users/x#main-key") == (
        "actor https://bad.example/users/x is blocked"
    )
    assert moderation.blocked_reason(store, cfg, "https://bad.example/users/y") is None
    # Added by `commsite moderate block-actor` as a handle without its @.
    moderation.block(store, "actor", "Troll@OK.example", NOW)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_actors (id, handle, name, fetched_at)"
            " VALUES ('https://ok.example/users/troll', '@troll@ok.example', 'T', 'x')"
        )
    assert moderation.blocked_reason(store, cfg, "https://ok.example/users/troll") == (
        "actor @troll@ok.example is blocked"
    )
    # Whether an actor on another host is blocked is decided without its profile.
    assert not moderation.handle_block_undecided(store, cfg, "https://else.example/users/troll")
    assert moderation.handle_block_undecided(store, cfg, "https://ok.example/users/new")
    assert moderation.handle_block_undecided(store, cfg, "https://web.ok.example/users/new")


@pytest.mark.usefixtures("backend")
def test_a_lone_surrogate_in_an_actor_is_no_error(tmp_path: Path) -> None:
    store = Store(pg.target(tmp_path / "db.sqlite3"))
    cfg = config(blocked_actors=("@troll@ok.example",))
    assert moderation.blocked_reason(store, cfg, "https://ok.example/\ud800") is None


# --- the CLI --------------------------------------------------------------------


def add_item(store: Store, n: int, actor: str, kind: str = "reply", text: str = "hello") -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_actors (id, handle, name, fetched_at)"
            " VALUES (?, ?, ?, 'x') ON CONFLICT DO NOTHING",
            (actor, "@" + actor.rsplit("/", 1)[1] + "@r.example", actor.rsplit("/", 1)[1]),
        )
        conn.execute(
            "INSERT INTO inbox_items (ap_id, kind, actor, target, in_reply_to, content_html,"
            " published, status, hold_reason, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 'author is not a member', ?)",
            (
                f"{actor}/statuses/{n}",
                kind,
                actor,
                "stories/first-meetup" if kind == "reply" else None,
                "https://x/ap/stories/first-meetup" if kind == "reply" else None,
                f"<p>{text} &amp; <b>more</b></p>",
                "2026-11-20T10:00:00+00:00",
                "2026-11-20T10:00:01+00:00",
            ),
        )


@pytest.fixture
def site(tmp_path: Path, backend: str) -> Path:
    write_site(tmp_path, "https://x.example/")
    store = Store(pg.site_target(tmp_path))
    add_item(store, 1, "https://r.example/users/bob", text="first")
    add_item(store, 2, "https://r.example/users/bob", text="second")
    add_item(store, 3, "https://r.example/users/eve", kind="introduction", text="hi all")
    store.close()
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_list_shows_who_what_where_and_an_excerpt(site: Path) -> None:
    code, out = run("moderate", "list", str(site))
    assert code == 0
    assert out.splitlines()[:3] == [
        "#1 reply on stories/first-meetup from @bob@r.example (2026-11-20T10:00:01+00:00)",
        "    waits: author is not a member",
        "    first & more",
    ]
    assert "#3 introduction from @eve@r.example" in out
    assert out.endswith("3 items waiting\n")


def test_approve_by_number_and_reject_by_actor_with_a_rule(site: Path) -> None:
    assert run("moderate", "approve", "1", str(site)) == (0, "approved #1\n")
    code, out = run(
        "moderate", "reject", "@bob@r.example", str(site), "--rule", "2", "--note", "advert"
    )
    assert (code, out) == (0, "rejected #2\n")
    code, out = run("moderate", "log", str(site))
    lines = out.splitlines()
    assert lines[0].endswith(" approve 1")
    assert lines[1].endswith(" reject 2 (rule 2): advert")
    assert run("moderate", str(site))[1].endswith("1 item waiting\n")


def test_inside_the_site_folder_the_subject_is_the_only_argument(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(site)
    assert run("moderate", "approve", "1") == (0, "approved #1\n")
    assert run("moderate", "reject", "2", "--rule", "2") == (0, "rejected #2\n")
    code, out = run("moderate")
    assert (code, out.splitlines()[-1]) == (0, "1 item waiting")
    assert run("moderate", "log")[1].splitlines()[1].endswith(" reject 2 (rule 2)")


def test_the_site_given_twice_must_agree(
    site: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("other")
    code, out = run("moderate", "approve", "1", str(site), "--site", str(other))
    assert code == 2
    assert "the site is given twice, as SITE" in out
    assert run("moderate", "approve", "1", str(site), "--site", str(site)) == (0, "approved #1\n")


def test_the_site_option_works_before_or_after_the_subcommand(
    site: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert run("moderate", "-s", str(site), "approve", "1") == (0, "approved #1\n")
    assert run("moderate", "approve", "2", "--site", str(site)) == (0, "approved #2\n")
    code, out = run("moderate", "--site", str(site))
    assert code == 0
    assert out.startswith("#3 introduction from @eve@r.example")
    assert out.endswith("1 item waiting\n")
    # The subcommand's own --site wins over the group's.
    code, out = run("moderate", "-s", "/nonexistent-site", "list", "-s", str(site))
    assert (code, out.splitlines()[-1]) == (0, "1 item waiting")


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["approve", "{site}", "1"], "'1' now: commsite moderate approve 1 {site}"),
        (["reject", "{site}", "1", "--rule", "2"], "'1' now: commsite moderate reject 1 {site}"),
        (
            ["block-domain", "{site}", "r.example"],
            "'r.example' now: commsite moderate block-domain r.example {site}",
        ),
    ],
)
def test_the_old_form_with_the_site_first_says_the_new_one(
    site: Path, args: list[str], hint: str
) -> None:
    code, out = run("moderate", *(a.format(site=site) for a in args))
    assert code == 2
    assert f"Error: the site comes after {hint.format(site=site)}" in out.replace("\n", " ")
    assert run("moderate", "list", "-s", str(site))[1].endswith("3 items waiting\n")


@pytest.mark.parametrize(
    "command",
    [
        "moderate",
        "moderate list",
        "moderate approve",
        "moderate reject",
        "moderate block-actor",
        "moderate block-domain",
        "moderate log",
        "interactions export",
    ],
)
def test_help_has_examples_and_the_site_option(command: str) -> None:
    code, out = run(*command.split(), "--help")
    assert code == 0
    assert "Examples:" in out
    if command == "moderate":
        assert "-s, --site DIRECTORY" in out
    else:
        assert out.splitlines()[0].endswith(" [SITE]")


def test_a_rule_that_does_not_exist_is_refused(site: Path) -> None:
    code, out = run("moderate", "reject", "-s", str(site), "1", "--rule", "7")
    assert code == 2
    assert "rules.md numbers its rules 1 to 3; there is no rule 7" in out
    assert run("moderate", "log", "--site", str(site))[1] == ""


def test_nothing_to_decide_is_an_error(site: Path) -> None:
    code, out = run("moderate", "approve", "-s", str(site), "99")
    assert code == 1
    assert "nothing waits under '99'" in out


def test_block_actor_rejects_their_items_and_logs(site: Path) -> None:
    code, out = run(
        "moderate", "block-actor", "-s", str(site), "https://r.example/users/bob", "--rule", "1"
    )
    assert (code, out) == (0, "blocked actor https://r.example/users/bob; 2 item(s) rejected\n")
    code, out = run("moderate", "block-domain", "-s", str(site), "r.example")
    assert (code, out) == (0, "blocked domain r.example; 1 item(s) rejected\n")
    log = run("moderate", "log", "--site", str(site))[1]
    assert "block-actor https://r.example/users/bob (rule 1)" in log
    assert "block-domain r.example" in log
    assert run("moderate", "list", "--site", str(site))[1] == "0 items waiting\n"


def test_approving_calls_the_rebuild_webhook(site: Path) -> None:
    calls: list[dict[str, object]] = []

    class Hook(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            calls.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yaml_file = site / "commsite.yaml"
        hook = f"http://127.0.0.1:{server.server_address[1]}/rebuild"
        text = yaml_file.read_text()  # write_site's sidecar section, with the hook added
        yaml_file.write_text(text.replace("sidecar:\n", f"sidecar:\n  rebuild_webhook: {hook}\n"))
        assert run("moderate", "approve", "-s", str(site), "3")[0] == 0
    finally:
        server.shutdown()
        server.server_close()
    assert calls == [{"event": "interactions-changed", "reasons": ["approved 1 item(s)"]}]


def test_config_dataclass_is_what_the_policy_reads() -> None:
    cfg = dataclasses.replace(config(), moderation=ModerationConfig(approve="manual"))
    assert status(cfg)[0] == "pending"
