"""Connections you can see (issue 16 point 4): the interests pages, interests linked
from cards, profiles and tag pages, the members directory by interest, and the home
page's new people and latest conversations. And the follow handle's markup (point 5;
its behaviour in a browser is in test_follow_browser.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

import sample_site
from commsite import urls
from commsite.content.loader import RESERVED_PAGE_SLUGS
from commsite.content.model import Introduction, Site
from commsite.feeds.sitemap import sitemap
from commsite.render.home import HOME_CONVERSATIONS
from commsite.render.pages import plan_pages
from commsite.render.threads import anchor_id
from test_render_pages import member_site, pages, parse, render_all, text


def flat(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def section(html: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by `heading_id`."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start : html.index("</section>", start)]


def test_interest_pages_list_members_stories_and_events() -> None:
    rendered = pages()
    # Bo is into "Board games"; the story "tricky" is tagged "Board Games": one topic.
    board = rendered["interests/board-games/"]
    doc = parse(board)
    assert "Into Board games" in text(board)
    members = parse(section(board, "interest-members"))
    assert members.find("a", href="/members/bo/")
    assert not members.find("a", href="/members/ada/")
    assert doc.find("a", href="/stories/tricky/")
    assert doc.find("a", href="/tags/board-games/", rel="tag")  # the tag page of the same topic
    # Gardening: Ada ("Gardening") and Bo ("gardening"), sorted by name; no story tagged.
    garden = rendered["interests/gardening/"]
    names = re.findall(r'class="card__title"><a href="/members/(\w+)/"', garden)
    assert names == ["ada", "bo"]
    assert 'aria-labelledby="interest-stories"' not in garden
    assert not parse(garden).find("a", rel="tag")
    # The repair events are tagged "repair"/"Repair", but no member is into it: no page.
    assert "interests/repair/" not in rendered


def test_the_interests_index_counts_members() -> None:
    html = rendered_index = pages()["interests/"]
    words = text(rendered_index)
    assert "Bikes 1 member" in words
    assert "Gardening 2 members" in words  # two spellings, one page, the first in sort order
    order = re.findall(r'<a href="/interests/([^/]+)/">', html)
    assert order == ["bikes", "board-games", "electronics", "gardening", "knitting"]


def test_interests_link_from_cards_profiles_and_tag_pages() -> None:
    rendered = pages()
    directory = rendered["members/"]
    bo_card = flat(directory).split('data-interests="gardening bikes board-games"')[1]
    bo_card = bo_card[: bo_card.index("</article>")]
    assert (
        'Into <a href="/interests/gardening/">gardening</a>, <a href="/interests/bikes/">Bikes</a>'
        in bo_card
    )
    profile = parse(rendered["members/ada/"])
    assert profile.find("a", href="/interests/gardening/")
    assert profile.find("a", href="/interests/electronics/")
    tag = section(rendered["tags/board-games/"], "tag-members")
    assert parse(tag).find("a", href="/members/bo/")
    assert parse(tag).find("a", href="/interests/board-games/")
    assert 'aria-labelledby="tag-members"' not in rendered["tags/repair/"]


def test_the_directory_narrows_by_interest_without_javascript() -> None:
    html = pages()["members/"]
    links = section(html, "by-interest-heading")
    for slug in ("bikes", "board-games", "electronics", "gardening", "knitting"):
        assert parse(links).find("a", href=f"/interests/{slug}/"), slug
    # The filter is there for the script to show, hidden until then, and labelled.
    assert '<div class="member-filter" data-member-filter hidden>' in links
    assert '<label for="member-filter-interest">' in links
    assert '<option value="board-games">Board games</option>' in links
    assert 'role="status" aria-live="polite"' in links


def test_hostile_interests_are_escaped_and_slugged() -> None:
    site = sample_site.site()
    evil = replace(
        site.members[2], interests=('"><script>alert(1)</script>', "javascript:alert(1)")
    )
    rendered = render_all(replace(site, members=(site.members[0], site.members[1], evil)))
    for path, html in rendered.items():
        assert "<script>alert" not in html, path
        assert 'href="javascript:' not in html, path
    assert "interests/script-alert-1-script/" in rendered
    assert "interests/javascript-alert-1/" in rendered
    card = rendered["members/"]
    assert 'data-interests="script-alert-1-script javascript-alert-1"' in card
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in card


def test_interests_is_a_reserved_page_slug() -> None:
    assert "interests" in RESERVED_PAGE_SLUGS


def test_interest_pages_are_in_the_sitemap() -> None:
    site = sample_site.site()
    xml = sitemap(site, [s.path for s in plan_pages(site)]).decode()
    assert "<loc>https://repair.example/interests/</loc>" in xml
    assert "<loc>https://repair.example/interests/board-games/</loc>" in xml
    assert urls.interest_page("Board Games") == "interests/board-games/"


def test_home_shows_who_is_new_with_who_shares_their_interests() -> None:
    html = render_all(member_site())[""]
    new = flat(section(html, "newcomers-heading"))
    items = new.split('<li class="card people-feed__item">')[1:]
    # Ada's introduction (a day old, like Nia's, but later in id order) and Nia's.
    ada = next(i for i in items if "/members/ada/" in i.split("reply__date")[0])
    assert "badge--member" in ada
    matches = text(ada[ada.index("Shares interests") :])
    assert "Ada Okafor" not in matches  # never suggested to herself
    assert "Bo <Bold> Lindqvist (gardening)" in matches
    nia = next(i for i in items if "Newcomer Nia" in i)
    assert "Ada Okafor (Gardening)" in text(nia[nia.index("Shares interests") :])
    assert "Hi! I love #gardening and #boardgames." in text(nia)
    assert f'href="/welcome/#{anchor_id("intro", "https://social.example/notes/90")}"' in nia


def test_who_is_new_shows_the_newest_three_and_folds_warnings() -> None:
    site = sample_site.site()
    intros = tuple(
        Introduction(
            id=f"https://social.example/notes/i{n}",
            author_name=f"New {n}",
            author_handle=f"@n{n}@social.example",
            author_url=f"https://social.example/@n{n}",
            content_html=f"<p>Secret {n}</p>",
            published=sample_site.NOW - timedelta(hours=n),
            source=f"interactions/introductions/i{n}.json",
            tags=("introduction",),
            summary="about me" if n == 1 else None,
        )
        for n in range(1, 6)
    )
    interactions = replace(site.interactions, introductions=intros)
    new = text(
        section(render_all(replace(site, interactions=interactions))[""], "newcomers-heading")
    )
    assert [int(n) for n in re.findall(r"New (\d)", new)] == [1, 2, 3]
    assert "CW: about me" in new and "Secret 1" not in new
    assert "Secret 2" in new


def test_no_new_people_without_federation() -> None:
    from commsite.config import FederationConfig

    site = sample_site.site(config=sample_site.config(federation=FederationConfig(enabled=False)))
    assert 'aria-labelledby="newcomers-heading"' not in render_all(site)[""]


def test_home_shows_the_latest_conversations() -> None:
    html = render_all(member_site())[""]
    talk = flat(section(html, "conversations-heading"))
    items = talk.split('<li class="card people-feed__item">')[1:]
    assert len(items) == HOME_CONVERSATIONS
    # Newest first: replies 7 (Priya, a member), 6 (Ada), 5 (on the event), 4, 3.
    assert '<a href="/members/priya/"><strong>Priya</strong>' in items[0]
    assert '<a href="/members/ada/"><strong>Ada Okafor</strong>' in items[1]
    tricky = sample_site.TRICKY.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f'On <a href="/stories/tricky/">{tricky.replace(chr(34), "&#34;")}</a>' in items[1]
    reply6 = anchor_id("reply", "https://social.example/notes/6")
    assert f'href="/stories/tricky/#{reply6}"' in items[1]
    assert 'On <a href="/events/spring-repair-day/">' in items[2]
    assert "CW: spoilers &lt;b&gt;" in items[4] and "Reply number 3" not in items[4]


def test_replies_to_pages_this_build_leaves_out_are_not_shown() -> None:
    site = sample_site.site()
    stories = tuple(s for s in site.stories if s.slug != "tricky")
    html = render_all(replace(site, stories=stories))[""]
    talk = section(html, "conversations-heading")
    assert "/stories/tricky/" not in talk
    assert 'On <a href="/events/spring-repair-day/">' in talk  # reply 5, on the event


@pytest.mark.parametrize("path", ["", "members/ada/", "welcome/", "rules/"])
def test_the_handle_may_wrap_only_between_its_parts(path: str) -> None:
    html = pages()[path]
    handles = re.findall(r'class="[^"]*\bhandle\b[^"]*">(.*?)</(?:code|strong|p|span)>', html)
    assert handles, path
    parts = '<span class="handle__part">@repair</span><wbr><span class="handle__part">'
    assert parts in html, path


def test_copy_buttons_and_the_follow_form_wait_for_the_script() -> None:
    home = pages()[""]
    button = (
        '<button class="copy-button" type="button" data-copy="@repair@repair.example" hidden>'
        'Copy<span class="visually-hidden"> the handle</span></button>'
    )
    assert home.count(button) == 2  # the follow box and the footer
    assert pages()["rules/"].count(button) == 1  # the footer
    form = home[home.index("<form") : home.index("</form>")]
    assert 'data-remote-follow data-handle="@repair@repair.example" hidden' in form
    assert '<label for="remote-follow-instance">' in form
    assert "action=" not in form  # nothing to send without the script
    # Without the script, the box still says what to do.
    assert "Search for our handle in your Mastodon app" in home


def test_a_site_without_federation_has_no_handle_to_copy() -> None:
    from commsite.config import FederationConfig

    site: Site = sample_site.site(
        config=sample_site.config(federation=FederationConfig(enabled=False))
    )
    for path, html in render_all(site).items():
        assert "data-copy=" not in html and "data-remote-follow" not in html, path


def test_a_big_interest_page_shows_the_newest_and_links_to_the_tag() -> None:
    from commsite.render.interests import INTEREST_STORIES

    site = sample_site.site()
    many = tuple(
        replace(
            site.stories[2],
            slug=f"knit-{n:02}",
            title=f"Knitting night {n:02}",
            date=site.stories[2].date - timedelta(days=n),
            tags=("knitting",),
            event=None,
            source=f"content/stories/knit-{n:02}.md",
        )
        for n in range(INTEREST_STORIES + 3)
    )
    html = render_all(replace(site, stories=(*site.stories, *many)))["interests/knitting/"]
    shown = re.findall(r'href="/stories/(knit-\d\d)/"', html)
    assert shown == [f"knit-{n:02}" for n in range(INTEREST_STORIES)]  # the newest
    assert f"All {INTEREST_STORIES + 3} stories and events tagged #knitting" in text(html)
