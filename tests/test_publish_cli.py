"""`commsite publish` as a person runs it: what it prints, and its exit status."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsite.cli import main
from commsite.cli.publish_cmd import EXIT_DELIVERY_FAILED
from commsite.database import connect
from commsite.datadir import DataDir
from commsite.federation.followers import Follower, FollowerStore
from publish_peers import Instance, Origin, serve_actor, write_site, write_story

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, Instance]]:
    origin = Origin()
    peer = Instance("flaky", mode="flaky", users=("ann",)).start()
    root = tmp_path / "site"
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    write_site(root, origin.base_url, {"hello": (yesterday, "Hello, neighbours.")})
    serve_actor(origin, root, NOW)
    with closing(connect(DataDir.for_site(root).database)) as conn:
        FollowerStore(conn).add(
            Follower(peer.actor("ann"), peer.inbox("ann"), peer.shared_inbox, None, NOW)
        )
    yield root, peer
    peer.stop()
    origin.stop()


def test_help_explains_the_options() -> None:
    result = CliRunner().invoke(main, ["publish", "--help"])
    assert result.exit_code == 0
    for text in ("--dry-run", "--retry-now", "--backfill-days", "first publish", "default: 7"):
        assert text in result.output
    assert "Examples:\n    commsite publish --dry-run " in result.output


def test_dry_run_lists_what_would_go_out(site: tuple[Path, Instance]) -> None:
    root, peer = site
    result = CliRunner().invoke(main, ["publish", str(root), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would queue 1 activity for 1 inbox:\n  Create stories/hello\n" in result.output
    assert result.output.endswith("1 activity → 1 inbox (dry run: nothing queued or sent)\n")
    assert peer.statuses == []


def test_publish_prints_each_delivery_and_a_summary_then_retries_now(
    site: tuple[Path, Instance],
) -> None:
    root, peer = site
    runner = CliRunner()
    first = runner.invoke(main, ["publish", str(root)])
    assert first.exit_code == 0, first.output
    assert "First publish: 0 older stories and events were recorded as already published" in (
        first.output
    )
    assert "retrying  Create stories/hello → " + peer.shared_inbox + ": HTTP 500" in first.output
    assert first.output.splitlines()[-1].startswith("1 activity → 1 inbox: 1 retrying (next in ")

    again = runner.invoke(main, ["publish", str(root), "--retry-now"])
    assert again.exit_code == 0, again.output
    assert f"delivered Create stories/hello → {peer.shared_inbox}: HTTP 202" in again.output
    assert again.output.splitlines()[-1] == "Nothing new to publish: 1 delivered"
    assert peer.statuses == [500, 202]

    idle = runner.invoke(main, ["publish", str(root)])
    assert idle.output.splitlines()[-1] == "Nothing new to publish"


def test_a_delivery_that_failed_for_good_exits_3(tmp_path: Path) -> None:
    origin = Origin()
    peer = Instance("strict", mode="refuse", users=("bea",)).start()
    try:
        root = tmp_path / "site"
        yesterday = (NOW - timedelta(days=1)).date().isoformat()
        write_site(root, origin.base_url, {"hello": (yesterday, "Hello, neighbours.")})
        serve_actor(origin, root, NOW)
        with closing(connect(DataDir.for_site(root).database)) as conn:
            FollowerStore(conn).add(
                Follower(peer.actor("bea"), peer.inbox("bea"), peer.shared_inbox, None, NOW)
            )
        runner = CliRunner()
        result = runner.invoke(main, ["publish", str(root)])
        assert EXIT_DELIVERY_FAILED == 3
        assert result.exit_code == 3, result.output
        assert f"FAILED    Create stories/hello → {peer.shared_inbox}: HTTP 403" in result.stderr
        assert result.stdout.splitlines()[-1] == "1 activity → 1 inbox: 1 failed"
        assert peer.statuses == [403]
        # The failure belongs to that run: the next one has nothing new and exits 0.
        again = runner.invoke(main, ["publish", str(root)])
        assert again.exit_code == 0, again.output
        assert again.output.splitlines()[-1] == "Nothing new to publish"
        assert peer.statuses == [403]
    finally:
        peer.stop()
        origin.stop()


def test_help_documents_the_exit_status() -> None:
    result = CliRunner().invoke(main, ["publish", "--help"])
    assert "Exit status: 0 when everything was queued" in result.output
    assert "3 when a delivery failed for good in this run" in " ".join(result.output.split())


def test_no_private_key_is_a_clear_error(site: tuple[Path, Instance]) -> None:
    root, peer = site
    DataDir.for_site(root).private_key.unlink()
    result = CliRunner().invoke(main, ["publish", str(root)])
    assert result.exit_code == 1
    assert f"Error: no private key at {DataDir.for_site(root).private_key}; run " in result.output
    assert f"`commsite keys generate {root}`" in result.output
    assert peer.statuses == []


def test_dry_run_warns_that_a_real_publish_needs_the_key(site: tuple[Path, Instance]) -> None:
    root, peer = site
    DataDir.for_site(root).private_key.unlink()
    result = CliRunner().invoke(main, ["publish", str(root), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        f"warning: no private key at {DataDir.for_site(root).private_key}: a real publish "
        f"would stop here; run `commsite keys generate {root}`" in result.output
    )
    assert peer.statuses == []


def test_content_errors_are_printed_with_their_file_and_line(
    site: tuple[Path, Instance],
) -> None:
    root, _ = site
    (root / "content" / "stories" / "broken.md").write_text(
        "---\ntitle: Broken\ndate: tomorrow\n---\nBody\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["publish", str(root)])
    assert result.exit_code == 1
    assert "content/stories/broken.md:3: error:" in result.output


def test_a_missing_site_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["publish", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "no such directory" in result.output


def test_a_site_without_a_public_key_is_refused(site: tuple[Path, Instance]) -> None:
    root, _ = site
    shutil.rmtree(root / "federation")
    result = CliRunner().invoke(main, ["publish", str(root)])
    assert result.exit_code == 1
    assert "federation/public-key.pem is missing" in result.output


def test_a_big_publish_shows_progress_and_a_summary_rather_than_every_delivery(
    tmp_path: Path,
) -> None:
    origin = Origin()
    peer = Instance("big", users=tuple(f"u{n}" for n in range(60))).start()
    try:
        root = tmp_path / "site"
        yesterday = (NOW - timedelta(days=1)).date().isoformat()
        write_site(root, origin.base_url, {"hello": (yesterday, "Hello, neighbours.")})
        serve_actor(origin, root, NOW)
        with closing(connect(DataDir.for_site(root).database)) as conn:
            for user in peer.users:  # personal inboxes only: 60 deliveries
                FollowerStore(conn).add(
                    Follower(peer.actor(user), peer.inbox(user), None, None, NOW)
                )
        result = CliRunner().invoke(
            main,
            ["publish", str(root), "--workers", "4"],
            env={"COMMSITE_PROGRESS_INTERVAL": "0.01"},  # as in a CI log, often
        )
        assert result.exit_code == 0, result.output
        # Progress on stderr: "delivering 12/60 deliveries (20%), 0.3 s elapsed", and the time.
        assert re.search(r"^delivering \d+/60 deliveries \(\d+%\), ", result.stderr, re.M)
        assert re.search(r"^Took .*: delivering 60 deliveries ", result.stderr, re.M)
        lines = result.stdout.splitlines()
        assert not [line for line in lines if line.startswith("delivered ")]
        assert lines[-2].startswith("60 delivery attempts to 1 server in ")
        assert lines[-1] == "1 activity → 60 inboxes: 60 delivered"
        assert len(peer.received) == 60 and peer.rejected == []
        # -v lists every delivery, however many.
        write_story(root, "hello", yesterday, "Hello again, neighbours.")
        verbose = CliRunner().invoke(main, ["publish", str(root), "-v"])
        assert verbose.exit_code == 0, verbose.output
        assert (
            sum(line.startswith("delivered Update") for line in verbose.stdout.splitlines()) == 60
        )
    finally:
        peer.stop()
        origin.stop()
