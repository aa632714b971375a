"""Editing one story in a 500-story site re-renders only what shows that story.

Asserted through the build's own record of what it rendered and wrote
(BuildResult and .commsite/build-cache/last-build.json), with the same
Builder that `commsite serve` keeps between saves.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from commsite.build.run import Builder, BuildOptions

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
INTERESTS = ["repair", "bikes", "sewing", "electronics", "gardening"]


def _make_site(root: Path, stories: int) -> None:
    (root / "content" / "stories").mkdir(parents=True)
    (root / "content" / "members").mkdir()
    (root / "content" / "events").mkdir()
    (root / "commsite.yaml").write_text(
        "title: Big Community\nbase_url: https://big.example/\ntimezone: Europe/London\n",
        encoding="utf-8",
    )
    (root / "content" / "rules.md").write_text(
        "---\ntitle: Rules\n---\n1. Be kind.\n2. Share tools.\n", encoding="utf-8"
    )
    for m in range(50):
        interest = INTERESTS[m % len(INTERESTS)]
        (root / "content" / "members" / f"m{m:02d}.md").write_text(
            f"---\nname: Member {m}\ninterests: [{interest}]\n---\nBio of member {m}.\n",
            encoding="utf-8",
        )
    for e in range(25):
        (
            root / "content" / "events" / f"2026-{e % 12 + 1:02d}-{e % 27 + 1:02d}-ev{e}.md"
        ).write_text(
            f"---\ntitle: Event {e}\nstart: 2026-{e % 12 + 1:02d}-{e % 27 + 1:02d}T18:00:00\n"
            f"hosts: [m{e:02d}]\n---\nEvent {e}.\n",
            encoding="utf-8",
        )
    for s in range(stories):
        day = s % 28 + 1
        month = s // 28 % 12 + 1
        year = 2020 + s // (28 * 12)
        (root / "content" / "stories" / f"{year}-{month:02d}-{day:02d}-s{s:03d}.md").write_text(
            f"---\ntitle: Story {s}\ndate: {year}-{month:02d}-{day:02d}\n"
            f"author: m{s % 50:02d}\ntags: [t{s % 7}]\n---\n"
            f"Paragraph one of story {s}, about *things*.\n\n- a list\n- of items\n",
            encoding="utf-8",
        )


def _edit(root: Path, story: int, old: str, new: str) -> Path:
    """Replace `old` by `new` in story number `story`; its file."""
    path = next((root / "content" / "stories").glob(f"*-s{story:03d}.md"))
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return path


def test_one_story_edit_rerenders_only_what_shows_it(tmp_path: Path) -> None:
    root = tmp_path / "site"
    _make_site(root, 500)
    builder = Builder(BuildOptions(root=root, jobs=1))
    first = builder.build(now=NOW)
    assert first.ok, [d.format() for d in first.diagnostics]
    member_pages = {p for p in first.rendered if p.startswith("members/m")}
    story_pages = {p for p in first.rendered if p.startswith("stories/s")}
    assert len(member_pages) == 50 and len(story_pages) == 500

    # Story 123 is by member m23, tagged t4; edit its text (not its title or date).
    edited = _edit(root, 123, "Paragraph one", "Edited paragraph")
    second = builder.build([edited], now=NOW)
    assert second.ok
    rendered = set(second.rendered)

    assert "stories/s123/index.html" in rendered
    assert "stories/s123/index.html" in second.written
    # Unrelated pages were not re-rendered: other stories, members, events, tags.
    assert not (rendered & (story_pages - {"stories/s123/index.html"}))
    assert not (rendered & member_pages)
    assert not [p for p in rendered if p.startswith(("events/", "tags/t0", "rules/"))]
    # A small handful at most: the story, and outputs embedding its text (feeds, its object).
    print("re-rendered after one story edit:", sorted(rendered))
    assert len(rendered) < 12, sorted(rendered)

    record = json.loads(
        (root / ".commsite" / "build-cache" / "last-build.json").read_text(encoding="utf-8")
    )
    assert set(record["rendered"]) == rendered
    assert set(record["written"]) == set(second.written)

    # A fresh Builder (a new `commsite build`) sees the same output: nothing to do.
    third = Builder(BuildOptions(root=root, jobs=1)).build(now=NOW)
    assert third.ok and third.written == ()


def test_a_tag_pages_its_stories_and_a_retitle_remakes_only_the_first_page(
    tmp_path: Path,
) -> None:
    root = tmp_path / "site"
    _make_site(root, 140)  # tagged t{s % 7}: 20 stories a tag, 10 a page (per_page)
    builder = Builder(BuildOptions(root=root, jobs=1))
    first = builder.build(now=NOW)
    assert first.ok, [d.format() for d in first.diagnostics]
    public = root / "public"
    one = (public / "tags" / "t6" / "index.html").read_text(encoding="utf-8")
    two = (public / "tags" / "t6" / "page" / "2" / "index.html").read_text(encoding="utf-8")
    assert not (public / "tags" / "t6" / "page" / "3").exists()
    assert one.count('class="card story-card') == 10 == two.count('class="card story-card')
    assert '<a href="/tags/t6/page/2/" rel="next">' in one
    assert '<a href="/tags/t6/" rel="prev">' in two
    assert "page 2 of 2" in two and "page 2 of 2" not in one
    # The first page lists the tag's newest stories: story 139 is the newest (t6).
    assert "Story 139" in one and "Story 139" not in two
    sitemap = (public / "sitemap.xml").read_text(encoding="utf-8")
    assert "https://big.example/tags/t6/page/2/" in sitemap

    newest = _edit(root, 139, "title: Story 139", "title: Story 139, retold")
    second = builder.build([newest], now=NOW)
    assert second.ok
    assert "tags/t6/index.html" in second.rendered
    assert "tags/t6/page/2/index.html" not in second.rendered, sorted(second.rendered)
    assert "Story 139, retold" in (public / "tags" / "t6" / "index.html").read_text("utf-8")
