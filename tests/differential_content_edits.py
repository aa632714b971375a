"""Seeded random edits of a site's content files, for the differential test
(tests/test_incremental_differential.py): stories, members, events, rules and
pages. differential_edits.py has the other kinds and picks among all of them.

Each edit is a small function of a FixtureSite (which carries the seeded
random.Random): it changes the site's data and says what it did, or returns
None when it does not apply (no story to delete...).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from differential_site import (
    EVENT_SLUGS,
    INTERESTS,
    MEMBER_IDS,
    TAGS,
    WORDS,
    Doc,
    FixtureSite,
    body,
    event_id,
    new_event,
    new_member,
    new_story,
    recap_candidates,
    rules,
    title,
    when,
    words,
)


def pick(s: FixtureSite, paths: list[str]) -> str | None:
    return s.rng.choice(paths) if paths else None


def _unused(s: FixtureSite, prefix: str) -> str:
    taken = set(s.story_slugs())
    while True:
        slug = f"{prefix}-{s.rng.randrange(1000)}"
        if slug not in taken:
            return slug


def _move(s: FixtureSite, old: str, new: str) -> None:
    s.docs[new] = s.docs.pop(old)


# --- stories ------------------------------------------------------------------------


def add_story(s: FixtureSite) -> str:
    path, doc = new_story(s, _unused(s, "new"))
    s.docs[path] = doc
    return f"add {path} dated {doc.meta['date']}"


def delete_story(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None or len(s.stories) < 3:
        return None
    del s.docs[path]
    return f"delete {path}"


def rename_story(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    stem = Path(path).stem
    prefix = stem[:11] if stem[:4].isdigit() and s.rng.random() < 0.7 else ""
    new = f"content/stories/{prefix}{_unused(s, 'renamed')}.md"
    _move(s, path, new)
    return f"rename {path} to {new}"


def retitle_story(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    s.docs[path].meta["title"] = new = title(s.rng)
    return f"retitle {path}: {new!r}"


def redate_story(s: FixtureSite) -> str | None:
    """A new date anywhere from a year ago to months ahead: it may cross other
    stories, the build clock, or its event's start."""
    path = pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    old = meta["date"]
    meta["date"] = new = when(s.rng, s.tz, s.now, 200)
    return f"redate {path}: {old} -> {new}"


