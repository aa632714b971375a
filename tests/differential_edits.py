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
from datetime import datetime, timedelta

from differential_content_edits import (
    add_event,
    add_member,
    add_page,
    add_story,
    change_authors,
    change_body,
    change_event_link,
    change_image,
    change_slug,
    change_summary,
    change_updated,
    delete_event,
    delete_member,
    delete_page,
    delete_story,
    edit_event,
    edit_member,
    edit_page,
    edit_rules,
    page_slug,
    pick,
    redate_story,
    rename_event,
    rename_member,
    rename_story,
    retag_story,
    retitle_story,
    toggle_draft,
)
from differential_site import (
    IMAGES,
    LOCAL_THEMES,
    THEME,
    TIMEZONES,
    Doc,
    FixtureSite,
    config_text,
    event_id,
    image_bytes,
    introduction,
    overridden,
    reply,
    title,
    words,
)

__all__ = ["EDITS", "INVALID", "random_edit"]

Edit = Callable[[FixtureSite], str | None]
TEMPLATES = tuple(sorted(p.name for p in (THEME / "templates").glob("*.html")))


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
    s.files[f"static/{name}"] = image_bytes(s.rng, name)
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
    parent = pick(s, s.paths("interactions/replies/"))
    if parent is None:
        return None
    target = s.docs[parent].meta["target"]
    assert isinstance(target, str)
    path, doc = reply(s, target)
    doc.meta["in_reply_to"] = s.docs[parent].meta["id"]
    s.docs[path] = doc
    return f"add {path} in reply to {parent}"


def edit_or_delete_interaction(s: FixtureSite) -> str | None:
    path = pick(s, s.paths("interactions/"))
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
    lines = []
    for t in sorted(s.rng.sample(targets, s.rng.randint(1, 3))):
        counts = f"likes: {s.rng.randint(0, 9)}, boosts: {s.rng.randint(0, 3)}"
        by = []
        for _ in range(s.rng.randint(0, 2)):  # who reacted: members are shown by name
            name, handle = _person(s)
            user, host = handle[1:].split("@")
            kind = s.rng.choice(("like", "boost"))
            by.append(
                f"{{kind: {kind}, author_name: {name}, author_handle: '{handle}',"
                f" author_url: 'https://{host}/@{user}'}}"
            )
        lines.append(f"{t}: {{{counts}, by: [{', '.join(by)}]}}\n")
    s.files[path] = "".join(lines).encode()
    return f"reactions: {''.join(lines).strip()}"


def _person(s: FixtureSite) -> tuple[str, str]:
    """(name, handle): a member's handle now and then, else a stranger's."""
    members = s.member_ids()
    if members and s.rng.random() < 0.5:
        who = s.rng.choice(members)
        return who.title(), f"@{who}@social.example"
    n = s.rng.randrange(12)
    return f"Guest {n}", f"@g{n}@social.example"


def edit_rsvps(s: FixtureSite) -> str | None:
    """Answers to one event: added, changed, waiting, public or not, or the file deleted."""
    events = s.event_ids()
    if not events:
        return None
    slug = s.rng.choice(events)
    path = f"interactions/rsvps/{slug}.yaml"
    if path in s.files and s.rng.random() < 0.2:
        del s.files[path]
        return f"delete {path}"
    entries = []
    for i in range(s.rng.randint(1, 5)):
        name, handle = _person(s)
        user, host = handle[1:].split("@")
        entries.append(
            f"- author_name: {name}\n"
            f"  author_handle: '{handle}'\n"
            f"  author_url: https://{host}/@{user}\n"
            f"  answer: {s.rng.choice(('going', 'going', 'maybe', 'not_going'))}\n"
            f"  via: {s.rng.choice(('reply', 'poll', 'join', 'accept'))}\n"
            f"  waiting: {str(s.rng.random() < 0.2).lower()}\n"
            f"  public: {str(s.rng.random() < 0.5).lower()}\n"
            f"  answered: '2026-0{s.rng.randint(1, 9)}-1{i}T10:00:00+00:00'\n"
        )
    s.files[path] = "".join(entries).encode()
    return f"rsvps: {path} with {len(entries)} answers"


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
    path = pick(s, s.stories)
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
    path = pick(s, [*s.stories, *s.members, *s.events, "content/rules.md"])
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
    path = pick(s, s.events)
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
    if name == "macros.html" or b"{% endblock %}" not in data:  # (copy-button.html)
        s.break_file(path, data + b"{% macro broken( %}\n")
    return f"INVALID: a template syntax error in {path}"


def break_interaction(s: FixtureSite) -> str | None:
    path = pick(s, s.paths("interactions/"))
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
    (2, edit_rsvps),
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
