"""The pages about the community as a whole: home, rules, the free pages, the
welcome wall and 404.html."""

from __future__ import annotations

from commsite import urls
from commsite.content.model import Member, Site
from commsite.render.cards import federation_on, href, image_view, member_card, rules_view
from commsite.render.head import meta_view
from commsite.render.home import conversation_views, interest_owners, newcomer_views
from commsite.render.lookups import SiteIndex
from commsite.render.pages.reads import SiteReads
from commsite.render.pages.spec import PageSpec, page_spec, recorded_spec
from commsite.render.threads import introduction_views
from commsite.render.views import CommunityView, PageView

__all__ = [
    "HOME_EVENTS",
    "HOME_MEMBERS",
    "HOME_STORIES",
    "free_page",
    "home_page",
    "not_found_page",
    "rules_page",
    "welcome_page",
]

HOME_STORIES = 6
HOME_EVENTS = 4
HOME_MEMBERS = 8


def _community(site: Site) -> CommunityView:
    config = site.config
    community = config.community
    return CommunityView(
        name=community.name or config.title,
        summary=community.summary or config.description,
        avatar=image_view(config, community.avatar, community.name or config.title),
        handle=config.fediverse_handle if federation_on(site) else None,
        member_count=len(site.members),
        story_count=len(site.stories),
    )


def home_page(site: Site, index: SiteIndex) -> PageSpec:
    def joined_key(m: Member) -> tuple[bool, int, str, str]:
        return (m.joined is None, -(m.joined.toordinal() if m.joined else 0), m.name, m.id)

    newest = sorted(site.members, key=joined_key)[:HOME_MEMBERS]
    return page_spec(
        index,
        urls.HOME,
        "home.html",
        meta=meta_view(
            site,
            urls.HOME,
            None,
            site.config.community.summary or site.config.description,
            "home",
            activity_path=urls.ACTOR,
        ),
        community=_community(site),
        upcoming=tuple(index.event_card(site, e) for e in index.upcoming[:HOME_EVENTS]),
        stories=tuple(index.story_card(site, s) for s in site.stories[:HOME_STORIES]),
        members=tuple(member_card(site.config, m) for m in newest),
        newcomers=newcomer_views(site, index),
        conversations=conversation_views(site, index),
        welcome_url=href(site.config, urls.WELCOME) if federation_on(site) else None,
        events_url=href(site.config, urls.EVENTS),
        stories_url=href(site.config, urls.STORIES),
        members_url=href(site.config, urls.MEMBERS),
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


def welcome_page(site: Site, index: SiteIndex) -> PageSpec:
    config = site.config
    interests = interest_owners(site)
    return page_spec(
        index,
        urls.WELCOME,
        "welcome.html",
        meta=meta_view(
            site,
            urls.WELCOME,
            "Welcome wall",
            f"Newcomers introduce themselves to {config.title}",
            "welcome",
        ),
        community=_community(site),
        introductions=introduction_views(
            site.interactions.introductions, interests, config.tz, index.interactions, index.refs
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
