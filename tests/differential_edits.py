"""Seeded random edits of every kind the content contract allows, for the
differential test (tests/test_incremental_differential.py).

Each edit is a small function of a FixtureSite (which carries the seeded
random.Random): it changes the site's data and says what it did, or returns
None when it does not apply (no story to delete...). `random_edit` picks one by
weight. Edits keep the site valid, but for the invalid ones (`INVALID`), which
break one file in a way the build must refuse; the test puts it back next step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from differential_site import (
    EVENT_SLUGS,
    IMAGES,
    INTERESTS,
    LOCAL_THEMES,
    MEMBER_IDS,
    TAGS,
    THEME,
    TIMEZONES,
    WORDS,
    Doc,
    FixtureSite,
    body,
    config_text,
    event_id,
    introduction,
    new_event,
    new_member,
    new_story,
    overridden,
    recap_candidates,
    reply,
    rules,
    svg,
    title,
    when,
    words,
)

__all__ = ["EDITS", "INVALID", "random_edit"]

Edit = Callable[[FixtureSite], str | None]
TEMPLATES = tuple(sorted(p.name for p in (THEME / "templates").glob("*.html")))


def _pick(s: FixtureSite, paths: list[str]) -> str | None:
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
    path = _pick(s, s.stories)
    if path is None or len(s.stories) < 3:
        return None
    del s.docs[path]
    return f"delete {path}"


def rename_story(s: FixtureSite) -> str | None:
    path = _pick(s, s.stories)
    if path is None:
        return None
    stem = Path(path).stem
    prefix = stem[:11] if stem[:4].isdigit() and s.rng.random() < 0.7 else ""
    new = f"content/stories/{prefix}{_unused(s, 'renamed')}.md"
    _move(s, path, new)
    return f"rename {path} to {new}"


def retitle_story(s: FixtureSite) -> str | None:
    path = _pick(s, s.stories)
    if path is None:
        return None
    s.docs[path].meta["title"] = new = title(s.rng)
    return f"retitle {path}: {new!r}"


def redate_story(s: FixtureSite) -> str | None:
    """A new date anywhere from a year ago to months ahead: it may cross other
    stories, the build clock, or its event's start."""
    path = _pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    old = meta["date"]
    meta["date"] = new = when(s.rng, s.tz, s.now, 200)
    return f"redate {path}: {old} -> {new}"


def toggle_draft(s: FixtureSite) -> str | None:
    path = _pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    if meta.pop("draft", False):
        return f"publish the draft {path}"
    meta["draft"] = True
    return f"make {path} a draft"


def change_slug(s: FixtureSite) -> str | None:
    path = _pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    if "slug" in meta and s.rng.random() < 0.5:
        del meta["slug"]
        return f"drop the slug of {path}"
    meta["slug"] = slug = _unused(s, "slug")
    return f"give {path} the slug {slug}"


def retag_story(s: FixtureSite) -> str | None:
    path = _pick(s, s.stories)
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
    path = _pick(s, s.stories)
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
    path = _pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    if "summary" in meta and s.rng.random() < 0.4:
        del meta["summary"]
        return f"drop the summary of {path}"
    meta["summary"] = words(s.rng, 3, 9)
    return f"new summary for {path}"


def change_body(s: FixtureSite) -> str | None:
    path = _pick(s, s.stories)
    if path is None:
        return None
    doc = s.docs[path]
    doc.body = body(s.rng) if s.rng.random() < 0.5 else doc.body + words(s.rng, 1, 5) + "\n"
    return f"edit the body of {path}"


def change_event_link(s: FixtureSite) -> str | None:
    path = _pick(s, s.stories)
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
    path = _pick(s, s.stories)
    if path is None:
        return None
    meta = s.docs[path].meta
    if "image" in meta and s.rng.random() < 0.4:
        del meta["image"]
        return f"drop the image of {path}"
    meta["image"] = image = s.rng.choice(s.images())
    return f"{path} shows {image}"


def change_updated(s: FixtureSite) -> str | None:
    path = _pick(s, s.stories)
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
    path = _pick(s, s.members)
    if path is None or len(s.members) < 3:
        return None
    del s.docs[path]
    _forget(s, "authors", Path(path).stem)
    _forget(s, "hosts", Path(path).stem)
    return f"delete {path} (and the stories' and events' references)"


