"""Who is who across interactions/, content/ and the store: one key per person.

A person is

* a member ("member:ID") when `MemberMatcher` recognises the author fields
  (handle, FEP-2c59 webfinger, actor URL: content/member_match.py);
* the community account itself ("community") for its own handle or actor;
* else by the actor URL ("actor:URL", normalised), or, for a record that has
  only a handle, the actor URL another record gave for the same handle, else
  the handle ("handle:@user@host", normalised).

So a non-member who replied (actor and handle known) and liked a story (an
older export: handle only) counts once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.member_match import MemberMatcher, normal_handle, normal_url
from commsite.content.model import Member

__all__ = ["COMMUNITY", "Author", "People"]

COMMUNITY = "community"


@dataclass(frozen=True, slots=True)
class Author:
    handle: str | None
    webfinger: str | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class People:
    matcher: MemberMatcher
    community: frozenset[str]  # the community account's normal handle and actor URL
    actors_by_handle: dict[str, str]  # normal handle -> normal actor URL
    # The same authors come back again and again (a reply, its RSVPs, its likes).
    known: dict[Author, str] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, members: Iterable[Member], config: SiteConfig, seen: Iterable[Author]) -> People:
        community = {
            normal_handle(f"@{config.community.handle}@{config.host}"),
            normal_url(config.url(urls.ACTOR)),
        }
        actors: dict[str, str] = {}
        for author in seen:
            handle, actor = normal_handle(author.handle), normal_url(author.actor)
            if handle and actor:
                actors.setdefault(handle, actor)
        return cls(
            MemberMatcher.of(members),
            frozenset(c for c in community if c),
            actors,
        )

    def key(self, author: Author) -> str:
        found = self.known.get(author)
        if found is None:
            found = self.known[author] = self._key(author)
        return found

    def _key(self, author: Author) -> str:
        member = self.matcher.match(author.handle, webfinger=author.webfinger, actor=author.actor)
        if member is not None:
            return f"member:{member}"
        handle, actor = normal_handle(author.handle), normal_url(author.actor)
        if (handle and handle in self.community) or (actor and actor in self.community):
            return COMMUNITY
        if actor is None and handle is not None:
            actor = self.actors_by_handle.get(handle)
        if actor:
            return f"actor:{actor}"
        if handle:
            return f"handle:{handle}"
        return f"unknown:{author.handle or ''}"


def member_id(key: str) -> str | None:
    """'member:ada' -> 'ada'; None for anyone else."""
    return key[7:] if key.startswith("member:") else None
