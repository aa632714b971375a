"""Views and the page plan as pure functions of a hand-built Site."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import sample_site
from commsite import urls
from commsite.config import FederationConfig
from commsite.render.dates import date_view, when_view
from commsite.render.pages import PageSpec, all_tags, plan_pages
from commsite.render.threads import ReplyView
from commsite.render.viewclass import view
from commsite.slugs import slugify, tag_key


def spec(specs: list[PageSpec], path: str) -> PageSpec:
    found = [s for s in specs if s.path == path]
    assert len(found) == 1, f"{path!r} planned {len(found)} times"
    return found[0]


@pytest.mark.parametrize(
    ("tag", "slug"),
    [
        ("Board Games", "board-games"),
        ("board-games", "board-games"),
        ("Café & Crêpes!", "cafe-crepes"),
        ("  --C++--  ", "c"),
        ("2026", "2026"),
    ],
)
def test_slugify(tag: str, slug: str) -> None:
    assert slugify(tag) == slug
    assert slugify(slug) == slug


def test_slugify_never_empty_and_is_stable() -> None:
    assert slugify("日本") == slugify("日本")
    assert slugify("日本").startswith("tag-")
    assert slugify("日本") != slugify("中文")


def test_tag_key_matches_hashtags_to_interests() -> None:
    assert tag_key("Board games") == tag_key("boardgames") == tag_key("#BoardGames")


def test_urls_tag_page_uses_the_slug() -> None:
    assert urls.tag_page("Board Games") == "tags/board-games/"
    assert urls.tag_page("board-games") == "tags/board-games/"


def test_dates_in_the_site_time_zone() -> None:
    paris = ZoneInfo("Europe/Paris")
    when = when_view(
        datetime(2026, 3, 14, 9, 0, tzinfo=UTC), datetime(2026, 3, 14, 15, 0, tzinfo=UTC), paris
    )
    assert when.text == "Saturday 14 March 2026, 10:00–16:00 CET"
    assert when.start_iso == "2026-03-14T10:00:00+01:00"
    assert when.end_iso == "2026-03-14T16:00:00+01:00"
    assert (when.day, when.month, when.weekday) == ("14", "Mar", "Sat")
    summer = date_view(datetime(2026, 7, 1, 8, 30, tzinfo=UTC), paris)
    assert summer.long == "Wednesday 1 July 2026, 10:30 CEST"
    assert summer.text == "1 July 2026"


def test_when_spanning_days() -> None:
    tz = ZoneInfo("UTC")
    when = when_view(
        datetime(2026, 3, 14, 18, tzinfo=UTC), datetime(2026, 3, 15, 2, tzinfo=UTC), tz
    )
    assert when.text == "Saturday 14 March 2026, 18:00 UTC – Sunday 15 March 2026, 02:00 UTC"


def test_plan_covers_the_url_table_sorted() -> None:
    specs = plan_pages(sample_site.site())
    paths = [s.path for s in specs]
    assert paths == sorted(paths)
    assert len(paths) == len(set(paths))
    expected = {
        "",
        "404.html",
        "about/",
        "welcome/",
        "rules/",
        "stories/",
        "stories/page/2/",
        "stories/page/3/",
        "stories/tricky/",
        "stories/draft-idea/",
        "tags/",
        "tags/board-games/",
        "tags/food/",
        "tags/repair/",
        "tags/spring/",
        "members/",
        "members/ada/",
        "members/bo/",
        "members/cy/",
        "events/",
        "events/spring-repair-day/",
        "events/bike-clinic/",
    }
    assert expected <= set(paths)
    assert "stories/page/4/" not in paths  # 5 stories, 2 a page


def test_contexts_are_picklable_and_repr_is_deterministic() -> None:
    first = plan_pages(sample_site.site())
    second = plan_pages(sample_site.site())
    assert [repr(s.context) for s in first] == [repr(s.context) for s in second]
    for s in first:
        assert pickle.loads(pickle.dumps(s)) == s
        assert "object at 0x" not in repr(s.context)


def test_member_page_does_not_change_when_an_unrelated_story_does() -> None:
    site = sample_site.site()
    stories = tuple(
        replace(s, title="Renamed", body_html="<p>new</p>") if s.slug == "hello" else s
        for s in site.stories
    )
    before = {s.path: repr(s.context) for s in plan_pages(site)}
    after = {s.path: repr(s.context) for s in plan_pages(replace(site, stories=stories))}
    changed = {p for p in before if before[p] != after[p]}
    # hello is by cy: its page, cy's page, the lists it is on, and its neighbour.
    assert "members/ada/" not in changed
    assert "members/bo/" not in changed
    assert "events/winter-fix/" not in changed
    assert "rules/" not in changed
    assert "stories/hello/" in changed
    assert "members/cy/" in changed


def test_story_view() -> None:
    specs = plan_pages(sample_site.site())
    story = spec(specs, "stories/tricky/").context["story"]
    assert story.title == sample_site.TRICKY  # type: ignore[attr-defined]
    assert [a.url for a in story.authors] == ["/members/ada/", "/members/bo/"]  # type: ignore[attr-defined]
    assert [t.url for t in story.tags] == ["/tags/food/", "/tags/board-games/"]  # type: ignore[attr-defined]
    assert story.newer.url == "/stories/future-plans/"  # type: ignore[attr-defined]
    assert story.older.url == "/stories/winter-recap/"  # type: ignore[attr-defined]
    recap = spec(specs, "stories/winter-recap/").context["story"]
    assert recap.event.url == "/events/winter-fix/"  # type: ignore[attr-defined]


def test_threaded_replies_and_counts() -> None:
    story = spec(plan_pages(sample_site.site()), "stories/tricky/").context["story"]
    thread = story.thread  # type: ignore[attr-defined]
    assert (thread.count, thread.likes, thread.boosts) == (4, 7, 3)
    top = thread.replies
    assert [r.author_handle for r in top] == ["@r1@social.example", "@r4@social.example"]
    nested: ReplyView = top[0].replies[0].replies[0]
    assert nested.author_handle == "@r3@social.example"
    assert nested.warning == "spoilers <b>"
    assert thread.object_url == "https://repair.example/stories/tricky/"
    event = spec(plan_pages(sample_site.site()), "events/spring-repair-day/").context["event"]
    assert event.thread.count == 1  # type: ignore[attr-defined]


def test_reply_cycles_do_not_loop_or_lose_replies() -> None:
    site = sample_site.site()
    a = sample_site._reply(1, "https://social.example/notes/2")
    b = sample_site._reply(2, "https://social.example/notes/1")
    site = replace(site, interactions=replace(site.interactions, replies=(a, b)))
    thread = spec(plan_pages(site), "stories/tricky/").context["story"].thread  # type: ignore[attr-defined]
    assert thread.count == 2
    assert len(thread.replies) == 2


def test_interests_link_the_other_members_case_insensitively() -> None:
    member = spec(plan_pages(sample_site.site()), "members/ada/").context["member"]
    gardening = member.interests[0]  # type: ignore[attr-defined]
    assert gardening.name == "Gardening"
    assert [(p.name, p.url) for p in gardening.others] == [("Bo <Bold> Lindqvist", "/members/bo/")]
    assert member.interests[1].others == ()  # type: ignore[attr-defined]
    assert [s.url for s in member.stories] == ["/stories/tricky/", "/stories/winter-recap/"]  # type: ignore[attr-defined]
    assert [e.url for e in member.events] == ["/events/spring-repair-day/", "/events/winter-fix/"]  # type: ignore[attr-defined]


def test_events_upcoming_soonest_first_then_past_newest_first() -> None:
    ctx = spec(plan_pages(sample_site.site()), "events/").context
    assert [e.url for e in ctx["upcoming"]] == [  # type: ignore[attr-defined]
        "/events/spring-repair-day/",
        "/events/bike-clinic/",
        "/events/knit-in/",
    ]
    past = ctx["past"]
    assert [e.url for e in past] == ["/events/winter-fix/"]  # type: ignore[attr-defined]
    assert past[0].recaps[0].url == "/stories/winter-recap/"  # type: ignore[index]
    labels = [e.status_label for e in ctx["upcoming"]]  # type: ignore[attr-defined]
    assert labels == [None, "Cancelled", "Postponed"]


def test_tags_merge_spellings_and_include_events() -> None:
    site = sample_site.site()
    assert all_tags(site) == {
        "board-games": "Board Games",
        "food": "Food",
        "repair": "repair",
        "spring": "spring",
    }
    repair = spec(plan_pages(site), "tags/repair/").context
    assert [s.url for s in repair["stories"]] == ["/stories/winter-recap/"]  # type: ignore[attr-defined]
    assert [e.url for e in repair["events"]] == [  # type: ignore[attr-defined]
        "/events/spring-repair-day/",
        "/events/winter-fix/",
    ]


def test_pagination() -> None:
    specs = plan_pages(sample_site.site())
    first = spec(specs, "stories/").context
    second = spec(specs, "stories/page/2/").context
    last = spec(specs, "stories/page/3/").context
    assert first["pagination"].prev is None  # type: ignore[attr-defined]
    assert first["pagination"].next == "/stories/page/2/"  # type: ignore[attr-defined]
    assert second["pagination"].prev == "/stories/"  # type: ignore[attr-defined]
    assert second["meta"].prev == "https://repair.example/stories/"  # type: ignore[attr-defined]
    assert second["meta"].next == "https://repair.example/stories/page/3/"  # type: ignore[attr-defined]
    assert last["pagination"].next is None  # type: ignore[attr-defined]
    assert len(last["stories"]) == 1  # type: ignore[arg-type]


def test_no_stories_still_has_a_stories_page() -> None:
    specs = plan_pages(sample_site.site(stories=()))
    assert [s.path for s in specs if s.path.startswith("stories")] == ["stories/"]


def test_welcome_wall_matches_interests() -> None:
    ctx = spec(plan_pages(sample_site.site()), "welcome/").context
    (intro,) = ctx["introductions"]  # type: ignore[misc]
    assert intro.tags == ("gardening", "boardgames")
    assert [(m.name, m.interests) for m in intro.matches] == [
        ("Ada Okafor", ("Gardening",)),
        ("Bo <Bold> Lindqvist", ("gardening", "Board games")),
    ]


def test_activity_json_links_need_federation_and_a_key() -> None:
    site = sample_site.site()
    meta = spec(plan_pages(site), "stories/tricky/").context["meta"]
    assert meta.activity_json == "https://repair.example/ap/stories/tricky"  # type: ignore[attr-defined]
    home = spec(plan_pages(site), "").context["meta"]
    assert home.activity_json == "https://repair.example/ap/actor"  # type: ignore[attr-defined]
    event = spec(plan_pages(site), "events/bike-clinic/").context["meta"]
    assert event.activity_json == "https://repair.example/ap/events/bike-clinic"  # type: ignore[attr-defined]
    no_key = plan_pages(replace(site, public_key_pem=None))  # nothing to follow yet
    assert spec(no_key, "").context["meta"].activity_json is None  # type: ignore[attr-defined]
    assert spec(no_key, "").context["community"].handle is None  # type: ignore[attr-defined]
    assert spec(no_key, "").context["chrome"].handle is None  # type: ignore[attr-defined]
    off = replace(site, config=sample_site.config(federation=FederationConfig(enabled=False)))
    specs = plan_pages(off)
    assert spec(specs, "stories/tricky/").context["meta"].activity_json is None  # type: ignore[attr-defined]
    assert spec(specs, "").context["community"].handle is None  # type: ignore[attr-defined]
    assert spec(specs, "stories/tricky/").context["story"].thread.federated is False  # type: ignore[attr-defined]


def test_links_follow_the_base_path() -> None:
    site = sample_site.site(config=sample_site.config(base_url="https://example.org/club/"))
    specs = plan_pages(site)
    story = spec(specs, "stories/tricky/").context
    assert story["story"].url == "/club/stories/tricky/"  # type: ignore[attr-defined]
    assert story["meta"].canonical == "https://example.org/club/stories/tricky/"  # type: ignore[attr-defined]
    assert story["story"].image.url == "/club/images/chips.jpg"  # type: ignore[attr-defined]
    assert story["meta"].og_image == "https://example.org/club/images/chips.jpg"  # type: ignore[attr-defined]
    assert story["chrome"].home_url == "/club/"  # type: ignore[attr-defined]


def test_drafts_and_scheduled_stories_are_not_offered_to_the_fediverse() -> None:
    specs = plan_pages(sample_site.site())
    for path in ("stories/draft-idea/", "stories/future-plans/"):
        ctx = spec(specs, path).context
        assert ctx["meta"].activity_json is None  # type: ignore[attr-defined]
        assert ctx["meta"].noindex is True  # type: ignore[attr-defined]
        assert ctx["story"].thread.federated is False  # type: ignore[attr-defined]


def test_meta_description_is_clipped_at_a_word() -> None:
    story = replace(sample_site.STORIES[1], summary="word " * 100)
    site = sample_site.site(stories=(story,))
    meta = spec(plan_pages(site), "stories/tricky/").context["meta"]
    assert len(meta.description) <= 300  # type: ignore[attr-defined]
    assert meta.description.endswith("word…")  # type: ignore[attr-defined]


def _only_views(value: object, where: str) -> None:
    if value is None or isinstance(value, str | int | bool):
        return
    if isinstance(value, tuple):
        for n, item in enumerate(value):
            _only_views(item, f"{where}[{n}]")
        return
    assert dataclasses.is_dataclass(value) and not isinstance(value, type), where
    params = type(value).__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen, f"{where}: {type(value).__name__} is not frozen"
    for f in dataclasses.fields(value):
        _only_views(getattr(value, f.name), f"{where}.{f.name}")


def test_contexts_hold_only_views() -> None:
    for s in plan_pages(sample_site.site()):
        assert isinstance(s.context, Mapping)  # a dict, or a LazyContext making one
        for key, value in s.context.items():
            _only_views(value, f"{s.path or '/'}:{key}")


def test_a_view_is_a_frozen_slotted_dataclass_with_the_dataclass_repr() -> None:
    @view
    class Card:
        title: str
        tags: tuple[str, ...]

    @dataclasses.dataclass(frozen=True, slots=True)
    class Plain:
        title: str
        tags: tuple[str, ...]

    card, plain = Card("It's “fixed”", ("a", "b")), Plain("It's “fixed”", ("a", "b"))
    # Fingerprints read this text: it must stay exactly what dataclasses write.
    assert repr(card).replace(".Card(", ".X(") == repr(plain).replace(".Plain(", ".X(")
    assert dataclasses.is_dataclass(card) and not hasattr(card, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.title = "other"  # type: ignore[misc]
