"""Conversations from the fediverse as views: reply threads, counts, introductions.

Replies arrive flat (each names its parent in `in_reply_to`); a thread is the
tree they make. A reply whose parent is not another reply of the same thread
answers the story or event itself and sits at the top level.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from commsite.content.model import Interactions, Introduction, Reaction, Reply
from commsite.render.dates import DateView, date_view
from commsite.render.viewclass import view
from commsite.slugs import tag_key

__all__ = [
    "IntroductionView",
    "MatchView",
    "ReplyView",
    "ThreadView",
    "index_interactions",
    "introduction_views",
    "thread_view",
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


@view
class ThreadView:
    replies: tuple[ReplyView, ...]
    count: int  # replies at every depth
    likes: int
    boosts: int
    object_url: str  # what to paste into Mastodon's search to reply
    federated: bool  # whether replying from the fediverse is possible at all


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


@dataclass(frozen=True, slots=True)
class InteractionIndex:
    replies: Mapping[str, tuple[Reply, ...]]  # target -> its replies
    reactions: Mapping[str, Reaction]


def anchor_id(prefix: str, ap_id: str) -> str:
    return f"{prefix}-{hashlib.sha1(ap_id.encode('utf-8')).hexdigest()[:10]}"


def _warning(summary: str | None, sensitive: bool) -> str | None:
    if summary and summary.strip():
        return summary.strip()
    return "Sensitive content" if sensitive else None


def index_interactions(interactions: Interactions) -> InteractionIndex:
    grouped: dict[str, list[Reply]] = defaultdict(list)
    for reply in interactions.replies:
        grouped[reply.target].append(reply)
    reactions: dict[str, Reaction] = {}
    for reaction in interactions.reactions:
        seen = reactions.get(reaction.target)
        if seen is not None:  # two records for one target: add them up
            reaction = Reaction(
                reaction.target, seen.likes + reaction.likes, seen.boosts + reaction.boosts
            )
        reactions[reaction.target] = reaction
    return InteractionIndex(replies={k: tuple(v) for k, v in grouped.items()}, reactions=reactions)


def thread_view(
    index: InteractionIndex, target: str, object_url: str, tz: ZoneInfo, federated: bool
) -> ThreadView:
    """The thread under one story or event ("stories/SLUG" / "events/SLUG")."""
    reaction = index.reactions.get(target)
    found = index.replies.get(target)
    if not found:
        return ThreadView(
            replies=(),
            count=0,
            likes=reaction.likes if reaction else 0,
            boosts=reaction.boosts if reaction else 0,
            object_url=object_url,
            federated=federated,
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
            views.append(_reply_view(reply, tz, build(reply.id)))
        return tuple(views)

    top = build(None)
    orphans = [r for r in replies if r.id not in placed]  # only replies caught in a cycle
    top += tuple(_reply_view(r, tz, ()) for r in orphans)
    return ThreadView(
        replies=top,
        count=len(replies),
        likes=reaction.likes if reaction else 0,
        boosts=reaction.boosts if reaction else 0,
        object_url=object_url,
        federated=federated,
    )


def _reply_view(reply: Reply, tz: ZoneInfo, replies: tuple[ReplyView, ...]) -> ReplyView:
    return ReplyView(
        anchor=anchor_id("reply", reply.id),
        author_name=reply.author_name or reply.author_handle,
        author_handle=reply.author_handle,
        author_url=reply.author_url,
        content_html=reply.content_html,
        warning=_warning(reply.summary, reply.sensitive),
        published=date_view(reply.published, tz),
        updated=date_view(reply.updated, tz) if reply.updated else None,
        url=reply.url,
        replies=replies,
    )


def introduction_views(
    introductions: Iterable[Introduction],
    interests: Mapping[str, Sequence[tuple[str, str, str]]],
    tz: ZoneInfo,
) -> tuple[IntroductionView, ...]:
    """Introductions, newest first, each with the members who share its hashtags.

    `interests` maps `tag_key(interest)` to (member name, profile URL, interest as
    written) for every member interest.
    """
    views = []
    for intro in sorted(introductions, key=lambda i: (i.published, i.id), reverse=True):
        keys = [tag_key(t) for t in intro.tags]
        matched: dict[str, tuple[str, list[str]]] = {}
        for key in keys:
            if key in INTRODUCTION_TAGS:
                continue
            for name, url, interest in interests.get(key, ()):
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
                warning=_warning(intro.summary, intro.sensitive),
                published=date_view(intro.published, tz),
                url=intro.url,
                tags=tuple(t for t in intro.tags if tag_key(t) not in INTRODUCTION_TAGS),
                matches=matches,
            )
        )
    return tuple(views)