def rename_member(s: FixtureSite) -> str | None:
    path = _pick(s, s.members)
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
    path = _pick(s, s.members)
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
    path = _pick(s, s.events)
    if path is None or len(s.events) < 2:
        return None
    _forget(s, "event", event_id(path, s.docs[path]))
    del s.docs[path]
    return f"delete {path} (and the stories' links to it)"


EVENT_KEYS = ("start", "end", "status", "capacity", "hosts", "location", "title", "tags")
EVENT_KEYS += ("online", "image", "summary", "body")


def edit_event(s: FixtureSite) -> str | None:
    path = _pick(s, s.events)
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
    path = _pick(s, s.events)
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
    path = _pick(s, s.paths("content/pages/"))
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
    path = _pick(s, s.paths("content/pages/"))
    if path is None:
        return None
    del s.docs[path]
    return f"delete the page {path}"


def edit_page(s: FixtureSite) -> str | None:
    path = _pick(s, s.paths("content/pages/"))
    if path is None:
        return None
    doc = s.docs[path]
    if s.rng.random() < 0.5:
        doc.meta["title"] = title(s.rng)
    else:
        doc.body = body(s.rng)
    return f"edit the page {path}"


# --- commsite.yaml --------------------------------------------------------------------


CONFIG_KEYS = ("title", "description", "per_page", "timezone", "name", "summary", "avatar")
CONFIG_KEYS += ("handle", "approve", "blocked", "federation", "story_type", "language")
CONFIG_KEYS += ("base_url", "actor_type", "header_image", "inbox_url", "hold_keywords")


def edit_config(s: FixtureSite) -> str:
    config, rng = s.config, s.rng
    community = config.setdefault("community", {})
    assert isinstance(community, dict)
    moderation = config.setdefault("moderation", {})
    assert isinstance(moderation, dict)
    federation = config.setdefault("federation", {})
    assert isinstance(federation, dict)
    what = rng.choice(CONFIG_KEYS)
    if what == "title":
        config["title"] = title(rng)
    elif what == "description":
        config["description"] = words(rng, 3, 10)
    elif what == "per_page":
        config["per_page"] = rng.randint(1, 8)
    elif what == "timezone":
        config["timezone"] = rng.choice(TIMEZONES)
    elif what == "name":
        community["name"] = title(rng)
    elif what == "summary":
        community["summary"] = words(rng, 3, 10)
    elif what == "avatar":
        community["avatar"] = rng.choice(s.images())
    elif what == "handle":
        community["handle"] = rng.choice(["menders", "repair", "fixers"])
    elif what == "approve":
        moderation["approve"] = rng.choice(["members", "followers", "everyone", "manual"])
    elif what == "blocked":
        moderation["blocked_domains"] = rng.sample(
            ["spam.example", "bad.example"], rng.randint(0, 2)
        )
    elif what == "federation":
        federation["enabled"] = not federation.get("enabled", True)
    elif what == "story_type":
        federation["story_type"] = rng.choice(["Note", "Article"])
    elif what == "base_url":
        config["base_url"] = rng.choice(["https://diff.example/", "https://b.example/sub/"])
    elif what == "actor_type":
        community["actor_type"] = rng.choice(["Group", "Organization", "Person"])
    elif what == "header_image":
        community["header_image"] = rng.choice(s.images())
    elif what == "inbox_url":
        federation["inbox_url"] = rng.choice(
            ["https://inbox.example/inbox", "https://diff.example/in"]
        )
    elif what == "hold_keywords":
        moderation["hold_keywords"] = rng.sample(["spam", "crypto", "sale"], rng.randint(0, 2))
    else:
        config["language"] = rng.choice(["en", "en-GB", "fr"])
    for section in ("community", "moderation", "federation"):
        if not config[section]:
            del config[section]
    return f"commsite.yaml: change {what}"


# --- theme ----------------------------------------------------------------------------


def theme_template(s: FixtureSite) -> str:
    name = s.rng.choice(TEMPLATES)
    path = f"theme/templates/{name}"
    if path in s.files and s.rng.random() < 0.4:
        del s.files[path]
        return f"delete the override {path}"
    s.files[path] = overridden(name, f"mark-{s.rng.randrange(1000)}")
    return f"override {path}"


def theme_css(s: FixtureSite) -> str:
    path = s.rng.choice(["theme/static/assets/style.css", "theme/static/assets/extra.css"])
    if path in s.files and s.rng.random() < 0.3:
        del s.files[path]
        return f"delete {path}"
    rule = f".x{s.rng.randrange(1000)} {{ color: red; }}\n".encode()
    if path.endswith("style.css") and path not in s.files:
        s.files[path] = (THEME / "static/assets/style.css").read_bytes() + rule
    else:
        s.files[path] = s.files.get(path, b"") + rule
    return f"edit {path}"


