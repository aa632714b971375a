"""A small Site built by hand from the model (no loader), for feed and federation tests.

Its titles carry the characters that break naive XML and JSON writers.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from commsite.config import CommunityConfig, FederationConfig, SiteConfig
from commsite.content.model import Event, Location, Member, Rules, Site, Story

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TRICKY = "Tools & <Tea> \"quoted\" 'single'"


def config(base_url: str = "https://example.org/", **changes: object) -> SiteConfig:
    base = SiteConfig(
        title="Riverside <Repair> & Café",
        base_url=base_url,
        description='Fixing things together, "mostly" on Saturdays',
        language="en",
        timezone="Europe/Berlin",
        community=CommunityConfig(
            handle="riverside",
            name="Riverside Repair Café",
            summary="We fix toasters & bikes. <Bring> yours!",
            avatar="images/avatar.png",
            header_image="images/header.jpg",
            actor_type="Group",
        ),
        federation=FederationConfig(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def site(
    base_url: str = "https://example.org/",
    public_key_pem: str | None = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
    **config_changes: object,
) -> Site:
    members = (
        Member(
            id="ada",
            name="Ada Lovelace",
            bio_html="<p>Engines.</p>",
            source="content/members/ada.md",
        ),
        Member(
            id="bo", name="Bo <B> & Co", bio_html="<p>Bikes.</p>", source="content/members/bo.md"
        ),
    )
    stories = (
        Story(
            slug="tricky-title",
            title=TRICKY,
            date=datetime(2026, 10, 20, 18, 30, tzinfo=BERLIN),
            body_html=(
                '<h2 id="what-happened">What happened</h2>\n'
                "<p>We fixed 12 things &amp; a "
                '<a href="/events/spring-repair-day/">kettle</a>.</p>\n'
                '<p><img src="/images/kettle.jpg" alt="A kettle"></p>\n'
                '<p>See <a href="#what-happened">above</a> or '
                '<a href="https://other.example/x?a=1&amp;b=2">elsewhere</a>.</p>\n'
            ),
            summary="We fixed 12 things & a kettle.",
            source="content/stories/2026-10-20-tricky-title.md",
            authors=("ada", "bo"),
            tags=("Repair Café", "kettles"),
            event="spring-repair-day",
            image="images/kettle.jpg",
            updated=datetime(2026, 10, 21, 9, 0, tzinfo=UTC),
        ),
        Story(
            slug="draft-story",
            title="Not yet",
            date=datetime(2026, 10, 10, tzinfo=BERLIN),
            body_html="<p>Secret.</p>",
            summary="Secret.",
            source="content/stories/draft-story.md",
            draft=True,
        ),
        Story(
            slug="hello",
            title="Hello, world",
            date=datetime(2026, 9, 1, tzinfo=BERLIN),
            body_html="<p>First post.</p>",
            summary="First post.",
            source="content/stories/2026-09-01-hello.md",
            authors=("ada",),
        ),
    )
    events = (
        Event(
            slug="spring-repair-day",
            title="Spring <Repair> Day & Tea",
            start=datetime(2026, 3, 14, 10, 0, tzinfo=BERLIN),
            end=datetime(2026, 3, 14, 16, 0, tzinfo=BERLIN),
            body_html='<p>Bring <a href="/rules/">the rules</a>.</p>',
            summary="Bring broken things.",
            source="content/events/2026-03-14-spring-repair-day.md",
            location=Location(name="Community Hall", address="1 Main St, Riverside"),
            hosts=("ada",),
            tags=("repair",),
        ),
        Event(
            slug="winter-swap",
            title="Winter swap",
            start=datetime(2026, 12, 5, 14, 0, tzinfo=UTC),
            end=datetime(2026, 12, 5, 17, 0, tzinfo=UTC),
            body_html="<p>Called off.</p>",
            summary="Swap warm clothes.",
            source="content/events/winter-swap.md",
            location=Location(name="Library"),
            status="cancelled",
        ),
        Event(
            slug="online-chat",
            title="Online chat",
            start=datetime(2027, 1, 9, 19, 0, tzinfo=BERLIN),
            body_html="<p>Video call.</p>",
            summary="",
            source="content/events/online-chat.md",
            online="https://meet.example/riverside",
            status="postponed",
        ),
    )
    rules = Rules(
        title="Rules",
        body_html='<ol><li id="rule-1">Be kind.</li></ol>',
        items=("Be kind.",),
        source="content/rules.md",
    )
    return Site(
        root="/nonexistent/site",
        config=config(base_url, **config_changes),
        now=NOW,
        stories=stories,
        members=members,
        events=events,
        rules=rules,
        public_key_pem=public_key_pem,
    )
