"""What the home page shows of the people: who is new, and the latest conversations.

Who is new: the newest introductions (from interactions/), each with the
members who share the interests it names (never its own author, when the
author is a member: content/member_match.py recognises them). The latest
conversations: the newest replies to stories and events this build shows,
each with the title of what it answers and a link to the reply on its page.
Pure functions of what the home page read (render/pages/reads.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Introduction, Member, Reply
from commsite.render.cards import href
from commsite.render.dates import DateView, date_view
from commsite.render.said import excerpt
from commsite.render.threads import MatchView, anchor_id, introduction_views, warning_text
from commsite.render.viewclass import view
from commsite.render.views import Link, PersonRef
from commsite.slugs import tag_key

__all__ = [
    "HOME_CONVERSATIONS",
    "HOME_NEWCOMERS",
    "ConversationView",
    "NewcomerView",
    "conversation_views",
    "interest_owners",
    "newcomer_views",
]

HOME_NEWCOMERS = 3
HOME_CONVERSATIONS = 5


@view
class NewcomerView:
    url: str  # the introduction on the welcome wall
    author_name: str
    author_handle: str
    author_url: str
    member: PersonRef | None  # the member who wrote it, when the author is one
    published: DateView
    excerpt: str  # plain text; empty behind a content warning
    warning: str | None
    matches: tuple[MatchView, ...]  # members who share the interests it names


@view
class ConversationView:
    url: str  # the reply on its page
    where: Link  # the story or event it answers
    author_name: str
    author_handle: str
    author_url: str
    member: PersonRef | None
    published: DateView
    excerpt: str
    warning: str | None


def interest_owners(
    config: SiteConfig, members: Iterable[Member]
) -> dict[str, list[tuple[str, str, str]]]:
    """tag_key(interest) -> (member name, profile URL, interest as written), for
    every member interest (what threads.introduction_views matches against)."""
    owners: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for member in members:
        for interest in member.interests:
            owners[tag_key(interest)].append(
                (member.name, href(config, urls.member_page(member.id)), interest)
            )
    return owners


def newcomer_views(
    config: SiteConfig,
    newest: Sequence[tuple[Introduction, str | None]],
    owners: Mapping[str, Sequence[tuple[str, str, str]]],
    refs: Mapping[str, PersonRef],
) -> tuple[NewcomerView, ...]:
    """The home page's newest introductions (`newest`: each with its author's
    member id, if a member wrote it; see SiteReads.introductions)."""
    wall = href(config, urls.WELCOME)
    chosen = [intro for intro, _ in newest]
    authors = {intro.id: author for intro, author in newest if author is not None}
    views = introduction_views(chosen, owners, config.tz, authors, refs)
    shown = {anchor_id("intro", i.id): i for i in chosen}
    return tuple(
        NewcomerView(
            url=f"{wall}#{v.anchor}",
            author_name=v.author_name,
            author_handle=v.author_handle,
            author_url=v.author_url,
            member=v.member,
            published=v.published,
            excerpt="" if v.warning else excerpt(shown[v.anchor].content_html),
            warning=v.warning,
            matches=v.matches,
        )
        for v in views
    )


def conversation_views(
    config: SiteConfig,
    newest: Sequence[tuple[Reply, str, str, str | None]],
    refs: Mapping[str, PersonRef],
) -> tuple[ConversationView, ...]:
    """The home page's newest replies (`newest`: each with the path and title of
    the page it answers and its author's member id; see SiteReads.conversations)."""
    views: list[ConversationView] = []
    for reply, page, title, author in newest:
        warning = warning_text(reply.summary, reply.sensitive)
        views.append(
            ConversationView(
                url=f"{href(config, page)}#{anchor_id('reply', reply.id)}",
                where=Link(title, href(config, page)),
                author_name=reply.author_name or reply.author_handle,
                author_handle=reply.author_handle,
                author_url=reply.author_url,
                member=refs.get(author) if author else None,
                published=date_view(reply.published, config.tz),
                excerpt="" if warning else excerpt(reply.content_html),
                warning=warning,
            )
        )
    return tuple(views)
