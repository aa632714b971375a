"""The members directory and one page per member."""

from __future__ import annotations

from commsite import urls
from commsite.render.cards import event_link, handle_url, href, image_view, member_card, story_link
from commsite.render.dates import day_view
from commsite.render.head import meta_view
from commsite.render.interests import interest_counts
from commsite.render.pages.reads import SiteReads
from commsite.render.pages.spec import PageSpec, recorded_spec
from commsite.render.views import InterestView, Link, MemberView
from commsite.slugs import tag_key

__all__ = ["member_page", "members_page"]


def members_page(reads: SiteReads) -> PageSpec:
    site = reads.site
    config = site.config
    return recorded_spec(
        reads,
        urls.MEMBERS,
        "members.html",
        meta=meta_view(site, urls.MEMBERS, "Members", f"The people of {config.title}", "members"),
        members=tuple(member_card(config, m) for m in reads.members),
        interests=interest_counts(config, reads.interest_counts()),
        interests_url=href(config, urls.INTERESTS),
    )


def member_page(reads: SiteReads, member_id: str) -> PageSpec:
    site = reads.site
    config = site.config
    member = reads.member(member_id)
    path = urls.member_page(member.id)
    interests = tuple(
        InterestView(
            name=interest,
            others=tuple(
                reads.refs[other.id]
                for other in reads.into(tag_key(interest))
                if other.id != member.id
            ),
            url=href(config, urls.interest_page(interest)),
        )
        for interest in member.interests
    )
    said, said_count = reads.said(member.id)
    view = MemberView(
        id=member.id,
        name=member.name,
        url=href(config, path),
        avatar=image_view(config, member.avatar, member.name),
        handle=member.handle,
        handle_url=handle_url(member.handle),
        pronouns=member.pronouns,
        location=member.location,
        joined=day_view(member.joined) if member.joined else None,
        roles=member.roles,
        links=tuple(Link(label, url) for label, url in member.links),
        bio_html=member.bio_html,
        interests=interests,
        stories=tuple(story_link(site, s) for s in reads.authored(member.id)),
        events=tuple(event_link(site, e) for e in reads.hosted(member.id)),
        said=said,
        said_count=said_count,
    )
    meta = meta_view(
        site,
        path,
        member.name,
        member.summary or f"{member.name}, a member of {config.title}",
        "members",
        og_type="profile",
        image=member.avatar,
    )
    return recorded_spec(reads, path, "member.html", meta=meta, member=view)