def switch_theme(s: FixtureSite) -> str:
    """commsite.yaml's theme: the bundled one, a folder in the site, or one next to it
    (named by its absolute path)."""
    folder = s.rng.choice([None, *LOCAL_THEMES])
    if folder is None:
        s.config.pop("theme", None)
        return "commsite.yaml: the bundled theme"
    if not any(p.startswith(f"{folder}/templates/") for p in s.files):
        s.files[f"{folder}/templates/base.html"] = overridden("base.html", "theme " + folder)
    name = folder if not folder.startswith("../") else str((s.root / folder).resolve())
    s.config["theme"] = name
    return f"commsite.yaml: theme {name}"


def edit_local_theme(s: FixtureSite) -> str:
    """A template or the CSS of a theme kept in the site or next to it (in use or not)."""
    folder = s.rng.choice(LOCAL_THEMES)
    if s.rng.random() < 0.3:
        path = f"{folder}/static/assets/theme.css"
        if path in s.files and s.rng.random() < 0.3:
            del s.files[path]
            return f"delete {path}"
        s.files[path] = s.files.get(path, b"") + f".t{s.rng.randrange(1000)} {{}}\n".encode()
        return f"edit {path}"
    name = s.rng.choice(TEMPLATES)
    path = f"{folder}/templates/{name}"
    templates = [p for p in s.files if p.startswith(f"{folder}/templates/")]
    if path in s.files and len(templates) > 1 and s.rng.random() < 0.4:
        del s.files[path]
        return f"delete {path}"
    s.files[path] = overridden(name, f"{folder} {s.rng.randrange(1000)}")
    return f"edit {path}"


# --- static/ --------------------------------------------------------------------------


def change_static(s: FixtureSite) -> str:
    name = s.rng.choice(IMAGES)
    s.files[f"static/{name}"] = svg(s.rng)
    return f"new bytes for static/{name}"


def add_or_delete_static(s: FixtureSite) -> str:
    path = "static/files/notes.txt"
    if path in s.files:
        del s.files[path]
        return f"delete {path}"
    s.files[path] = words(s.rng, 2, 6).encode() + b"\n"
    return f"add {path}"


def static_hiding_generated(s: FixtureSite) -> str:
    """A static file with the path of a generated file or a theme asset (a warning)."""
    path = s.rng.choice(
        ["static/robots.txt", "static/assets/style.css", "static/assets/highlight.css"]
    )
    if path in s.files:
        del s.files[path]
        return f"delete {path}"
    s.files[path] = words(s.rng, 1, 4).encode() + b"\n"
    return f"add {path} (it hides a generated file or a theme asset)"


def stray_content(s: FixtureSite) -> str:
    """A file or folder under content/ that is not read (a warning)."""
    path = s.rng.choice(["content/stories/notes.txt", "content/drafts/idea.md", "content/x.md"])
    if path in s.files:
        del s.files[path]
        return f"delete the stray {path}"
    s.files[path] = b"not read\n"
    return f"add the stray {path}"


def empty_folder(s: FixtureSite) -> str:
    """An empty folder in content/ or in a content folder (a warning either way)."""
    folder = s.rng.choice(["content/stories/old", "content/members/photos", "content/archive"])
    if folder in s.folders:
        s.folders.remove(folder)
        (s.root / folder).rmdir()
        return f"remove the empty folder {folder}"
    s.folders.add(folder)
    return f"make an empty folder {folder}"


def public_key(s: FixtureSite) -> str:
    path = "federation/public-key.pem"
    if path in s.files:
        s.spare_key = s.files.pop(path)
        return f"delete {path}"
    s.files[path] = s.spare_key
    return f"put back {path}"


# --- interactions/ ----------------------------------------------------------------------


def add_reply(s: FixtureSite) -> str | None:
    targets = [f"stories/{x}" for x in s.story_slugs()] + [f"events/{x}" for x in s.event_ids()]
    path, doc = reply(s, s.rng.choice(targets))
    s.docs[path] = doc
    return f"add the reply {path}"


