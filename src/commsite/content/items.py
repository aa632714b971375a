"""One content file's model object: a Member, Event or Story, or None when the
file has errors (its problems go to the Checker)."""

from __future__ import annotations

from datetime import date

from commsite.content.checks import Checker, meta_pairs, meta_str, meta_strs, slug_of, written
from commsite.content.model import Event, Location, Member, Story
from commsite.content.parse import ParsedFile

__all__ = ["make_event", "make_member", "make_story"]


def make_member(c: Checker, p: ParsedFile) -> Member | None:
    avatar = c.static(p, "avatar")
    if not p.ok:
        return None
    joined = p.meta.get("joined")
    return Member(
        id=slug_of(p),
        name=str(p.meta["name"]),
        bio_html=p.body_html,
        source=p.path,
        handle=meta_str(p.meta, "handle"),
        pronouns=meta_str(p.meta, "pronouns"),
        interests=meta_strs(p.meta, "interests"),
        location=meta_str(p.meta, "location"),
        joined=joined if isinstance(joined, date) else None,
        roles=meta_strs(p.meta, "roles"),
        links=meta_pairs(p.meta, "links"),
        avatar=avatar,
        summary=p.summary,
    )


def make_event(c: Checker, p: ParsedFile, members: dict[str, str]) -> Event | None:
    start = c.when(p, "start")
    end = c.when(p, "end")
    if start is not None and end is not None and end <= start:
        c.error(
            p,
            "end",
            f"'end' ({written(p, 'end')}) is not after 'start' ({written(p, 'start')})",
            "make 'end' later than 'start', or remove it",
        )
    hosts = c.refs(p, "hosts", members, "member", "members")
    image = c.static(p, "image")
    place = p.meta.get("location")
    capacity = p.meta.get("capacity")
    if not p.ok or start is None:
        return None
    return Event(
        slug=slug_of(p),
        title=str(p.meta["title"]),
        start=start,
        body_html=p.body_html,
        summary=p.summary,
        source=p.path,
        end=end,
        location=Location(**place) if isinstance(place, dict) else None,
        online=meta_str(p.meta, "online"),
        hosts=hosts,
        capacity=capacity if isinstance(capacity, int) else None,
        status=meta_str(p.meta, "status") or "scheduled",
        tags=meta_strs(p.meta, "tags"),
        image=image,
        image_alt=meta_str(p.meta, "image_alt") if image else None,
    )


def make_story(
    c: Checker, p: ParsedFile, members: dict[str, str], events: dict[str, str]
) -> Story | None:
    when = c.when(p, "date")
    updated = c.when(p, "updated")
    authors = c.refs(p, "author" if "author" in p.meta else "authors", members, "member", "members")
    event = meta_str(p.meta, "event")
    if event is not None:
        c.refs(p, "event", events, "event", "events")
    image = c.static(p, "image")
    if not p.ok or when is None:
        return None
    return Story(
        slug=slug_of(p),
        title=str(p.meta["title"]),
        date=when,
        body_html=p.body_html,
        summary=p.summary,
        source=p.path,
        authors=authors,
        tags=meta_strs(p.meta, "tags"),
        event=event,
        image=image,
        draft=p.meta.get("draft") is True,
        updated=updated,
        image_alt=meta_str(p.meta, "image_alt") if image else None,
    )