def toggle_draft(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    if meta.pop("draft", False):
        return f"publish the draft {path}"
    meta["draft"] = True
    return f"make {path} a draft"


def change_slug(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    if "slug" in meta and s.rng.random() < 0.5:
        del meta["slug"]
        return f"drop the slug of {path}"
    meta["slug"] = slug = _unused(s, "slug")
    return f"give {path} the slug {slug}"


def retag_story(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    tags = s.rng.sample(TAGS, s.rng.randint(0, 3))
    if tags:
        meta["tags"] = tags
    else:
        meta.pop("tags", None)
    return f"tag {path}: {tags}"


def change_authors(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    ids = s.member_ids()
    if path is None:
        return None
    meta = s.docs[path].meta
    meta.pop("author", None)
    meta.pop("authors", None)
    chosen = s.rng.sample(ids, s.rng.randint(0, min(3, len(ids))))
    if len(chosen) == 1 and s.rng.random() < 0.5:
        meta["author"] = chosen[0]
    elif chosen:
        meta["authors"] = chosen
    return f"authors of {path}: {chosen}"


def change_summary(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    if "summary" in meta and s.rng.random() < 0.4:
        del meta["summary"]
        return f"drop the summary of {path}"
    meta["summary"] = words(s.rng, 3, 9)
    return f"new summary for {path}"


def change_body(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    doc = s.docs[path]
    doc.body = body(s.rng) if s.rng.random() < 0.5 else doc.body + words(s.rng, 1, 5) + "\n"
    return f"edit the body of {path}"


def change_event_link(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    linked = recap_candidates(s, meta["date"])
    if "event" in meta and (not linked or s.rng.random() < 0.4):
        return f"{path} is no longer the recap of {meta.pop('event')}"
    if not linked:
        return None
    meta["event"] = event = s.rng.choice(linked)
    return f"{path} recaps {event}"


def change_image(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    if "image" in meta and s.rng.random() < 0.4:
        del meta["image"]
        return f"drop the image of {path}"
    meta["image"] = image = s.rng.choice(s.images())
    return f"{path} shows {image}"


def change_updated(s: FixtureSite) -> str | None:
    path = pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    if "updated" in meta:
        del meta["updated"]
        return f"drop 'updated' from {path}"
    meta["updated"] = new = when(s.rng, s.tz, s.now, 30)
    return f"{path} updated {new}"


# --- members ------------------------------------------------------------------------


def add_member(s: FixtureSite) -> str | None:
    free = [m for m in MEMBER_IDS if m not in s.member_ids()]
    if not free:
        return None
    member_id = s.rng.choice(free)
    s.docs[f"content/members/{member_id}.md"] = new_member(s.rng, member_id, s.images())
    return f"add the member {member_id}"


def _forget(s: FixtureSite, key: str, old: str, new: str | None = None) -> None:
    """Every reference to `old` under `key` (and 'author' for 'authors') renamed or removed."""
    for path in (*s.stories, *s.events):
        meta = s.docs[path].meta
        for name in (key, "author") if key == "authors" else (key,):
            value = meta.get(name)
            if value == old:
                if new is None:
                    del meta[name]
                else:
                    meta[name] = new
            elif isinstance(value, list) and old in value:
                kept = [new if v == old else v for v in value if new is not None or v != old]
                if kept:
                    meta[name] = kept
                else:
                    del meta[name]


def delete_member(s: FixtureSite) -> str | None:
    path = pick(s, s.members)
    if path is None or len(s.members) < 3:
        return None
    del s.docs[path]
    _forget(s, "authors", Path(path).stem)
    _forget(s, "hosts", Path(path).stem)
    return f"delete {path} (and the stories' and events' references)"


def rename_member(s: FixtureSite) -> str | None:
    path = pick(s, s.members)
    free = [m for m in MEMBER_IDS if m not in s.member_ids()]
    if path is None or not free:
        return None
    old, new = Path(path).stem, s.rng.choice(free)
    _move(s, path, f"content/members/{new}.md")
    _forget(s, "authors", old, new)
    _forget(s, "hosts", old, new)
    return f"rename the member {old} to {new} (and the references)"


MEMBER_KEYS = ("name", "handle", "interests", "avatar", "joined", "bio", "pronouns", "roles")
MEMBER_KEYS += ("links", "location")


def edit_member(s: FixtureSite) -> str | None:
    path = pick(s, s.members)
    if path is None:
        return None
    doc = s.docs[path]
    rng = s.rng
    what = rng.choice(MEMBER_KEYS)
    if what == "name":
        doc.meta["name"] = f"{Path(path).stem.capitalize()} {rng.choice(WORDS)}"
    elif what == "handle":
        if "handle" in doc.meta and rng.random() < 0.5:
            del doc.meta["handle"]
        else:
            doc.meta["handle"] = f"@{Path(path).stem}{rng.randrange(100)}@social.example"
    elif what == "interests":
        doc.meta["interests"] = rng.sample(INTERESTS, rng.randint(0, 3))
    elif what == "avatar":
        if "avatar" in doc.meta and rng.random() < 0.5:
            del doc.meta["avatar"]
        else:
            doc.meta["avatar"] = rng.choice(s.images())
    elif what == "joined":
        doc.meta["joined"] = date(2025, rng.randint(1, 12), rng.randint(1, 28))
    elif what == "pronouns":
        doc.meta["pronouns"] = rng.choice(["she/her", "he/him", "they/them"])
    elif what == "roles":
        doc.meta["roles"] = rng.sample(["organiser", "host", "treasurer"], rng.randint(0, 2))
    elif what == "links":
        doc.meta["links"] = {
            rng.choice(["Website", "Blog"]): f"https://{rng.randrange(99)}.example/"
        }
    elif what == "location":
        doc.meta["location"] = words(rng, 1, 2)
    else:
        doc.body = words(rng, 3, 12) + ".\n"
    return f"edit the {what} of {path}"


# --- events -------------------------------------------------------------------------


def add_event(s: FixtureSite) -> str | None:
    free = [e for e in EVENT_SLUGS if e not in s.event_ids()]
    if not free:
        return None
    path, doc = new_event(s, s.rng.choice(free))
    s.docs[path] = doc
    return f"add {path} starting {doc.meta['start']}"


def delete_event(s: FixtureSite) -> str | None:
    path = pick(s, s.events)
    if path is None or len(s.events) < 2:
        return None
    _forget(s, "event", event_id(path, s.docs[path]))
    del s.docs[path]
    return f"delete {path} (and the stories' links to it)"


EVENT_KEYS = ("start", "end", "status", "capacity", "hosts", "location", "title", "tags")
EVENT_KEYS += ("online", "image", "summary", "body")


def edit_event(s: FixtureSite) -> str | None:
    path = pick(s, s.events)
    if path is None:
        return None
    meta, rng = s.docs[path].meta, s.rng
    what = rng.choice(EVENT_KEYS)
    start = meta["start"]
    assert isinstance(start, datetime)
    if what == "start":
        shift = timedelta(hours=rng.randint(-24 * 90, 24 * 90))
        meta["start"] = start + shift
        end = meta.get("end")
        if isinstance(end, datetime):
            meta["end"] = end + shift
        if any(s.docs[p].meta.get("event") == event_id(path, s.docs[path]) for p in s.stories):
            return f"move {path} by {shift} (its recaps may now be dated before it)"
    elif what == "end":
        if "end" in meta and rng.random() < 0.4:
            del meta["end"]
        else:
            meta["end"] = start + timedelta(minutes=rng.randint(1, 3 * 1440))
    elif what == "status":
        meta["status"] = rng.choice(["scheduled", "cancelled", "postponed"])
    elif what == "capacity":
        if "capacity" in meta and rng.random() < 0.4:
            del meta["capacity"]
        else:
            meta["capacity"] = rng.randint(1, 80)
    elif what == "hosts":
        ids = s.member_ids()
        meta["hosts"] = rng.sample(ids, rng.randint(0, min(2, len(ids))))
    elif what == "location":
        meta["location"] = (
            words(rng, 1, 3)
            if rng.random() < 0.5
            else {"name": "The hall", "url": "https://h.example/"}
        )
    elif what == "title":
        meta["title"] = title(rng)
    elif what == "online":
        meta["online"] = f"https://meet.example/{rng.randrange(99)}"
    elif what == "image":
        meta["image"] = rng.choice(s.images())
    elif what == "summary":
        meta["summary"] = words(rng, 2, 8)
    elif what == "body":
        s.docs[path].body = body(rng)
    else:
        meta["tags"] = rng.sample(TAGS, rng.randint(0, 2))
    return f"edit the {what} of {path}"


def rename_event(s: FixtureSite) -> str | None:
    """A new file name, so a new id: the stories that recap it follow."""
    path = pick(s, s.events)
    free = [e for e in EVENT_SLUGS if e not in s.event_ids()]
    if path is None or not free:
        return None
    old = event_id(path, s.docs[path])
    s.docs[path].meta.pop("slug", None)
    new = s.rng.choice(free)
    _move(s, path, f"content/events/{new}.md")
    _forget(s, "event", old, new)
    return f"rename the event {old} to {new} (and the recaps' links)"


# --- rules and pages ------------------------------------------------------------------


def edit_rules(s: FixtureSite) -> str:
    doc = s.docs["content/rules.md"]
    count = doc.body.count("\n") - 2
    if s.rng.random() < 0.3:
        doc.meta["title"] = title(s.rng)
        return "retitle the rules"
    change = s.rng.choice([-1, 1]) if count > 1 else 1
    s.docs["content/rules.md"] = rules(s.rng, count + change)
    s.docs["content/rules.md"].meta["title"] = doc.meta["title"]
    return f"rules: {count} -> {count + change}"


def add_page(s: FixtureSite) -> str | None:
    slug = s.rng.choice(["faq", "contact", "history", "privacy"])
    path = f"content/pages/{slug}.md"
    if path in s.docs:
        return None
    s.docs[path] = Doc({"title": title(s.rng)}, body(s.rng))
    return f"add the page {path}"


def page_slug(s: FixtureSite) -> str | None:
    path = pick(s, s.paths("content/pages/"))
    if path is None:
        return None
    meta = s.docs[path].meta
    if "slug" in meta:
        del meta["slug"]
        return f"drop the slug of {path}"
    taken = {Path(p).stem for p in s.paths("content/pages/")}
    meta["slug"] = slug = s.rng.choice([x for x in ("team", "visit", "hello") if x not in taken])
    return f"give the page {path} the slug {slug}"


def delete_page(s: FixtureSite) -> str | None:
    path = pick(s, s.paths("content/pages/"))
    if path is None:
        return None
    del s.docs[path]
    return f"delete the page {path}"


def edit_page(s: FixtureSite) -> str | None:
    path = pick(s, s.paths("content/pages/"))
    if path is None:
        return None
    doc = s.docs[path]
    if s.rng.random() < 0.5:
        doc.meta["title"] = title(s.rng)
    else:
        doc.body = body(s.rng)
    return f"edit the page {path}"