def add_nested_reply(s: FixtureSite) -> str | None:
    """A reply to a reply, in the same thread."""
    parent = _pick(s, s.paths("interactions/replies/"))
    if parent is None:
        return None
    target = s.docs[parent].meta["target"]
    assert isinstance(target, str)
    path, doc = reply(s, target)
    doc.meta["in_reply_to"] = s.docs[parent].meta["id"]
    s.docs[path] = doc
    return f"add {path} in reply to {parent}"


def edit_or_delete_interaction(s: FixtureSite) -> str | None:
    path = _pick(s, s.paths("interactions/"))
    if path is None:
        return None
    if s.rng.random() < 0.4:
        del s.docs[path]
        return f"delete {path}"
    doc = s.docs[path]
    if s.rng.random() < 0.5:
        doc.body = f"<p>{words(s.rng, 2, 9)}</p>\n"
    else:
        doc.meta["published"] = s.now + timedelta(hours=s.rng.randint(-900, 300))
    return f"edit {path}"


def add_introduction(s: FixtureSite) -> str:
    path, doc = introduction(s)
    s.docs[path] = doc
    return f"add the introduction {path}"


def edit_reactions(s: FixtureSite) -> str:
    path = "interactions/reactions.yaml"
    if path in s.files and s.rng.random() < 0.2:
        del s.files[path]
        return f"delete {path}"
    targets = [f"stories/{x}" for x in s.story_slugs()] + [f"events/{x}" for x in s.event_ids()]
    lines = [
        f"{t}: {{likes: {s.rng.randint(0, 9)}, boosts: {s.rng.randint(0, 3)}}}\n"
        for t in sorted(s.rng.sample(targets, s.rng.randint(1, 3)))
    ]
    s.files[path] = "".join(lines).encode()
    return f"reactions: {''.join(lines).strip()}"


# --- no change, and time ----------------------------------------------------------------


def touch(s: FixtureSite) -> str:
    path = s.rng.choice(sorted(s.contents()))
    s.touch(path)
    return f"touch {path} (same bytes)"


def advance_clock(s: FixtureSite) -> str:
    """Jump to just before, at or just after the next moment a page compares with
    the clock (an event's start or end, a story's date, a reply's, 30 or 180 days
    after one: NodeInfo's activity windows), or a little."""
    moments = s.moments()
    windows = [m + timedelta(days=d) for m in moments for d in (30, 180)]
    ahead = sorted(m for m in (*moments, *windows) if m.timestamp() > s.epoch)
    before = s.now
    if ahead and s.rng.random() < 0.8:
        target = s.rng.choice(ahead[:3]).timestamp()
        s.epoch = int(target) + s.rng.choice([-1, 0, 0, 1, 1, 60, 3600, 86400])
    else:
        s.epoch += s.rng.choice([1, 3600, 86400 * 3, 86400 * 40])
    s.epoch = max(s.epoch, int(before.timestamp()))
    return f"the clock moves {before:%Y-%m-%d %H:%M:%S} -> {s.now:%Y-%m-%d %H:%M:%S}Z"


def clock_back(s: FixtureSite) -> str:
    """SOURCE_DATE_EPOCH is often the last commit's time: checking out an older
    commit takes it back."""
    before = s.now
    s.epoch -= s.rng.choice([1, 3600, 86400 * 5, 86400 * 60])
    return f"the clock goes back {before:%Y-%m-%d %H:%M:%S} -> {s.now:%Y-%m-%d %H:%M:%S}Z"


# --- invalid edits ------------------------------------------------------------------------


def _broken_doc(s: FixtureSite, path: str, change: Callable[[Doc], None]) -> None:
    doc = Doc(dict(s.docs[path].meta), s.docs[path].body)
    change(doc)
    s.break_file(path, doc.text().encode())


def break_story(s: FixtureSite) -> str | None:
    path = _pick(s, s.stories)
    if path is None:
        return None
    others = [x for x in s.story_slugs() if x != event_id(path, s.docs[path])]
    how: dict[str, Callable[[Doc], None]] = {
        "no title": lambda d: d.meta.pop("title"),
        "a date that is not one": lambda d: d.meta.__setitem__("date", "tomorrow"),
        "an unknown author": lambda d: d.meta.__setitem__("authors", ["nobody"]),
        "an unknown event": lambda d: d.meta.__setitem__("event", "no-such-event"),
        "a missing image": lambda d: d.meta.__setitem__("image", "images/missing.png"),
        "another story's slug": lambda d: d.meta.__setitem__("slug", s.rng.choice(others)),
    }
    name = s.rng.choice(sorted(how))
    _broken_doc(s, path, how[name])
    return f"INVALID: {path} gets {name}"


