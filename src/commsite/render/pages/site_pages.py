"""The pages about the community as a whole: home, rules, the free pages, the
welcome wall, search and 404.html."""

from __future__ import annotations

from commsite import urls
from commsite.content.model import Member
from commsite.render.cards import federation_on, href, image_view, member_card, rules_view
from commsite.render.head import meta_view
from commsite.render.home import (
    HOME_CONVERSATIONS,
    HOME_NEWCOMERS,
    conversation_views,
    interest_owners,
    newcomer_views,
)
from commsite.render.pages.reads import SiteReads
from commsite.render.pages.spec import PageSpec, recorded_spec
from commsite.render.threads import introduction_views
from commsite.render.views import CommunityView, PageView, SearchView

__all__ = [
    "HOME_EVENTS",
    "HOME_MEMBERS",
    "HOME_STORIES",
    "free_page",
    "home_page",
    "not_found_page",
    "rules_page",
    "search_page",
    "welcome_page",
]

HOME_STORIES = 6
HOME_EVENTS = 4
HOME_MEMBERS = 8


def _community(reads: SiteReads) -> CommunityView:
    site = reads.site
    config = site.config
    community = config.community
    return CommunityView(
        name=community.name or config.title,
        summary=community.summary or config.description,
        avatar=image_view(config, community.avatar, community.name or config.title),
        handle=config.fediverse_handle if federation_on(site) else None,
        member_count=len(reads.members),
        story_count=reads.story_count(),
    )


def _joined(member: Member) -> tuple[bool, int, str, str]:
    """Newest member first (by the day they joined; those with none last)."""
    joined = member.joined
    return (joined is None, -(joined.toordinal() if joined else 0), member.name, member.id)


def home_page(reads: SiteReads) -> PageSpec:
    site = reads.site
    config = site.config
    federates = federation_on(site)
    newest = sorted(reads.members, key=_joined)[:HOME_MEMBERS]
    return recorded_spec(
        reads,
        urls.HOME,
        "home.html",
        meta=meta_view(
            site,
            urls.HOME,
            None,
            config.community.summary or config.description,
            "home",
            activity_path=urls.ACTOR,
        ),
        community=_community(reads),
        upcoming=tuple(reads.event_card(e.slug) for e in reads.upcoming(HOME_EVENTS)),
        stories=tuple(reads.story_card(s) for s in reads.newest(HOME_STORIES)),
        members=tuple(member_card(config, m) for m in newest),
        # (no welcome wall, and no introductions arriving, on a site that does not federate)
        newcomers=newcomer_views(
            config,
            reads.introductions(HOME_NEWCOMERS),
            interest_owners(config, reads.members),
            reads.refs,
        )
        if federates
        else (),
        conversations=conversation_views(
            config, reads.conversations(HOME_CONVERSATIONS), reads.refs
        ),
        welcome_url=href(config, urls.WELCOME) if federates else None,
        events_url=href(config, urls.EVENTS),
        stories_url=href(config, urls.STORIES),
        members_url=href(config, urls.MEMBERS),
    )


def rules_page(reads: SiteReads) -> PageSpec:
    site = reads.site
    rules = reads.rules()
    return recorded_spec(
        reads,
        urls.RULES,
        "rules.html",
        meta=meta_view(
            site,
            urls.RULES,
            rules.title,
            f"{rules.title} of {site.config.title}"
            + (f": {rules.items[0]}" if rules.items else ""),
            "rules",
        ),
        rules=rules_view(rules),
    )


def free_page(slug: str, reads: SiteReads) -> PageSpec:
    site = reads.site
    page = reads.page(slug)
    path = urls.page(slug)
    return recorded_spec(
        reads,
        path,
        "page.html",
        meta=meta_view(site, path, page.title, page.summary, f"page:{slug}"),
        page=PageView(title=page.title, body_html=page.body_html),
    )


def welcome_page(reads: SiteReads) -> PageSpec:
    config = reads.site.config
    introductions = reads.introductions()
    authors = {intro.id: author for intro, author in introductions if author is not None}
    return recorded_spec(
        reads,
        urls.WELCOME,
        "welcome.html",
        meta=meta_view(
            reads.site,
            urls.WELCOME,
            "Welcome wall",
            f"Newcomers introduce themselves to {config.title}",
            "welcome",
        ),
        community=_community(reads),
        introductions=introduction_views(
            [intro for intro, _ in introductions],
            interest_owners(config, reads.members),
            config.tz,
            authors,
            reads.refs,
        ),
        members_url=href(config, urls.MEMBERS),
    )


def not_found_page(reads: SiteReads) -> PageSpec:
    return recorded_spec(
        reads,
        urls.NOT_FOUND,
        "404.html",
        meta=meta_view(
            reads.site,
            urls.NOT_FOUND,
            "Page not found",
            "This page does not exist.",
            "",
            noindex=True,
        ),
    )


def search_page(reads: SiteReads) -> PageSpec:
    """Pagefind's search box: it reads nothing but what every page shares."""
    site = reads.site
    config = site.config
    meta = meta_view(
        site,
        urls.SEARCH,
        "Search",
        f"Search the stories, events and members of {config.title}",
        "search",
    )
    search = SearchView(
        bundle_url=href(config, urls.SEARCH_INDEX),
        base_url=config.base_path,
        tags_url=href(config, urls.TAGS),
        interests_url=href(config, urls.INTERESTS),
        script_url=href(config, "assets/search.js"),
        stylesheet_url=href(config, "assets/search.css"),
    )
    return recorded_spec(reads, urls.SEARCH, "search.html", meta=meta, search=search)
