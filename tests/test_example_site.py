"""The bundled example site (example_site/) loads cleanly and exercises the whole contract.

Other tests build and check the example's output; these make sure the content
itself stays what they rely on: no diagnostics at all, the counts below, drafts
and future stories left out by default, and every kind of key in use.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from commsite.content.loader import load_site
from commsite.content.model import Site

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
# A fixed "now" keeps the past/upcoming split stable; the upcoming events are
# dated 2027-2029 and the future story 2030, so real time agrees until 2027.
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

STORY_KEYS = {"title", "date", "authors", "author", "tags", "summary", "event", "image", "slug"}
STORY_KEYS |= {"draft", "image_alt"}
MEMBER_KEYS = {
    "name", "handle", "pronouns", "interests", "location", "joined", "roles", "links", "avatar",
}  # fmt: skip
EVENT_KEYS = {
    "title", "start", "end", "location", "online", "hosts", "capacity", "status", "tags", "slug",
}  # fmt: skip


def front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), path
    data = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
    assert isinstance(data, dict), path
    return data


@pytest.fixture(scope="module")
def site() -> Site:
    loaded, diagnostics = load_site(EXAMPLE, now=NOW)
    assert [d.format() for d in diagnostics] == []
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def everything() -> Site:
    loaded, diagnostics = load_site(EXAMPLE, now=NOW, drafts=True, future=True)
    assert [d.format() for d in diagnostics] == []
    assert loaded is not None
    return loaded


def test_loads_without_errors_or_warnings_today() -> None:
    loaded, diagnostics = load_site(EXAMPLE, now=datetime.now(UTC))
    assert [d.format() for d in diagnostics] == []
    assert loaded is not None


def test_front_matter_uses_only_contract_keys() -> None:
    for folder, allowed in (
        ("stories", STORY_KEYS),
        ("members", MEMBER_KEYS),
        ("events", EVENT_KEYS),
    ):
        files = sorted((EXAMPLE / "content" / folder).glob("*.md"))
        assert files, folder
        for path in files:
            assert set(front_matter(path)) <= allowed, path
    assert set(front_matter(EXAMPLE / "content" / "rules.md")) == {"title", "updated"}


def test_config(site: Site) -> None:
    config = site.config
    assert config.title == "Fixers of Eastfield"
    assert config.base_url == "https://fixers.example/"
    assert config.description
    assert config.language == "en"
    assert config.timezone == "Europe/London"
    assert config.per_page == 5
    assert config.community.handle == "fixers"
    assert config.community.name and config.community.summary
    assert config.community.avatar is not None
    assert (EXAMPLE / "static" / config.community.avatar).is_file()
    assert config.moderation.approve == "members"
    assert config.fediverse_handle == "@fixers@fixers.example"


def test_counts(site: Site) -> None:
    assert len(site.stories) == 15
    assert len(site.members) == 13
    assert len(site.events) == 9
    assert {p.slug for p in site.pages} == {"about", "join"}


def test_draft_and_future_stories_are_left_out_by_default(site: Site, everything: Site) -> None:
    default = {s.slug for s in site.stories}
    assert "volunteer-rota-for-december" not in default
    assert "five-years-of-fixing" not in default
    extra = {s.slug for s in everything.stories} - default
    assert extra == {"volunteer-rota-for-december", "five-years-of-fixing"}
    by_slug = {s.slug: s for s in everything.stories}
    assert by_slug["volunteer-rota-for-december"].draft
    assert by_slug["five-years-of-fixing"].date.year == 2030


def test_stories_vary(site: Site) -> None:
    stories = site.stories
    assert any(len(s.authors) > 1 for s in stories), "some stories have an authors list"
    assert any(len(s.authors) == 1 for s in stories), "some stories have one author"
    assert sum(1 for s in stories if s.tags) >= 10
    assert [s.slug for s in stories if s.image] == [
        "how-to-true-a-bicycle-wheel",
        "the-tool-library-opens",
    ]
    assert all(s.image_alt for s in stories if s.image)
    for story in stories:
        if story.image:
            assert (EXAMPLE / "static" / story.image).is_file()
    # A title that must be escaped in HTML, XML and JSON.
    assert any(set(s.title) >= {"&", "<", '"'} for s in stories)
    # Stories are real prose, not stubs.
    for story in stories:
        words = len(re.sub(r"<[^>]+>", " ", story.body_html).split())
        assert 150 <= words <= 600, (story.slug, words)


def test_markdown_features_are_used(site: Site) -> None:
    html = "\n".join(s.body_html for s in site.stories)
    assert "<table" in html
    assert "<blockquote" in html
    assert "<figure>" in html
    assert "<pre" in html
    assert 'type="checkbox"' in html
    assert "<s>" in html or "<del>" in html
    assert "footnote" in html
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in (EXAMPLE / "content" / "stories").glob("*.md")
    )
    for language in ("cpp", "python", "bash"):
        assert f"```{language}\n" in sources


def test_events_cover_the_lifecycle(site: Site) -> None:
    upcoming = [e for e in site.events if e.finishes > NOW]
    past = [e for e in site.events if e.finishes <= NOW]
    assert len(upcoming) == 5 and len(past) == 4
    assert all(e.start.year >= 2027 for e in upcoming)
    statuses = {e.status for e in site.events}
    assert statuses == {"scheduled", "cancelled", "postponed"}
    online_only = [e for e in site.events if e.online and e.location is None]
    assert [e.slug for e in online_only] == ["online-laptop-clinic"]
    assert any(e.location and e.location.address and e.location.url for e in site.events)
    assert any(e.location and not e.location.address for e in site.events)
    assert any(e.end is None for e in site.events)
    assert any(e.end is not None for e in site.events)
    assert any(e.capacity for e in site.events)
    assert all(e.hosts for e in site.events)
    member_ids = {m.id for m in site.members}
    assert all(set(e.hosts) <= member_ids for e in site.events)
    # Events with and without an explicit UTC offset in their files.
    texts = [p.read_text() for p in (EXAMPLE / "content" / "events").glob("*.md")]
    assert any(re.search(r"^start: \S+[+-]\d\d:\d\d$", t, re.M) for t in texts)
    assert any(re.search(r"^start: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", t, re.M) for t in texts)
    # The slug key overrides the file name's id.
    assert "spring-repair-day-2027" in {e.slug for e in site.events}


def test_past_events_have_recaps(site: Site) -> None:
    events = {e.slug: e for e in site.events}
    recaps = [s for s in site.stories if s.event]
    assert len(recaps) >= 3
    for story in recaps:
        assert story.event in events
        assert events[story.event].finishes <= NOW, story.slug


def test_members(site: Site) -> None:
    members = site.members
    assert all(m.bio_html for m in members)
    with_handle = [m for m in members if m.handle]
    assert len(with_handle) >= 12
    for member in with_handle:
        assert member.handle is not None
        assert re.fullmatch(r"@[\w.]+@[\w.-]+\.example", member.handle)
    avatars = [m for m in members if m.avatar]
    assert len(avatars) >= 3
    for member in avatars:
        assert member.avatar is not None
        assert (EXAMPLE / "static" / member.avatar).is_file()
    assert any("organiser" in m.roles for m in members)
    assert any("host" in m.roles for m in members)
    assert all(m.pronouns and m.interests and m.joined for m in members)
    # Interests overlap, so profiles can link members who share one.
    counts: dict[str, int] = {}
    for member in members:
        for interest in member.interests:
            counts[interest] = counts.get(interest, 0) + 1
    assert sum(1 for n in counts.values() if n >= 2) >= 5
    assert any(m.links for m in members)


def test_rules_and_pages(site: Site) -> None:
    assert 6 <= len(site.rules.items) <= 8
    assert site.rules.updated is not None
    assert 'id="rule-1"' in site.rules.body_html
    join = next(p for p in site.pages if p.slug == "join")
    assert "@fixers@fixers.example" in join.body_html
    assert "#introduction" in join.body_html


def test_public_key_only(site: Site) -> None:
    assert site.public_key_pem is not None
    key = load_pem_public_key(site.public_key_pem.encode("ascii"))
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048
    assert site.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    for path in EXAMPLE.rglob("*"):
        if path.is_file() and path.suffix in {".pem", ".key", ".yaml", ".md", ""}:
            assert "PRIVATE KEY" not in path.read_text(encoding="utf-8", errors="replace"), path


def test_layout() -> None:
    ignored = (EXAMPLE / ".gitignore").read_text(encoding="utf-8").split()
    assert "public/" in ignored and ".commsite/" in ignored
    assert (EXAMPLE / "interactions" / "reactions.yaml").is_file()
    images = sorted((EXAMPLE / "static").rglob("*.*"))
    assert len(images) >= 6
    for image in images:
        data = image.read_bytes()
        assert len(data) < 30_000, image
        if image.suffix == ".png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n"), image
        elif image.suffix == ".svg":
            assert b"<svg" in data and b"<title" in data, image


def test_interactions_show_every_part_before_a_sidecar_runs(site: Site) -> None:
    """Replies (from members and not, nested, edited, behind a content warning),
    introductions (a member's and a newcomer's) and counts, as the export writes them."""
    from commsite.render.lookups import index_site

    found = site.interactions
    assert {r.target for r in found.replies} >= {
        "stories/plans-for-the-winter",
        "stories/tea-and-soldering-recap",
        "events/spring-repair-day-2027",
    }
    ids = {r.id for r in found.replies}
    assert any(r.in_reply_to in ids for r in found.replies)  # a reply to a reply
    assert any(r.updated for r in found.replies)
    assert any(r.summary and r.sensitive for r in found.replies)
    assert len(found.introductions) == 2 and found.reactions
    authors = index_site(site).interactions.authors
    by_id = {i.id: authors.get(i.id) for i in (*found.replies, *found.introductions)}
    assert {"ada-okafor", "dev-patel", "priya-raman", None} <= set(by_id.values())
    # the export's own format: every file names its actor, as the sidecar writes it
    for path in (EXAMPLE / "interactions").rglob("*.md"):
        assert "author_actor" in front_matter(path), path
