"""Rendered pages contain what they must, correctly escaped."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

import sample_site
from commsite import urls
from commsite.content.model import Interactions, Site
from commsite.render.pages import plan_pages
from commsite.render.renderer import Renderer
from commsite.render.said import SAID_LIMIT
from commsite.render.theme import resolve_theme
from commsite.render.threads import anchor_id

TRICKY_ESCAPED = "Fish &amp; &#34;Chips&#34; &lt;Night&gt;"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted.items())
        ]


@cache
def renderer() -> Renderer:
    return Renderer(resolve_theme(Path("/nonexistent"), sample_site.config()))


def render_all(site: Site) -> dict[str, str]:
    r = renderer()
    return {s.path: r.render(s).decode("utf-8") for s in plan_pages(site)}


@cache
def pages() -> dict[str, str]:
    return render_all(sample_site.site())


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def text(html: str) -> str:
    return " ".join("".join(parse(html).text).split())


def test_every_page_has_the_head_it_needs() -> None:
    for path, html in pages().items():
        assert html.startswith("<!doctype html>\n"), path
        doc = parse(html)
        assert doc.find("html", lang="en-GB"), path
        assert len(doc.find("title")) == 1, path
        assert doc.find("meta", name="description")[0]["content"], path
        (canonical,) = doc.find("link", rel="canonical")
        assert canonical["href"] == "https://repair.example/" + path.removesuffix("index.html")
        for prop in ("og:title", "og:description", "og:url", "og:type", "og:site_name"):
            assert doc.find("meta", property=prop), (path, prop)
        atom = doc.find("link", rel="alternate", type="application/atom+xml")
        assert atom[0]["href"] == "https://repair.example/feed.xml", path
        jsonfeed = doc.find("link", rel="alternate", type="application/feed+json")
        assert jsonfeed[0]["href"] == "https://repair.example/feed.json", path
        assert doc.find("main", id="main"), path
        assert doc.find("a", href="#main"), path  # the skip link
        for tag in ("header", "nav", "footer"):
            assert doc.find(tag), (path, tag)


def test_no_requests_to_other_hosts() -> None:
    for path, html in pages().items():
        doc = parse(html)
        for tag, attr in (("img", "src"), ("link", "href"), ("script", "src")):
            for a in doc.find(tag):
                if tag == "link" and a.get("rel") in ("canonical", "alternate", "prev", "next"):
                    continue
                assert str(a[attr]).startswith("/"), (path, tag, a)
        # One script, the theme's own (progressive enhancements), and nothing inline;
        # the search page also loads Pagefind's.
        scripts = re.findall(r"<script\b[^>]*>", html)
        if path != urls.SEARCH:
            assert scripts == ['<script src="/assets/site.js" defer>'], path
            assert html.count("</script>") == 1, path


def test_titles_with_markup_characters_are_escaped() -> None:
    html = pages()["stories/tricky/"]
    assert f"<title>{TRICKY_ESCAPED} · Riverside Repair Café</title>" in html
    assert f"<h1>{TRICKY_ESCAPED}</h1>" in html
    assert f'<meta property="og:title" content="{TRICKY_ESCAPED}">' in html
    assert "<Night>" not in html
    assert "Summary with &lt;, &amp; and &#34;quotes&#34;" in html
    assert "Bo &lt;Bold&gt; Lindqvist" in html
    assert "Eve &#34;&amp;&#34; &lt;Co&gt;" in html  # a reply's author name
    assert "<p>Body with <em>HTML</em>.</p>" in html  # the body is trusted HTML
    for path, page in pages().items():
        assert "<Bold>" not in page, path
        assert "<Night>" not in page, path


def test_story_page() -> None:
    html = pages()["stories/tricky/"]
    doc = parse(html)
    assert doc.find("a", href="/members/ada/")
    assert doc.find("a", href="/members/bo/")
    assert doc.find("a", href="/tags/board-games/", rel="tag")
    assert doc.find("a", href="/stories/winter-recap/", rel="prev")
    assert doc.find("a", href="/stories/future-plans/", rel="next")
    assert doc.find("img", src="/images/chips.jpg", alt=sample_site.TRICKY)
    assert doc.find("meta", property="og:image", content="https://repair.example/images/chips.jpg")
    assert doc.find("meta", property="og:type", content="article")
    assert doc.find(
        "link",
        rel="alternate",
        type="application/activity+json",
        href="https://repair.example/ap/stories/tricky",
    )
    assert doc.find("time", datetime="2026-02-20T18:30:00+01:00")
    recap = parse(pages()["stories/winter-recap/"])
    assert recap.find("a", href="/events/winter-fix/")


def test_threaded_replies_render_nested_with_content_warnings() -> None:
    html = pages()["stories/tricky/"]
    flat = re.sub(r"\s+", " ", html)
    # r1 > r2 > r3 nested: three <ol class="replies"> open before r3's content.
    r1 = flat.index("Reply number 1")
    r2 = flat.index("Reply number 2")
    r3 = flat.index("Reply number 3")
    r4 = flat.index("Reply number 4")
    assert r1 < r2 < r3 < r4
    between = flat[r1:r3]
    assert between.count('<ol class="replies">') == 2
    assert "</ol>" not in between
    assert flat[r3:r4].count("</ol>") == 2  # back to the top level before r4
    cw = flat[flat.index("<details", r2) : r3]
    assert "<summary>CW: spoilers &lt;b&gt;</summary>" in cw
    assert "4 replies" in text(html)
    assert "7 likes" in text(html)
    assert "3 boosts" in text(html)
    assert parse(html).find("a", href="https://social.example/@r1", rel="nofollow ugc")
    assert "Reply from Mastodon" in html
    assert "https://repair.example/stories/tricky/" in text(html)


def test_draft_and_scheduled_banners() -> None:
    assert "Draft" in text(pages()["stories/draft-idea/"])
    assert "Scheduled" in text(pages()["stories/future-plans/"])
    assert "Draft" not in text(pages()["stories/hello/"])
    assert parse(pages()["stories/draft-idea/"]).find("meta", name="robots", content="noindex")


def test_home_page() -> None:
    html = pages()[""]
    doc = parse(html)
    words = text(html)
    assert "Follow us from Mastodon" in words
    assert "@repair@repair.example" in words
    assert doc.find(
        "link",
        rel="alternate",
        type="application/activity+json",
        href="https://repair.example/ap/actor",
    )
    assert doc.find("a", href="/events/spring-repair-day/")
    assert doc.find("a", href="/stories/tricky/")
    assert doc.find("a", href="/members/bo/")
    assert doc.find("meta", property="og:image", content="https://repair.example/images/logo.png")


def test_home_without_federation_has_no_follow_box() -> None:
    from commsite.config import FederationConfig

    site = sample_site.site(config=sample_site.config(federation=FederationConfig(enabled=False)))
    html = render_all(site)[""]
    assert "Follow us from Mastodon" not in html
    assert "activity+json" not in html
    assert "Reply from Mastodon" not in render_all(site)["stories/tricky/"]


def test_member_profile_links_shared_interests() -> None:
    html = pages()["members/ada/"]
    words = text(html)
    assert "Also into Gardening: Bo <Bold> Lindqvist" in words
    doc = parse(html)
    assert doc.find("a", href="/members/bo/")
    assert doc.find("a", href="https://social.example/@ada", rel="me")
    assert doc.find("img", src="/images/ada.png", alt="Ada Okafor")
    assert "she/her" in words
    assert "organiser" in words
    assert doc.find("a", href="/stories/tricky/")
    assert doc.find("a", href="/events/spring-repair-day/")
    assert doc.find("a", href="https://ada.example/")


def test_events_page_marks_cancelled_and_postponed_in_text() -> None:
    html = pages()["events/"]
    words = text(html)
    assert "Cancelled Bike clinic" in words
    assert "Postponed Knit-in" in words
    assert words.index("Upcoming") < words.index("Past events")
    assert "Saturday 14 March 2026, 10:00–16:00 CET" in words
    assert parse(html).find("a", href="/stories/winter-recap/")  # a past event's recap


def test_event_page() -> None:
    html = pages()["events/spring-repair-day/"]
    doc = parse(html)
    words = text(html)
    assert "Community Hall" in words
    assert "1 River Road" in words
    assert "30 places" in words
    assert doc.find("a", href="https://video.example/room")
    assert doc.find("a", href="/events.ics")
    assert doc.find("a", href="/members/ada/")
    assert doc.find("time", datetime="2026-03-14T10:00:00+01:00")
    cancelled = text(pages()["events/bike-clinic/"])
    assert "Cancelled — this event will not take place." in cancelled
    past = parse(pages()["events/winter-fix/"])
    assert past.find("a", href="/stories/winter-recap/")
    assert past.find("a", href="https://maps.example/hall")


def test_event_page_links_its_own_calendar_only_when_the_build_writes_it() -> None:
    def downloads(html: str) -> list[str | None]:
        return [a["href"] for a in parse(html).find("a") if "download" in a]

    site = sample_site.site()
    r = renderer()
    own = {s.path: r.render(s).decode("utf-8") for s in plan_pages(site, event_calendars=True)}
    assert downloads(own["events/spring-repair-day/"]) == ["/events/spring-repair-day/event.ics"]
    # Without them (the default), the link is the whole calendar, as before.
    assert downloads(pages()["events/spring-repair-day/"]) == ["/events.ics"]
    assert "event.ics" not in pages()["events/spring-repair-day/"]


def test_rules_keep_their_anchors() -> None:
    doc = parse(pages()["rules/"])
    assert doc.find("li", id="rule-1")
    assert doc.find("li", id="rule-2")
    assert doc.find("a", href="#rule-2", aria_label="Link to rule 2")


def test_tag_pages() -> None:
    assert parse(pages()["tags/"]).find("a", href="/tags/board-games/")
    doc = parse(pages()["tags/repair/"])
    assert doc.find("a", href="/stories/winter-recap/")
    assert doc.find("a", href="/events/winter-fix/")


@pytest.mark.parametrize("off", ["disabled", "no key"])
def test_no_welcome_wall_without_federation(off: str) -> None:
    from commsite.config import FederationConfig
    from commsite.feeds.sitemap import sitemap

    if off == "disabled":
        site = sample_site.site(
            config=sample_site.config(federation=FederationConfig(enabled=False))
        )
    else:
        site = sample_site.site(public_key_pem=None)
    specs = plan_pages(site)
    assert "welcome/" not in {s.path for s in specs}
    rendered = render_all(site)
    for path, html in rendered.items():
        assert not parse(html).find("a", href="/welcome/"), path
        assert "welcome wall" not in html.lower(), path
    # The build gives the sitemap the planned paths (build/plan.py).
    assert b"repair.example/welcome/" not in sitemap(site, [s.path for s in specs])
    # With federation on, the wall, its nav link and the home page's links (the
    # follow box's, and the "Who is new" section's) are there.
    doc = parse(pages()[""])
    assert len(doc.find("a", href="/welcome/")) == 3


def test_welcome_wall() -> None:
    words = text(pages()["welcome/"])
    assert "Newcomer Nia" in words
    assert "Shares interests with: Ada Okafor (Gardening), Bo <Bold> Lindqvist" in words


def test_paginated_lists_have_rel_links() -> None:
    doc = parse(pages()["stories/page/2/"])
    assert doc.find("link", rel="prev", href="https://repair.example/stories/")
    assert doc.find("link", rel="next", href="https://repair.example/stories/page/3/")
    assert doc.find("a", rel="prev", href="/stories/")
    assert doc.find("a", href="/stories/page/2/", aria_current="page")


@pytest.mark.parametrize("path", ["404.html", "about/"])
def test_simple_pages(path: str) -> None:
    html = pages()[path]
    assert parse(html).find("h1")


def test_unknown_author_shows_as_text() -> None:
    site = sample_site.site()
    stories = tuple(
        replace(s, authors=("ghost",)) if s.slug == "hello" else s for s in site.stories
    )
    html = render_all(replace(site, stories=stories))["stories/hello/"]
    assert "by ghost" in text(html)


def test_an_empty_community_renders_every_page() -> None:
    site = sample_site.site(
        stories=(), members=(), events=(), pages=(), interactions=Interactions()
    )
    rendered = render_all(site)
    assert set(rendered) == {
        "",
        "404.html",
        "events/",
        "interests/",
        "members/",
        "rules/",
        "search/",
        "stories/",
        "tags/",
        "welcome/",
    }
    assert "Nothing planned yet" in text(rendered[""])
    assert "No member has listed an interest yet." in text(rendered["interests/"])
    assert "No stories yet." in text(rendered["stories/"])
    assert "No introductions yet." in text(rendered["welcome/"])


def member_site() -> Site:
    """Ada (a member, @ada@social.example) replies and introduces herself; Priya
    speaks from a server whose handles name its parent domain (FEP-2c59)."""
    site = sample_site.site()
    priya = replace(site.members[2], id="priya", name="Priya", handle="@priya@threads.example")
    ada_reply = sample_site._reply(
        6,
        "https://social.example/notes/1",
        author_name="ada",
        author_handle="@Ada@Social.Example",
        author_url="https://social.example/@ada",
        author_actor="https://social.example/users/ada",
    )
    priya_reply = sample_site._reply(
        7,
        "https://social.example/notes/6",
        author_name="P",
        author_handle="@priya@social.threads.example",
        author_url="https://social.threads.example/@priya",
        author_webfinger="@priya@threads.example",
    )
    intro = replace(
        site.interactions.introductions[0],
        id="https://social.example/notes/91",
        author_name="ada",
        author_handle="@ada@social.example",
        author_url="https://social.example/@ada",
        tags=("introduction", "gardening", "electronics"),
    )
    interactions = replace(
        site.interactions,
        replies=(*site.interactions.replies, ada_reply, priya_reply),
        introductions=(*site.interactions.introductions, intro),
    )
    return replace(site, members=(*site.members, priya), interactions=interactions)


def test_a_members_reply_and_introduction_show_as_theirs() -> None:
    rendered = render_all(member_site())
    story = rendered["stories/tricky/"]
    flat = re.sub(r"\s+", " ", story)
    ada = flat[: flat.index("Reply number 6")].rsplit("<li", 1)[1]
    assert '<a href="/members/ada/"><strong>Ada Okafor</strong>' in ada
    assert '<img class="avatar" src="/images/ada.png" alt=""' in ada
    assert (
        'class="badge badge--member">Member<span class="visually-hidden"> of this community' in ada
    )
    assert "social.example/@ada" not in ada and "avatar--initial" not in ada
    priya = flat[: flat.index("Reply number 7")].rsplit("<li", 1)[1]
    assert '<a href="/members/priya/"><strong>Priya</strong>' in priya and "Member" in priya
    other = flat[: flat.index("Reply number 1")].rsplit("<li", 1)[1]
    assert "badge--member" not in other and 'href="https://social.example/@r1"' in other

    wall = rendered["welcome/"]
    intro = re.sub(r"\s+", " ", wall).split('id="intro-')
    ada_intro = next(i for i in intro if "/members/ada/" in i and "badge--member" in i)
    matches = text(ada_intro[ada_intro.index("Shares interests") :])
    assert "Ada Okafor" not in matches  # never suggested to herself
    assert "Bo <Bold> Lindqvist (gardening)" in matches
    nia = next(i for i in intro if "Newcomer Nia" in i)
    assert "Ada Okafor (Gardening)" in text(nia[nia.index("Shares interests") :])


def test_a_member_profile_lists_what_they_said() -> None:
    html = render_all(member_site())["members/ada/"]
    words = text(html)
    assert "What Ada Okafor said on the site 2 posts" in words
    doc = parse(html)
    assert doc.find(
        "a", href="/stories/tricky/#" + anchor_id("reply", "https://social.example/notes/6")
    )
    assert doc.find("a", href="/welcome/#" + anchor_id("intro", "https://social.example/notes/91"))
    # newest first: the introduction (a day old) before the reply
    assert words.index("Introduced themselves on the welcome wall") < words.index("Replied on")
    assert "said on the site" not in text(render_all(member_site())["members/bo/"])


def test_a_member_profile_lists_at_most_the_newest_said() -> None:
    site = member_site()
    many = tuple(
        sample_site._reply(
            100 + n, sample_site.STORY_OBJECT + "tricky", author_handle="@ada@social.example"
        )
        for n in range(SAID_LIMIT + 3)
    )
    site = replace(site, interactions=replace(site.interactions, replies=many))
    html = render_all(site)["members/ada/"]
    assert f"{SAID_LIMIT + 4} posts, the newest {SAID_LIMIT} below" in text(html)
    assert len(parse(html).find("p", class_="said__excerpt")) == SAID_LIMIT
