"""Conversations from the fediverse as views: reply threads, counts, introductions.

Replies arrive flat (each names its parent in `in_reply_to`); a thread is the
tree they make. A reply whose parent is not another reply of the same thread
answers the story or event itself and sits at the top level.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from commsite.content.member_match import MemberMatcher
from commsite.content.model import Interactions, Introduction, Member, Reaction, Reply
from commsite.render.attendance import ReactorsView, reactors_view
from commsite.render.dates import DateView, date_view
from commsite.render.viewclass import view
from commsite.render.views import PersonRef
from commsite.slugs import tag_key

__all__ = [
    "InteractionIndex",
    "IntroductionView",
    "MatchView",
    "ReplyView",
    "ThreadView",
    "index_interactions",
    "introduction_views",
    "thread_view",
    "warning_text",
]

INTRODUCTION_TAGS = frozenset({"introduction", "introductions", "intro", "newhere"})


@view
class ReplyView:
    anchor: str  # HTML id, stable across builds
    author_name: str
    author_handle: str
    author_url: str
    content_html: str  # sanitised by the sidecar
    warning: str | None  # content warning text; set whenever the reply is folded
    published: DateView
    updated: DateView | None
    url: str | None
    replies: tuple[ReplyView, ...]
    member: PersonRef | None = None  # the member who wrote it, when the author is one


@view
class ThreadView:
    replies: tuple[ReplyView, ...]
    count: int  # replies at every depth
    likes: int
    boosts: int
    object_url: str  # what to paste into Mastodon's search to reply
    federated: bool  # whether replying from the fediverse is possible at all
    reactors: ReactorsView = ReactorsView()  # the members among who liked or boosted


@view
class MatchView:
    name: str
    url: str
    interests: tuple[str, ...]  # the member's interests the introduction mentions


@view
class IntroductionView:
    anchor: str
    author_name: str
    author_handle: str
    author_url: str
    content_html: str
    warning: str | None
    published: DateView
    url: str | None
    tags: tuple[str, ...]
    matches: tuple[MatchView, ...]
    member: PersonRef | None = None


@dataclass(frozen=True, slots=True)
class InteractionIndex:
    replies: Mapping[str, tuple[Reply, ...]]  # target -> its replies
    reactions: Mapping[str, Reaction]
    authors: Mapping[str, str] = field(default_factory=dict)  # AP id -> member id
    # member id -> what they said (replies and introductions), newest first
    said: Mapping[str, tuple[Reply | Introduction, ...]] = field(default_factory=dict)
    # target -> (kind, member id) of the members among who liked or boosted it
    reactors: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def anchor_id(prefix: str, ap_id: str) -> str:
    return f"{prefix}-{hashlib.sha1(ap_id.encode('utf-8')).hexdigest()[:10]}"


def warning_text(summary: str | None, sensitive: bool) -> str | None:
    if summary and summary.strip():
        return summary.strip()
    return "Sensitive content" if sensitive else None


def author_member(matcher: MemberMatcher, item: Reply | Introduction) -> str | None:
    """The id of the member who wrote `item`, or None (see content/member_match.py)."""
    return matcher.match(
        item.author_handle, webfinger=item.author_webfinger, actor=item.author_actor
    )


def index_interactions(
    interactions: Interactions, members: Iterable[Member] = ()
) -> InteractionIndex:
    grouped: dict[str, list[Reply]] = defaultdict(list)
    for reply in interactions.replies:
        grouped[reply.target].append(reply)
    matcher = MemberMatcher.of(members)
    authors: dict[str, str] = {}
    said: dict[str, list[Reply | Introduction]] = defaultdict(list)
    items: tuple[Reply | Introduction, ...] = (*interactions.replies, *interactions.introductions)
    for item in items:
        member = author_member(matcher, item)
        if member is not None:
            authors[item.id] = member
            said[member].append(item)
    reactions: dict[str, Reaction] = {}
    reactors: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for reaction in interactions.reactions:
        seen = reactions.get(reaction.target)
        if seen is not None:  # two records for one target: add them up
            reaction = Reaction(
                reaction.target,
                seen.likes + reaction.likes,
                seen.boosts + reaction.boosts,
                seen.by + reaction.by,
            )
        reactions[reaction.target] = reaction
    for target, reaction in reactions.items():
        for reactor in reaction.by:
            member = matcher.match(
                reactor.author_handle,
                webfinger=reactor.author_webfinger,
                actor=reactor.author_actor,
            )
            if member is not None and (reactor.kind, member) not in reactors[target]:
                reactors[target].append((reactor.kind, member))
    return InteractionIndex(
        replies={k: tuple(v) for k, v in grouped.items()},
        reactions=reactions,
        authors=authors,
        reactors={k: tuple(v) for k, v in reactors.items()},
        said={
            k: tuple(sorted(v, key=lambda i: (i.published, i.id), reverse=True))
            for k, v in said.items()
        },
    )


def thread_view(
    index: InteractionIndex,
    target: str,
    object_url: str,
    tz: ZoneInfo,
    federated: bool,
    refs: Mapping[str, PersonRef] | None = None,
) -> ThreadView:
    """The thread under one story or event ("stories/SLUG" / "events/SLUG");
    `refs`: member id -> reference, for the replies members wrote."""
    known = refs or {}

    def member(reply: Reply) -> PersonRef | None:
        author = index.authors.get(reply.id)
        return known.get(author) if author else None

    reaction = index.reactions.get(target)
    reactors = reactors_view(reaction, index.reactors.get(target, ()), known)
    found = index.replies.get(target)
    if not found:
        return ThreadView(
            replies=(),
            count=0,
            likes=reaction.likes if reaction else 0,
            boosts=reaction.boosts if reaction else 0,
            object_url=object_url,
            federated=federated,
            reactors=reactors,
        )
    replies = sorted(found, key=lambda r: (r.published, r.id))
    ids = {r.id for r in replies}
    children: dict[str | None, list[Reply]] = defaultdict(list)
    for reply in replies:
        parent = reply.in_reply_to if reply.in_reply_to in ids else None
        children[parent].append(reply)
    placed: set[str] = set()

    def build(parent: str | None) -> tuple[ReplyView, ...]:
        views = []
        for reply in children.get(parent, ()):
            if reply.id in placed:  # a cycle in in_reply_to: show each reply once
                continue
            placed.add(reply.id)
            views.append(_reply_view(reply, tz, build(reply.id), member(reply)))
        return tuple(views)

    top = build(None)
    orphans = [r for r in replies if r.id not in placed]  # only replies caught in a cycle
    top += tuple(_reply_view(r, tz, (), member(r)) for r in orphans)
    return ThreadView(
        replies=top,
        count=len(replies),
        likes=reaction.likes if reaction else 0,
        boosts=reaction.boosts if reaction else 0,
        object_url=object_url,
        federated=federated,
        reactors=reactors,
    )


def _reply_view(
    reply: Reply, tz: ZoneInfo, replies: tuple[ReplyView, ...], member: PersonRef | None
) -> ReplyView:
    return ReplyView(
        anchor=anchor_id("reply", reply.id),
        author_name=reply.author_name or reply.author_handle,
        author_handle=reply.author_handle,
        author_url=reply.author_url,
        content_html=reply.content_html,
        warning=warning_text(reply.summary, reply.sensitive),
        published=date_view(reply.published, tz),
        updated=date_view(reply.updated, tz) if reply.updated else None,
        url=reply.url,
        replies=replies,
        member=member,
    )


def introduction_views(
    introductions: Iterable[Introduction],
    interests: Mapping[str, Sequence[tuple[str, str, str]]],
    tz: ZoneInfo,
    authors: Mapping[str, str] | None = None,
    refs: Mapping[str, PersonRef] | None = None,
) -> tuple[IntroductionView, ...]:
    """Introductions, newest first, each with the members who share its hashtags.

    `interests` maps `tag_key(interest)` to (member name, profile URL, interest as
    written) for every member interest. `authors` (introduction id -> member id)
    and `refs` recognise the members among the authors (see thread_view); a member
    is never matched with themselves.
    """
    authors = authors or {}
    known = refs or {}
    views = []
    for intro in sorted(introductions, key=lambda i: (i.published, i.id), reverse=True):
        author = authors.get(intro.id)
        member = known.get(author) if author else None
        keys = [tag_key(t) for t in intro.tags]
        matched: dict[str, tuple[str, list[str]]] = {}
        for key in keys:
            if key in INTRODUCTION_TAGS:
                continue
            for name, url, interest in interests.get(key, ()):
                if member is not None and url == member.url:
                    continue
                entry = matched.setdefault(url, (name, []))
                if interest not in entry[1]:
                    entry[1].append(interest)
        matches = tuple(
            MatchView(name=name, url=url, interests=tuple(found))
            for url, (name, found) in sorted(matched.items(), key=lambda kv: kv[1][0].casefold())
        )
        views.append(
            IntroductionView(
                anchor=anchor_id("intro", intro.id),
                author_name=intro.author_name or intro.author_handle,
                author_handle=intro.author_handle,
                author_url=intro.author_url,
                content_html=intro.content_html,
                warning=warning_text(intro.summary, intro.sensitive),
                published=date_view(intro.published, tz),
                url=intro.url,
                tags=tuple(t for t in intro.tags if tag_key(t) not in INTRODUCTION_TAGS),
                matches=matches,
                member=member,
            )
        )
    return tuple(views)
