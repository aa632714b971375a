"""A small Site built by hand from the model's dataclasses, for rendering tests.

Real objects, not mocks: what the loader would produce for a tiny community
whose texts contain the characters that break careless templates (<, &, quotes).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from commsite.config import CommunityConfig, FederationConfig, SiteConfig
from commsite.content.model import (
    Event,
    Interactions,
    Introduction,
    Location,
    Member,
    Page,
    Reaction,
    Reply,
    Rules,
    Site,
    Story,
)

TRICKY = 'Fish & "Chips" <Night>'
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Paris")
BASE = "https://repair.example/"
STORY_OBJECT = BASE + "ap/stories/"


def config(**overrides: object) -> SiteConfig:
    values: dict[str, object] = {
        "title": "Riverside Repair Café",
        "base_url": BASE,
        "description": "Neighbours fixing things together & sharing tea.",
        "language": "en-GB",
        "timezone": "Europe/Paris",
        "per_page": 2,
        "community": CommunityConfig(
            handle="repair",
            name="Riverside Repair Café",
            summary="We fix toasters, bikes and jumpers, and we never throw away a good chat.",
            avatar="images/logo.png",
        ),
        "federation": FederationConfig(enabled=True),
    }
    values.update(overrides)
    return SiteConfig(**values)  # type: ignore[arg-type]


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


MEMBERS = (
    Member(
        id="ada",
        name="Ada Okafor",
        bio_html="<p>Fixes radios. Grows tomatoes.</p>",
        source="content/members/ada.md",
        handle="@ada@social.example",
        pronouns="she/her",
        interests=("Gardening", "Electronics"),
        location="Riverside",
        joined=date(2024, 5, 1),
        roles=("organiser",),
        links=(("Website", "https://ada.example/"),),
        avatar="images/ada.png",
        summary="Fixes radios. Grows tomatoes.",
    ),
    Member(
        id="bo",
        name="Bo <Bold> Lindqvist",
        bio_html="<p>Bikes &amp; sourdough.</p>",
        source="content/members/bo.md",
        interests=("gardening", "Bikes", "Board games"),
        joined=date(2025, 9, 12),
        summary="Bikes & sourdough.",
    ),
    Member(
        id="cy",
        name="Cy Mbeki",
        bio_html="<p>Knits.</p>",
        source="content/members/cy.md",
        interests=("Knitting",),
        summary="Knits.",
    ),
)

EVENTS = (
    Event(
        slug="winter-fix",
        title="Winter Fix-up",
        start=local(2026, 1, 10, 10),
        end=local(2026, 1, 10, 16),
        body_html="<p>We fixed 40 things.</p>",
        summary="We fixed 40 things.",
        source="content/events/2026-01-10-winter-fix.md",
        location=Location("Community Hall", "1 River Road", "https://maps.example/hall"),
        hosts=("ada",),
        tags=("repair",),
    ),
    Event(
        slug="spring-repair-day",
        title=TRICKY + " repair day",
        start=local(2026, 3, 14, 10),
        end=local(2026, 3, 14, 16),
        body_html="<p>Bring your broken things.</p>",
        summary="Bring your broken things.",
        source="content/events/2026-03-14-spring-repair-day.md",
        location=Location("Community Hall", "1 River Road"),
        online="https://video.example/room",
        hosts=("ada", "bo"),
        capacity=30,
        tags=("Repair", "spring"),
    ),
    Event(
        slug="bike-clinic",
        title="Bike clinic",
        start=local(2026, 4, 2, 18),
        body_html="<p>Sorry!</p>",
        summary="Sorry!",
        source="content/events/2026-04-02-bike-clinic.md",
        status="cancelled",
        hosts=("bo",),
    ),
    Event(
        slug="knit-in",
        title="Knit-in",
        start=local(2026, 5, 2, 14),
        body_html="<p>Later.</p>",
        summary="Later.",
        source="content/events/2026-05-02-knit-in.md",
        status="postponed",
        online="https://video.example/knit",
    ),
)

STORIES = (
    Story(
        slug="future-plans",
        title="Future plans",
        date=local(2026, 4, 1, 9),
        body_html="<p>Soon.</p>",
        summary="Soon.",
        source="content/stories/future-plans.md",
        future=True,
    ),
    Story(
        slug="tricky",
        title=TRICKY,
        date=local(2026, 2, 20, 18, 30),
        body_html="<p>Body with <em>HTML</em>.</p>",
        summary='Summary with <, & and "quotes"',
        source="content/stories/2026-02-20-tricky.md",
        authors=("ada", "bo"),
        tags=("Food", "Board Games"),
        image="images/chips.jpg",
    ),
    Story(
        slug="winter-recap",
        title="Winter Fix-up recap",
        date=local(2026, 1, 12),
        body_html="<p>What a day.</p>",
        summary="What a day.",
        source="content/stories/2026-01-12-winter-recap.md",
        authors=("ada",),
        tags=("repair", "food"),
        event="winter-fix",
    ),
    Story(
        slug="draft-idea",
        title="Half an idea",
        date=local(2026, 1, 2),
        body_html="<p>Hmm.</p>",
        summary="Hmm.",
        source="content/stories/draft-idea.md",
        draft=True,
    ),
    Story(
        slug="hello",
        title="Hello, neighbours",
        date=local(2025, 12, 1),
        body_html="<p>We exist!</p>",
        summary="We exist!",
        source="content/stories/hello.md",
        authors=("cy",),
    ),
)

RULES = Rules(
    title="Code of conduct",
    body_html=(
        '<p>Be kind.</p>\n<ol>\n<li id="rule-1">Be patient.</li>\n'
        '<li id="rule-2">Ask before you touch.</li>\n</ol>\n'
    ),
    items=("Be patient.", "Ask before you touch."),
    source="content/rules.md",
    updated=date(2026, 1, 1),
)

PAGES = (
    Page(
        slug="about",
        title="About us",
        body_html="<p>Since 2024.</p>",
        summary="Since 2024.",
        source="content/pages/about.md",
    ),
)


def _reply(n: int, parent: str, **kw: object) -> Reply:
    values: dict[str, object] = {
        "id": f"https://social.example/notes/{n}",
        "target": "stories/tricky",
        "in_reply_to": parent,
        "author_name": f"Replier {n}",
        "author_handle": f"@r{n}@social.example",
        "author_url": f"https://social.example/@r{n}",
        "content_html": f"<p>Reply number {n}</p>",
        "published": NOW - timedelta(days=10 - n),
        "source": f"interactions/replies/{n}.json",
    }
    values.update(kw)
    return Reply(**values)  # type: ignore[arg-type]


INTERACTIONS = Interactions(
    replies=(
        _reply(1, STORY_OBJECT + "tricky"),
        _reply(2, "https://social.example/notes/1"),
        _reply(3, "https://social.example/notes/2", summary="spoilers <b>", sensitive=True),
        _reply(4, BASE + "stories/tricky/", author_name='Eve "&" <Co>'),
        _reply(5, STORY_OBJECT + "spring-repair-day", target="events/spring-repair-day"),
    ),
    introductions=(
        Introduction(
            id="https://social.example/notes/90",
            author_name="Newcomer Nia",
            author_handle="@nia@social.example",
            author_url="https://social.example/@nia",
            content_html="<p>Hi! I love #gardening and #boardgames.</p>",
            published=NOW - timedelta(days=1),
            source="interactions/introductions/90.json",
            tags=("introduction", "gardening", "boardgames"),
        ),
    ),
    reactions=(Reaction("stories/tricky", likes=7, boosts=3),),
)


def site(**overrides: object) -> Site:
    values: dict[str, object] = {
        "root": "/nonexistent/site",
        "config": config(),
        "now": NOW,
        "stories": STORIES,
        "members": tuple(sorted(MEMBERS, key=lambda m: (m.name, m.id))),
        "events": EVENTS,
        "rules": RULES,
        "pages": PAGES,
        "interactions": INTERACTIONS,
        "public_key_pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    }
    values.update(overrides)
    return Site(**values)  # type: ignore[arg-type]
