"""What the home page shows of the people: who is new, and the latest conversations.

Who is new: the newest introductions (from interactions/), each with the
members who share the interests it names (never its own author, when the
author is a member: content/member_match.py recognises them). The latest
conversations: the newest replies to stories and events this build shows,
each with the title of what it answers and a link to the reply on its page.
Pure functions of the site and its index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from commsite import urls
from commsite.content.model import Reply, Site, Story
from commsite.render.cards import federation_on, href
from commsite.render.dates import DateView, date_view
from commsite.render.lookups import SiteIndex
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


def interest_owners(site: Site) -> dict[str, list[tuple[str, str, str]]]:
    """tag_key(interest) -> (member name, profile URL, interest as written), for
    every member interest (what threads.introduction_views matches against)."""
    config = site.config
    owners: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for member in site.members:
        for interest in member.interests:
            owners[tag_key(interest)].append(
                (member.name, href(config, urls.member_page(member.id)), interest)
            )
    return owners


def newcomer_views(
    site: Site, index: SiteIndex, limit: int = HOME_NEWCOMERS
) -> tuple[NewcomerView, ...]:
    """The newest `limit` introductions; none when the site does not federate (then
    there is no welcome wall and introductions cannot arrive)."""
    if not federation_on(site):
        return ()
    config = site.config
    newest = sorted(site.interactions.introductions, key=lambda i: (i.published, i.id))
    chosen = newest[::-1][:limit]
    wall = href(config, urls.WELCOME)
    views = introduction_views(
        chosen, interest_owners(site), config.tz, index.interactions, index.refs
    )
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


def _answered(site: Site, index: SiteIndex, reply: Reply) -> tuple[str, str] | None:
    """The page path and title of what `reply` answers, when this build shows it."""
    kind, _, slug = reply.target.partition("/")
    found: Story | None = index.stories.get(slug) if kind == "stories" else None
    if found is not None:
        return urls.story_page(found.slug), found.title
    event = index.events.get(slug) if kind == "events" else None
    if event is not None:
        return urls.event_page(event.slug), event.title
    return None


def conversation_views(
    site: Site, index: SiteIndex, limit: int = HOME_CONVERSATIONS
) -> tuple[ConversationView, ...]:
    """The newest `limit` replies to the stories and events of this build."""
    config = site.config
    replies: Sequence[Reply] = sorted(
        site.interactions.replies, key=lambda r: (r.published, r.id), reverse=True
    )
    known: Mapping[str, PersonRef] = index.refs
    views: list[ConversationView] = []
    for reply in replies:
        if len(views) == limit:
            break
        answered = _answered(site, index, reply)
        if answered is None:
            continue
        page, title = answered
        author = index.interactions.authors.get(reply.id)
        warning = warning_text(reply.summary, reply.sensitive)
        views.append(
            ConversationView(
                url=f"{href(config, page)}#{anchor_id('reply', reply.id)}",
                where=Link(title, href(config, page)),
                author_name=reply.author_name or reply.author_handle,
                author_handle=reply.author_handle,
                author_url=reply.author_url,
                member=known.get(author) if author else None,
                published=date_view(reply.published, config.tz),
                excerpt="" if warning else excerpt(reply.content_html),
                warning=warning,
            )
        )
    return tuple(views)
