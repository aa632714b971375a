"""`commsite new member --from-introduction`: the newcomer's profile, from the store or a file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from commsite.cli import main
from commsite.content.loader import load_site
from commsite.content.newcomer import bio_stub, interests_from
from commsite.sidecar.store import Store

HOSTILE = (
    '<p><span class="h-card"><a href="https://fixers.example/ap/actor" class="u-url mention">'
    "@<span>fixers</span></a></span> Hi! I&#39;m Dan &amp; I fix radios.</p>"
    "<p># Not a heading</p><p>[click](javascript:alert(1)) &lt;script&gt;alert(2)&lt;/script&gt;"
    ' &lt;img src=x onerror=alert(3)&gt; *bold* <a href="https://tags/x">#introduction</a>'
    " #Soldering</p>"
)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "fixers"
    result = run("init", root, "--title", "Fixers", "--base-url", "https://fixers.example")
    assert result.exit_code == 0, result.output
    return root


def front_matter(path: Path) -> tuple[dict[str, object], str]:
    text = path.read_text(encoding="utf-8")
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end]), text[end + 5 :]


def export_file(site: Path, name: str = "3f2a9c1b0d4e") -> Path:
    folder = site / "interactions" / "introductions"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    meta = {
        "id": "https://radio.example/users/dan/statuses/1",
        "kind": "introduction",
        "author_name": "Dan <b>Ryder</b>",
        "author_handle": "@dan@radio.example",
        "author_url": "https://radio.example/@dan",
        "author_actor": "https://radio.example/users/dan",
        "published": "2026-11-20T23:30:00+00:00",
        "sensitive": False,
        "tags": ["introduction", "Soldering", "bike_repair", "soldering"],
    }
    path.write_text(f"---\n{yaml.safe_dump(meta)}---\n{HOSTILE}\n", encoding="utf-8")
    return path


def store_with_introduction(site: Path) -> None:
    store = Store(site / ".commsite" / "commsite.sqlite3")
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO inbox_actors (id, handle, name, fetched_at, webfinger)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                "https://social.radio.example/users/eve",
                "@eve@social.radio.example",
                "Eve :radio:",
                "2026-11-20T10:00:00+00:00",
                "@eve@radio.example",
            ),
        )
        conn.execute(
            "INSERT INTO inbox_items (ap_id, kind, actor, content_html, tags, published,"
            " status, received_at) VALUES (?, 'introduction', ?, ?, ?, ?, 'approved', ?)",
            (
                "https://social.radio.example/users/eve/statuses/9",
                "https://social.radio.example/users/eve",
                "<p>Hello! I knit and weld. #introduction #knitting #Welding</p>",
                json.dumps(["introduction", "knitting", "welding"]),
                "2026-10-02T08:00:00+00:00",
                "2026-10-02T08:00:01+00:00",
            ),
        )
    store.close()


def test_from_an_exported_file_prefilled_and_safe(site: Path) -> None:
    export_file(site)
    result = run("new", "member", "--from-introduction", "3f2a9c1b0d4e", site)
    assert result.exit_code == 0, result.output
    path = site / "content" / "members" / "dan-ryder.md"
    assert result.output.strip() == str(path)
    meta, body = front_matter(path)
    assert meta["name"] == "Dan Ryder"
    assert meta["handle"] == "@dan@radio.example"
    assert meta["interests"] == ["soldering", "bike_repair"]  # hashtags, once each, lowercased
    assert str(meta["joined"]) == "2026-11-20"
    assert "@fixers" not in body and "#introduction" not in body
    # Loaded and rendered, the stranger's text is text: no markup of theirs survives.
    loaded, diagnostics = load_site(site, now=datetime.now(UTC))
    assert loaded is not None, [d.format() for d in diagnostics]
    dan = next(m for m in loaded.members if m.id == "dan-ryder")
    for bad in ("<script", "<img", "href=", "<h1", "<strong", "<em", "<a "):
        assert bad not in dan.bio_html, dan.bio_html
    assert "I fix radios." in dan.bio_html and "# Not a heading" in dan.bio_html
    assert "&lt;script&gt;" in dan.bio_html and "*bold*" in dan.bio_html


def test_by_path_and_site_given_last(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = export_file(site)
    monkeypatch.chdir(tmp_path)
    result = run("new", "member", "--from-introduction", path, "Daniel R", site.name)
    assert result.exit_code == 0, result.output
    assert (site / "content" / "members" / "daniel-r.md").is_file()
    # The site alone after the reference is the site, not a name.
    (site / "content" / "members" / "daniel-r.md").unlink()
    result = run("new", "member", "--from-introduction", path, site.name)
    assert result.exit_code == 0, result.output
    assert (site / "content" / "members" / "dan-ryder.md").is_file()


def test_from_the_sidecar_store_by_number(site: Path) -> None:
    store_with_introduction(site)
    result = run("new", "member", "--from-introduction", "#1", site)
    assert result.exit_code == 0, result.output
    meta, body = front_matter(site / "content" / "members" / "eve-radio.md")
    assert meta["name"] == "Eve :radio:"
    assert meta["handle"] == "@eve@radio.example"  # the WebFinger handle people type
    assert meta["interests"] == ["knitting", "welding"]
    assert str(meta["joined"]) == "2026-10-02"
    assert "I knit and weld." in body


def test_never_overwrites_and_refuses_an_existing_member(site: Path) -> None:
    export_file(site)
    assert run("new", "member", "--from-introduction", "3f2a9c1b0d4e", site).exit_code == 0
    again = run("new", "member", "--from-introduction", "3f2a9c1b0d4e", "--slug", "dan2", site)
    assert again.exit_code == 1
    assert "@dan@radio.example is already a member: content/members/dan-ryder.md" in again.output
    path = site / "content" / "members" / "dan-ryder.md"
    path.write_text(path.read_text().replace("@dan@radio.example", "@other@x.example"))
    before = path.read_bytes()
    clash = run("new", "member", "--from-introduction", "3f2a9c1b0d4e", site)
    assert clash.exit_code == 1 and "already exists" in clash.output
    assert path.read_bytes() == before


def test_clear_errors(site: Path) -> None:
    no_store = run("new", "member", "--from-introduction", "4", site)
    assert no_store.exit_code == 1 and "no sidecar store" in no_store.output
    assert "interactions/introductions/" in no_store.output
    store_with_introduction(site)
    missing = run("new", "member", "--from-introduction", "4", site)
    assert missing.exit_code == 1 and "no introduction #4" in missing.output
    unknown = run("new", "member", "--from-introduction", "nonsense", site)
    assert unknown.exit_code == 1 and "no introduction 'nonsense'" in unknown.output
    story = run("new", "story", "--from-introduction", "1", site)
    assert story.exit_code == 2 and "cannot be used with `commsite new story`" in story.output
    no_title = run("new", "member")
    assert no_title.exit_code == 2 and "--from-introduction" in no_title.output


def test_interests_and_bio_stub_units() -> None:
    assert interests_from(["#Introduction", "#NewHere", "Bikes", "bikes", " #tea "]) == (
        "Bikes",
        "tea",
    )
    assert bio_stub("<p>- a list?</p><p>1. a rule</p><p>&gt; quote</p>") == (
        "\\- a list?\n\n\\1. a rule\n\n\\> quote"
    )
    assert bio_stub("<p>@repair hi</p>", community_handles=["@repair@fixers.example"]) == "hi"
    assert bio_stub("<p>#introduction</p>") == ""
    assert len(bio_stub("<p>" + "word " * 1000 + "</p>")) <= 1501
