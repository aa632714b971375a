"""Rule N is the rule the reader sees numbered N: a rules list written from 3
gets the anchors rule-3, rule-4, and `--rule` cites those numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsite.build.run import BuildOptions, build_site
from commsite.cli import main
from commsite.content.loader import load_site
from commsite.content.parse import parse_file
from commsite.markdown import render_markdown
from commsite.sidecar.store import Store
from sidecar_peer import write_site

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def site_with_rules(root: Path, rules: str) -> Path:
    write_site(root, "https://x.example/")
    (root / "content" / "rules.md").write_text(f"---\ntitle: Rules\n---\n{rules}", encoding="utf-8")
    return root


def built_rules_page(root: Path, *, cache: bool = False) -> str:
    result = build_site(BuildOptions(root=root, jobs=1, cache=cache), now=NOW)
    assert result.ok, [d.format() for d in result.diagnostics]
    return (root / "public" / "rules" / "index.html").read_text(encoding="utf-8")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


# --- markdown, parse, model -------------------------------------------------------


def test_anchors_follow_the_list_start() -> None:
    r = render_markdown("Intro.\n\n3. Be kind\n4. No ads\n", rule_anchors=True)
    assert r.rule_start == 3
    assert r.rule_items == ("Be kind", "No ads")
    assert '<ol start="3">\n<li id="rule-3">Be kind</li>\n<li id="rule-4">No ads</li>' in r.html
    assert "rule-1" not in r.html and "rule-2" not in r.html


@pytest.mark.parametrize(
    ("text", "start", "ids"),
    [
        ("1. a\n2. b\n", 1, ["rule-1", "rule-2"]),
        ("0. a\n1. b\n", 0, ["rule-0", "rule-1"]),
        ("7) a\n7) b\n7) c\n", 7, ["rule-7", "rule-8", "rule-9"]),  # as CommonMark numbers them
        ("999999999. a\n", 999999999, ["rule-999999999"]),  # nine digits, the most allowed
    ],
)
def test_the_start_as_commonmark_reads_it(text: str, start: int, ids: list[str]) -> None:
    r = render_markdown(text, rule_anchors=True)
    assert r.rule_start == start
    assert [f'<li id="{i}">' in r.html for i in ids] == [True] * len(ids)
    assert r.html.count('<li id="rule-') == len(ids)


def test_without_a_list_the_start_is_one() -> None:
    assert render_markdown("No list here.\n", rule_anchors=True).rule_start == 1


def test_parsed_file_and_rules_model_carry_the_start(tmp_path: Path) -> None:
    p = parse_file("rules", "content/rules.md", b"---\ntitle: R\n---\n3. Be kind\n4. No ads\n")
    assert p.ok and p.rule_start == 3 and p.rule_items == ("Be kind", "No ads")
    site, diagnostics = load_site(site_with_rules(tmp_path, "3. Be kind\n4. No ads\n"), now=NOW)
    assert site is not None, diagnostics
    assert site.rules.first == 3
    assert site.rules.numbers == range(3, 5)


# --- the built /rules/ page ----------------------------------------------------------


def test_rules_page_anchors_from_three(tmp_path: Path) -> None:
    html = built_rules_page(site_with_rules(tmp_path, "3. Be kind\n4. No ads\n"))
    assert 'id="rule-3"' in html and 'id="rule-4"' in html
    assert 'href="#rule-4"' in html and 'aria-label="Link to rule 4"' in html
    assert 'id="rule-1"' not in html and 'id="rule-2"' not in html
    # The theme numbers the rules with a CSS counter: it must count from 3 too.
    assert '<ol start="3" style="counter-reset: rule 2">' in html


def test_rules_page_anchors_from_three_survive_the_build_cache(tmp_path: Path) -> None:
    root = site_with_rules(tmp_path, "3. Be kind\n4. No ads\n")
    first = built_rules_page(root, cache=True)
    (root / "public" / "rules" / "index.html").unlink()
    assert built_rules_page(root, cache=True) == first
    assert 'id="rule-3"' in first


def test_rules_page_from_one_is_unchanged(tmp_path: Path) -> None:
    html = built_rules_page(site_with_rules(tmp_path, "1. Be kind\n2. No ads\n3. On topic\n"))
    assert [f'id="rule-{n}"' in html for n in (1, 2, 3)] == [True, True, True]
    assert "<ol>\n<li id=" in html and "counter-reset" not in html


def test_rules_page_from_zero(tmp_path: Path) -> None:
    html = built_rules_page(site_with_rules(tmp_path, "0. Be kind\n1. No ads\n"))
    assert 'id="rule-0"' in html and 'id="rule-1"' in html and 'id="rule-2"' not in html
    assert '<ol start="0" style="counter-reset: rule -1">' in html


# --- commsite moderate --rule ----------------------------------------------------------


@pytest.fixture
def moderated(tmp_path: Path) -> Path:
    """A site whose rules are numbered 3 and 4, and one reply waiting."""
    site_with_rules(tmp_path, "3. Be kind\n4. No ads\n")
    store = Store(tmp_path / ".commsite" / "commsite.sqlite3")
    actor = "https://r.example/users/bob"
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_actors (id, handle, name, fetched_at)"
            " VALUES (?, '@bob@r.example', 'bob', 'x')",
            (actor,),
        )
        conn.execute(
            "INSERT INTO inbox_items (ap_id, kind, actor, target, in_reply_to, content_html,"
            " published, status, hold_reason, received_at)"
            " VALUES (?, 'reply', ?, 'stories/first-meetup', 'https://x/ap/stories/first-meetup',"
            " '<p>buy now</p>', '2026-11-20T10:00:00+00:00', 'pending', 'held',"
            " '2026-11-20T10:00:01+00:00')",
            (f"{actor}/statuses/1", actor),
        )
    store.close()
    return tmp_path


def test_rule_four_is_accepted(moderated: Path) -> None:
    assert run("moderate", "reject", "-s", str(moderated), "1", "--rule", "4") == (
        0,
        "rejected #1\n",
    )
    assert run("moderate", "log", "-s", str(moderated))[1].endswith(" reject 1 (rule 4)\n")


@pytest.mark.parametrize("rule", ["1", "2", "5"])
def test_a_number_the_list_does_not_show_is_refused(moderated: Path, rule: str) -> None:
    code, out = run("moderate", "reject", "-s", str(moderated), "1", "--rule", rule)
    assert code == 2
    assert f"rules.md numbers its rules 3 to 4; there is no rule {rule}" in out
    assert run("moderate", "log", "-s", str(moderated))[1] == ""


def test_a_single_rule_and_rule_zero(tmp_path: Path) -> None:
    site_with_rules(tmp_path, "0. Be kind\n")
    code, out = run("moderate", "block-domain", "-s", str(tmp_path), "bad.example", "--rule", "1")
    assert code == 2
    assert "rules.md has one rule, rule 0; there is no rule 1" in out
    code, _ = run("moderate", "block-domain", "-s", str(tmp_path), "bad.example", "--rule", "0")
    assert code == 0