def break_file_bytes(s: FixtureSite) -> str | None:
    path = _pick(s, [*s.stories, *s.members, *s.events, "content/rules.md"])
    if path is None:
        return None
    kind = s.rng.choice(["not UTF-8", "no front matter", "bad YAML"])
    text = s.docs[path].text().encode()
    if kind == "not UTF-8":
        data = text + b"\xff\xfe caf\xe9\n"
    elif kind == "no front matter":
        data = b"just text\n"
    else:
        data = text.replace(b"---\n", b"---\nkey: [unclosed\n", 1)
    s.break_file(path, data)
    return f"INVALID: {path} is {kind}"


def break_event(s: FixtureSite) -> str | None:
    path = _pick(s, s.events)
    if path is None:
        return None
    start = s.docs[path].meta["start"]
    assert isinstance(start, datetime)
    _broken_doc(s, path, lambda d: d.meta.__setitem__("end", start - timedelta(hours=1)))
    return f"INVALID: {path} ends before it starts"


def break_config(s: FixtureSite) -> str:
    kind = s.rng.choice(["per_page: 0", "timezone: Mars/Olympus", "title missing", "bad YAML"])
    config = dict(s.config)
    if kind == "per_page: 0":
        config["per_page"] = 0
    elif kind == "timezone: Mars/Olympus":
        config["timezone"] = "Mars/Olympus"
    elif kind == "title missing":
        del config["title"]
    text = config_text(config) + (": : [\n" if kind == "bad YAML" else "")
    s.break_file("commsite.yaml", text.encode())
    return f"INVALID: commsite.yaml with {kind}"


def break_template(s: FixtureSite) -> str:
    name = s.rng.choice(TEMPLATES)
    path = f"theme/templates/{name}"
    data = s.files.get(path) or overridden(name, "broken")
    s.break_file(path, data.replace(b"{% endblock %}", b"{% if %}{% endblock %}", 1))
    if name == "macros.html":
        s.break_file(path, data + b"{% macro broken( %}\n")
    return f"INVALID: a template syntax error in {path}"


def break_interaction(s: FixtureSite) -> str | None:
    path = _pick(s, s.paths("interactions/"))
    if path is None:
        return None
    _broken_doc(s, path, lambda d: d.meta.__setitem__("published", "someday"))
    return f"INVALID (perhaps only a warning): {path} with a bad 'published'"


# --- choosing ---------------------------------------------------------------------------

# (weight, edit): story edits are the commonest, as on a real site.
EDITS: list[tuple[int, Edit]] = [
    (3, add_story),
    (2, delete_story),
    (2, rename_story),
    (3, retitle_story),
    (4, redate_story),
    (2, toggle_draft),
    (1, change_slug),
    (3, retag_story),
    (2, change_authors),
    (2, change_summary),
    (3, change_body),
    (2, change_event_link),
    (1, change_image),
    (1, change_updated),
    (1, add_member),
    (1, delete_member),
    (1, rename_member),
    (3, edit_member),
    (1, add_event),
    (1, delete_event),
    (4, edit_event),
    (1, rename_event),
    (2, edit_rules),
    (1, add_page),
    (1, delete_page),
    (1, edit_page),
    (4, edit_config),
    (2, theme_template),
    (1, theme_css),
    (1, switch_theme),
    (2, edit_local_theme),
    (1, static_hiding_generated),
    (1, stray_content),
    (1, empty_folder),
    (1, public_key),
    (1, add_nested_reply),
    (1, page_slug),
    (1, change_static),
    (1, add_or_delete_static),
    (2, add_reply),
    (2, edit_or_delete_interaction),
    (1, add_introduction),
    (1, edit_reactions),
    (2, touch),
    (4, advance_clock),
    (1, clock_back),
]
INVALID: list[tuple[int, Edit]] = [
    (3, break_story),
    (2, break_file_bytes),
    (1, break_event),
    (2, break_config),
    (2, break_template),
    (1, break_interaction),
]
INVALID_SHARE = 0.08


def random_edit(s: FixtureSite, *, valid_only: bool = False) -> str:
    """Apply one edit chosen by weight (an invalid one now and then) and describe it."""
    rng: random.Random = s.rng
    table = EDITS if valid_only or rng.random() >= INVALID_SHARE else INVALID
    weights = [w for w, _ in table]
    while True:
        edit = rng.choices([e for _, e in table], weights)[0]
        described = edit(s)
        if described is not None:
            return described
