"""Replies: per story and event, whom they answer, and who gets no answer.

Pure functions over the site model; `Thread` indexes the replies once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from commsite import urls
from commsite.content.member_match import normal_url
from commsite.content.model import Reply, Site
from commsite.report.model import Conversation, PostReplies, QuietMember
from commsite.report.people import COMMUNITY, Author, People, member_id

__all__ = ["Thread", "conversation", "quiet_members", "replies_by_post"]


def reply_author(reply: Reply) -> Author:
    return Author(reply.author_handle, reply.author_webfinger, reply.author_actor)


@dataclass(frozen=True, slots=True)
class Thread:
    """The replies with their authors, and what each answers."""

    people: People
    replies: tuple[Reply, ...]
    authors: dict[str, str]  # reply id -> person key
    by_address: dict[str, Reply]  # normal id and URL of a reply -> the reply
    own_posts: dict[str, str]  # normal URL of a story or event (object or page) -> target
    story_authors: dict[str, tuple[str, ...]]  # "stories/SLUG" -> member ids
    parents: dict[str, str]  # reply id -> its normal in_reply_to ("" when not a URL)

    @classmethod
    def of(cls, site: Site, people: People) -> Thread:
        replies = site.interactions.replies
        by_address: dict[str, Reply] = {}
        for reply in replies:
            for address in (reply.id, reply.url):
                normal = normal_url(address)
                if normal:
                    by_address.setdefault(normal, reply)
        own: dict[str, str] = {}
        config = site.config
        for story in site.stories:
            for path in (urls.story_object(story.slug), urls.story_page(story.slug)):
                own[normal_url(config.url(path)) or path] = f"stories/{story.slug}"
        for event in site.events:
            for path in (urls.event_object(event.slug), urls.event_page(event.slug)):
                own[normal_url(config.url(path)) or path] = f"events/{event.slug}"
        return cls(
            people,
            replies,
            {r.id: people.key(reply_author(r)) for r in replies},
            by_address,
            own,
            {f"stories/{s.slug}": s.authors for s in site.stories},
            {r.id: normal_url(r.in_reply_to) or "" for r in replies},
        )

    def parent_reply(self, reply: Reply) -> Reply | None:
        return self.by_address.get(self.parents[reply.id])

    def parent_post(self, reply: Reply) -> str | None:
        """The target ("stories/SLUG") when the reply answers a story or event itself."""
        return self.own_posts.get(self.parents[reply.id])

    def answered(self, reply: Reply) -> tuple[str, ...]:
        """The people this reply answers: its parent reply's author, or the
        authors (members) of the story it answers; () for an event or a story
        without authors, or a parent not in interactions/."""
        parent = self.parent_reply(reply)
        if parent is not None:
            return (self.authors[parent.id],)
        post = self.parent_post(reply)
        if post is not None:
            return tuple(f"member:{m}" for m in self.story_authors.get(post, ()))
        return ()


def replies_by_post(
    site: Site, thread: Thread, keep: Callable[[Reply], bool]
) -> tuple[tuple[PostReplies, ...], int]:
    """Replies per story and event (those `keep` admits), most first, with the
    distinct people who wrote them (not counting the community account), and
    how many stories and events have none."""
    titles = {f"stories/{s.slug}": s.title for s in site.stories}
    titles.update({f"events/{e.slug}": e.title for e in site.events})
    counts: dict[str, int] = defaultdict(int)
    repliers: dict[str, set[str]] = defaultdict(set)
    for reply in thread.replies:
        if keep(reply) and reply.target in titles:
            counts[reply.target] += 1
            if thread.authors[reply.id] != COMMUNITY:
                repliers[reply.target].add(thread.authors[reply.id])
    rows = tuple(
        sorted(
            (PostReplies(t, titles[t], n, len(repliers[t])) for t, n in counts.items()),
            key=lambda p: (-p.replies, -p.repliers, p.target),
        )
    )
    return rows, len(titles) - len(rows)


def conversation(thread: Thread, keep: Callable[[Reply], bool]) -> Conversation:
    """Sort the replies `keep` admits by whom they answer.

    member-to-member: a member's reply to another member's reply, or to a story
    another member wrote (the replier not among its authors);
    to the community: any other reply to a story or event itself, or to one of
    the community account's own replies;
    by the community: the community account's own replies;
    other: the rest (to a non-member's reply, to oneself, or to a post that
    is not in interactions/, such as a deleted or rejected reply).
    """
    m2m = community = other = own = 0
    for reply in thread.replies:
        if not keep(reply):
            continue
        who = thread.authors[reply.id]
        if who == COMMUNITY:
            own += 1
            continue
        answered = thread.answered(reply)
        if (
            member_id(who)
            and any(member_id(a) and a != who for a in answered)
            and (who not in answered)
        ):
            m2m += 1
        elif answered == (COMMUNITY,) or (
            thread.parent_reply(reply) is None and thread.parent_post(reply) is not None
        ):
            community += 1
        else:
            other += 1
    return Conversation(m2m, community, other, own)


def quiet_members(
    site: Site, thread: Thread, now: datetime, days: int, day: Callable[[datetime], str]
) -> tuple[QuietMember, ...]:
    """Members who wrote a reply or a story but got no reply from anyone else in
    the last `days` days (or never), the longest-unanswered first."""
    last_posted: dict[str, datetime] = {}
    last_answer: dict[str, datetime] = {}

    def later(into: dict[str, datetime], key: str, when: datetime) -> None:
        if key not in into or when > into[key]:
            into[key] = when

    for story in site.stories:
        for author in story.authors:
            later(last_posted, author, story.date)
    for reply in thread.replies:
        who = thread.authors[reply.id]
        mine = member_id(who)
        if mine:
            later(last_posted, mine, reply.published)
        for answered in thread.answered(reply):
            member = member_id(answered)
            if member and answered != who:
                later(last_answer, member, reply.published)
    names = {m.id: m.name for m in site.members}
    cutoff = now - timedelta(days=days)
    quiet = [
        QuietMember(
            member,
            names[member],
            day(posted),
            day(last_answer[member]) if member in last_answer else None,
        )
        for member, posted in last_posted.items()
        if member in names and (member not in last_answer or last_answer[member] < cutoff)
    ]
    quiet.sort(key=lambda q: (q.last_replied_to or "", q.last_posted, q.name, q.member))
    return tuple(quiet)


def answered_addresses(
    thread: Thread, answerers: Callable[[str], bool]
) -> Iterable[tuple[str, str]]:
    """(normal address replied to, replier key) for each reply by someone `answerers` admits."""
    for reply in thread.replies:
        who = thread.authors[reply.id]
        address = thread.parents[reply.id]
        if address and answerers(who):
            yield address, who
