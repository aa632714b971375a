"""Loading a whole site: find the files, parse each, then check them together.

`load_site` is the one-call entry point. The build, which caches per-file
parsing, calls the three steps itself: `discover`, `parse_file` (from
commsite.content.parse) and `assemble_site`.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import time_ns
from zoneinfo import ZoneInfo

from commsite.config import SiteConfig
from commsite.content import fields as f
from commsite.content.config_loader import CONFIG_FILE, load_config, missing_config
from commsite.content.interactions import load_interactions
from commsite.content.model import (
    Event,
    Interactions,
    LeftOut,
    Location,
    Member,
    Page,
    Rules,
    Site,
    Story,
)
from commsite.content.parse import ParsedFile, parse_file
from commsite.datadir import PUBLIC_KEY_PATH
from commsite.errors import Diagnostic, Severity
from commsite.slugs import slugify

__all__ = [
    "CONTENT_DIRS",
    "RESERVED_PAGE_SLUGS",
    "AssembleMemo",
    "assemble_site",
    "discover",
    "load_site",
]

# folder under content/ -> kind of each .md file in it
CONTENT_DIRS = {"stories": "story", "members": "member", "events": "event", "pages": "page"}
RULES_FILE = "content/rules.md"
# Top-level output names a page slug must not take.
RESERVED_PAGE_SLUGS = frozenset(
    {
        "stories", "members", "events", "rules", "tags", "welcome", "feed.xml", "feed.json",
        "events.ics", "sitemap.xml", "robots.txt", "404.html", "ap", "inbox", "nodeinfo",
        "static", ".well-known", "_deploy", "assets",
    }
)  # fmt: skip
NO_INTERACTIONS = Interactions()
_DATE_PREFIX = re.compile(r"\d{4}-\d\d-\d\d-(?=.)")
_RACY_NS = 2_000_000_000  # a folder changed this recently (ns) may change within its mtime tick


def discover(root: Path) -> list[tuple[str, str]]:
    """(kind, path relative to root) of every content file, sorted by path."""
    found: list[tuple[str, str]] = []
    content = root / "content"
    for folder, kind in CONTENT_DIRS.items():
        for entry in _entries(content / folder):
            name = entry.name
            if name.endswith(".md") and not name.startswith(".") and entry.is_file():
                found.append((kind, f"content/{folder}/{name}"))
    if (content / "rules.md").is_file():
        found.append(("rules", RULES_FILE))
    found.sort(key=lambda item: item[1])
    return found


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    """The entries of `directory`, sorted by name (none if it is not a readable folder).
    DirEntry knows whether it is a file or a folder without another system call."""
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def _layout_warnings(root: Path) -> list[Diagnostic]:
    """Files and folders under content/ that are not read, most likely by mistake."""
    content = root / "content"
    problems: list[Diagnostic] = []
    for entry in _entries(content):
        name = entry.name
        if name.startswith("."):
            continue
        rel = f"content/{name}"
        if entry.is_dir():
            if name not in CONTENT_DIRS:
                hint = f.did_you_mean(name, CONTENT_DIRS) or "use " + ", ".join(CONTENT_DIRS)
                problems.append(
                    Diagnostic(rel, None, f"folder '{name}' is not read", Severity.WARNING, hint)
                )
                continue
            for file in _entries(Path(entry.path)):
                if file.name.startswith(".") or _editor_litter(file.name):
                    continue
                if file.is_dir():
                    message = "folders in here are not read"
                    hint = f"move the .md files up into {rel}/"
                elif os.path.splitext(file.name)[1] != ".md":
                    message = "this file is not read (only .md files are)"
                    hint = "rename it to .md, or move images and other files to static/"
                else:
                    continue
                problems.append(
                    Diagnostic(f"{rel}/{file.name}", None, message, Severity.WARNING, hint)
                )
        elif name != "rules.md":
            hint = (
                f"move it to content/pages/{name} to make it a page"
                if os.path.splitext(name)[1] == ".md"
                else "move it to static/ or into one of the content folders"
            )
            problems.append(Diagnostic(rel, None, "this file is not read", Severity.WARNING, hint))
    return problems


def _editor_litter(name: str) -> bool:
    """Backup and lock files editors leave next to what they edit (about.md~, #about.md#)."""
    return name.endswith("~") or name.startswith("#") or name in ("Thumbs.db", "desktop.ini")


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")


def _slug(file: ParsedFile) -> str:
    """The file's id: `slug` from the front matter, or the file name without a date prefix."""
    given = file.meta.get("slug")
    if isinstance(given, str) and file.kind != "member":  # a member's id is its file name
        return given
    stem = _stem(file.path)
    if file.kind in ("story", "event"):
        return _DATE_PREFIX.sub("", stem, count=1)
    return stem


class _Checker:
    """Cross-file checks for one assemble run; collects diagnostics."""

    def __init__(
        self, root: Path, tz: ZoneInfo, slug: Callable[[ParsedFile], str] | None = None
    ) -> None:
        self.root = root
        self.tz = tz
        self.problems: list[Diagnostic] = []
        self.slug = slug or _slug

    def error(
        self,
        file: ParsedFile,
        key: str,
        message: str,
        hint: str | None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        """A problem at `key`'s line (line 1, the front matter, when the key is absent)."""
        line = file.key_lines.get(key, 1)
        self.problems.append(Diagnostic(file.path, line, message, severity, hint))

    def when(self, file: ParsedFile, key: str) -> datetime | None:
        """The aware datetime of a date/datetime key (a date is midnight local time)."""
        value = file.meta.get(key)
        if isinstance(value, datetime):
            naive = value
        elif isinstance(value, date):
            naive = datetime.combine(value, time())
        else:
            return None
        if naive.tzinfo is not None:
            return naive.astimezone(self.tz)
        local = naive.replace(tzinfo=self.tz)
        if local.astimezone(UTC).astimezone(self.tz).replace(tzinfo=None) != naive:
            self.error(
                file,
                key,
                f"'{key}' is {naive.isoformat()}, a time that does not exist in {self.tz.key}"
                " (the clocks go forward then)",
                "give a time outside the gap, or add the UTC offset, e.g."
                f" {naive.isoformat()}{_offset(local)}",
            )
            return None
        if local.utcoffset() != local.replace(fold=1).utcoffset():
            self.error(
                file,
                key,
                f"'{key}' is {naive.isoformat()}, which happens twice in {self.tz.key}"
                " (the clocks go back then); taking the first",
                f"add the UTC offset to choose: {naive.isoformat()}{_offset(local)} for the"
                f" first, {naive.isoformat()}{_offset(local.replace(fold=1))} for the second",
                Severity.WARNING,
            )
        return local

    def static(self, file: ParsedFile, key: str) -> str | None:
        rel = file.meta.get(key)
        if not isinstance(rel, str):
            return None
        try:
            f.static_file(self.root, key, rel)
        except f.Invalid as exc:
            self.error(file, key, exc.message, exc.hint)
            return None
        return rel

    def refs(
        self, file: ParsedFile, key: str, known: dict[str, str], what: str, folder: str
    ) -> tuple[str, ...]:
        single = _str(file.meta, key)
        ids = (single,) if single is not None else _strs(file.meta, key)
        for n, ref in enumerate(ids, start=1):
            if ref not in known:
                hint = f.did_you_mean(ref, known) or f"add content/{folder}/{ref}.md"
                where = f"{key}[{n}]" if single is None and f"{key}[{n}]" in file.key_lines else key
                self.error(file, where, f"'{key}' names unknown {what} '{ref}'", hint)
        return ids

    def unique(self, files: Sequence[ParsedFile], reserved: frozenset[str] = frozenset()) -> None:
        seen: dict[str, str] = {}
        for file in files:
            slug = self.slug(file)
            if "slug" not in file.meta and not _usable_in_url(slug):
                what = "member id" if file.kind == "member" else "slug"
                self.error(
                    file,
                    "slug",
                    f"the file name gives the {what} '{slug}', which cannot be used in a"
                    " web address",
                    f"rename the file to {_suggest_name(file.path)}",
                )
            elif slug.casefold() in reserved:  # one folder on macOS and Windows
                self.error(
                    file,
                    "slug",
                    f"the slug '{slug}' is taken by a page the site makes",
                    "rename the file or set another 'slug' in its front matter",
                )
            elif slug.casefold() in seen:  # 'Recap' and 'recap' are one folder on macOS
                self.error(
                    file,
                    "slug",
                    f"duplicate slug '{slug}' (also used by {seen[slug.casefold()]})",
                    "rename one of the files or set another 'slug' in its front matter",
                )
            else:
                seen[slug.casefold()] = file.path


def _offset(moment: datetime) -> str:
    """The UTC offset of an aware datetime as ISO 8601 writes it: +01:00."""
    total = int((moment.utcoffset() or timedelta()).total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


@functools.lru_cache(maxsize=65536)
def _usable_in_url(slug: str) -> bool:
    try:
        f.slug("slug", slug)
    except f.Invalid:
        return False
    return True


def _suggest_name(path: str) -> str:
    """A file name like PATH's that gives a usable id: 'Ada Okafor.md' -> 'ada-okafor.md'."""
    stem = _stem(path)
    tidy = re.sub(r"[^\w.-]+", "-", stem.lower()).strip("-.") or "name"
    return f"'{tidy}.md'"


@functools.lru_cache(maxsize=8192)
def _spelling(tag: str) -> str:
    """A tag as written, minus what its page merges anyway: case, accents, spaces,
    hyphens and underscores, end punctuation ("Repair Café" == "repair-cafe")."""
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", tag) if not unicodedata.combining(ch)
    )
    return re.sub(r"[\s_-]+", "-", folded.casefold()).strip("-.,;:!?")


def _check_tag_pages(c: _Checker, files: Sequence[ParsedFile]) -> None:
    """Warn when two different tags would share one tag page ('C++' and 'C#' -> /tags/c/)."""
    # Each tag as written, with the first file that uses it (in file order): only a
    # spelling's first use can be reported, so the rest need no more work.
    first_use: dict[str, ParsedFile] = {}
    for file in files:
        for tag in _strs(file.meta, "tags"):
            first_use.setdefault(tag, file)
    first: dict[str, dict[str, tuple[str, str]]] = {}  # slug -> spelling -> (tag, path)
    for tag, file in first_use.items():
        slug = slugify(tag)
        spellings = first.setdefault(slug, {})
        spelling = _spelling(tag)
        if spelling in spellings:
            continue
        if spellings:
            other, where = next(iter(spellings.values()))
            also = "" if where == file.path else f" (in {where})"
            c.error(
                file,
                "tags",
                f"the tags '{tag}' and '{other}'{also} share one page, /tags/{slug}/",
                "tags are told apart by their letters and digits only; rename one of"
                " them, e.g. spell out a symbol",
                Severity.WARNING,
            )
        spellings[spelling] = (tag, file.path)


def _str(meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) else None


def _strs(meta: dict[str, object], key: str) -> tuple[str, ...]:
    value = meta.get(key)
    return tuple(str(v) for v in value) if isinstance(value, tuple) else ()


def _pairs(meta: dict[str, object], key: str) -> tuple[tuple[str, str], ...]:
    value = meta.get(key)
    return tuple((str(a), str(b)) for a, b in value) if isinstance(value, tuple) else ()


def _check_handles(c: _Checker, member_files: Sequence[ParsedFile]) -> None:
    """Two members with one handle: moderation could not tell them apart."""
    seen: dict[str, str] = {}
    for p in member_files:
        handle = _str(p.meta, "handle")
        if handle is None:
            continue
        first = seen.setdefault(handle.lower(), p.path)
        if first != p.path:
            c.error(
                p,
                "handle",
                f"the handle {handle} is also {first}'s",
                "each member should have their own handle; remove one of them",
                Severity.WARNING,
            )


def _written(p: ParsedFile, key: str) -> str:
    """A date or datetime value as the file gave it."""
    value = p.meta.get(key)
    return value.isoformat() if isinstance(value, date) else str(value)


def _member(c: _Checker, p: ParsedFile) -> Member | None:
    avatar = c.static(p, "avatar")
    if not p.ok:
        return None
    joined = p.meta.get("joined")
    return Member(
        id=_slug(p),
        name=str(p.meta["name"]),
        bio_html=p.body_html,
        source=p.path,
        handle=_str(p.meta, "handle"),
        pronouns=_str(p.meta, "pronouns"),
        interests=_strs(p.meta, "interests"),
        location=_str(p.meta, "location"),
        joined=joined if isinstance(joined, date) else None,
        roles=_strs(p.meta, "roles"),
        links=_pairs(p.meta, "links"),
        avatar=avatar,
        summary=p.summary,
    )


def _event(c: _Checker, p: ParsedFile, members: dict[str, str]) -> Event | None:
    start = c.when(p, "start")
    end = c.when(p, "end")
    if start is not None and end is not None and end <= start:
        c.error(
            p,
            "end",
            f"'end' ({_written(p, 'end')}) is not after 'start' ({_written(p, 'start')})",
            "make 'end' later than 'start', or remove it",
        )
    hosts = c.refs(p, "hosts", members, "member", "members")
    image = c.static(p, "image")
    place = p.meta.get("location")
    capacity = p.meta.get("capacity")
    if not p.ok or start is None:
        return None
    return Event(
        slug=_slug(p),
        title=str(p.meta["title"]),
        start=start,
        body_html=p.body_html,
        summary=p.summary,
        source=p.path,
        end=end,
        location=Location(**place) if isinstance(place, dict) else None,
        online=_str(p.meta, "online"),
        hosts=hosts,
        capacity=capacity if isinstance(capacity, int) else None,
        status=_str(p.meta, "status") or "scheduled",
        tags=_strs(p.meta, "tags"),
        image=image,
    )


def _check_recap_date(c: _Checker, p: ParsedFile, story: Story, event: Event) -> None:
    """A story dated before its event cannot be the event's recap (the page would say
    "A recap of ..." for an announcement)."""
    day = story.date.astimezone(c.tz).date()
    event_day = event.start.astimezone(c.tz).date()
    if day < event_day:
        c.error(
            p,
            "event",
            f"'event' makes this story the recap of '{event.slug}', but the story"
            f" ({day.isoformat()}) is dated before the event ({event_day.isoformat()})",
            "remove 'event:' if the story announces the event, or fix its date",
            Severity.WARNING,
        )


def _story(
    c: _Checker, p: ParsedFile, members: dict[str, str], events: dict[str, str]
) -> Story | None:
    when = c.when(p, "date")
    updated = c.when(p, "updated")
    authors = c.refs(p, "author" if "author" in p.meta else "authors", members, "member", "members")
    event = _str(p.meta, "event")
    if event is not None:
        c.refs(p, "event", events, "event", "events")
    image = c.static(p, "image")
    if not p.ok or when is None:
        return None
    return Story(
        slug=_slug(p),
        title=str(p.meta["title"]),
        date=when,
        body_html=p.body_html,
        summary=p.summary,
        source=p.path,
        authors=authors,
        tags=_strs(p.meta, "tags"),
        event=event,
        image=image,
        draft=p.meta.get("draft") is True,
        updated=updated,
    )


class AssembleMemo:
    """What assemble_site made of each file, kept by a long-lived builder.

    A file's model object and its own diagnostics depend on the file, the config,
    the member and event ids it may name and the files in static/ (images). When
    the ParsedFile is the same object as last time and that context is equal,
    the last object is given again (the same object, so later stages can tell
    by identity that nothing about it changed). Call `begin` before each build
    with the paths of the files under static/.
    """

    def __init__(self) -> None:
        self._static: frozenset[str] = frozenset()
        self._context: tuple[object, ...] | None = None
        self._last: dict[int, _Made] = {}
        self._next: dict[int, _Made] = {}
        self._slugs: dict[int, tuple[ParsedFile, str]] = {}
        self._layout: tuple[tuple[tuple[str, int], ...], list[Diagnostic]] | None = None
        self._assembled: _Assembled | None = None  # the last Site made, for `_story_edits`

    def begin(self, static_files: Collection[str]) -> None:
        self._static = frozenset(static_files)

    def _use(self, context: tuple[object, ...]) -> None:
        context = (*context, self._static)
        if context != self._context:
            self._context, self._last = context, {}
        self._next = {}

    def _get(self, p: ParsedFile) -> _Made | None:
        found = self._last.get(id(p))
        return found if found is not None and found.parsed is p else None

    def _put(self, made: _Made) -> None:
        self._next[id(made.parsed)] = made

    def _finish(self) -> None:
        self._last, self._next = self._next, {}

    def _slug(self, p: ParsedFile) -> str:
        found = self._slugs.get(id(p))
        if found is not None and found[0] is p:
            return found[1]
        slug = _slug(p)
        self._slugs[id(p)] = (p, slug)
        return slug

    def _forget_slugs(self, kept: Sequence[ParsedFile]) -> None:
        ids = {id(p) for p in kept}
        self._slugs = {k: v for k, v in self._slugs.items() if k in ids}

    def _layout_warnings(self, root: Path) -> list[Diagnostic]:
        """_layout_warnings(root), again only when a folder under content/ changed.

        Adding, removing or renaming an entry changes its folder's mtime; a folder
        changed in the last moments is listed again (its mtime may not have
        ticked yet)."""
        content = root / "content"
        try:
            folders = [(e.path, e.stat().st_mtime_ns) for e in _entries(content) if e.is_dir()]
            stamps = (*folders, (str(content), content.stat().st_mtime_ns))
        except OSError:
            return _layout_warnings(root)
        settled = all(stamp < time_ns() - _RACY_NS for _, stamp in stamps)
        if settled and self._layout is not None and self._layout[0] == stamps:
            return list(self._layout[1])
        found = _layout_warnings(root)
        self._layout = (stamps, found)
        return list(found)

    def _story_edits(
        self,
        checker: _Checker,
        parsed: Sequence[ParsedFile],
        context: tuple[object, ...],
        now: datetime,
    ) -> tuple[Site, list[Diagnostic]] | None:
        """The Site of the last call with the edited stories replaced in place, when
        that is what assemble_site would make: the same files but for stories
        edited without moving or leaving (same slug, date, draft and tags), with no
        problems before or after, the same context and no story crossing `now`.
        Else None. Every whole-site check and sort of 10,000 stories took a
        one-story rebuild about 70 ms; this takes about 2."""
        last = self._assembled
        if last is None or last.context != context or len(parsed) != len(last.parsed):
            return None
        if not last.now <= now < last.next_future:
            return None
        stories = list(last.site.stories)
        made: list[tuple[ParsedFile, _Made]] = []  # (the old file, what the new one made)
        for n in [
            n for n, (a, b) in enumerate(zip(parsed, last.parsed, strict=True)) if a is not b
        ]:
            new, old = parsed[n], last.parsed[n]
            at = last.stories_at.get(old.path)
            if (
                at is None
                or new.path != old.path
                or new.kind != "story"
                or not new.ok
                or new.diagnostics
                or old.path in last.troubled
                or any(new.meta.get(k) != old.meta.get(k) for k in _STORY_PLACE)
                or ("slug" in new.meta) != ("slug" in old.meta)
            ):
                return None
            story = _story(checker, new, last.members_by_id, last.events_by_id)
            event = last.events.get(story.event) if story is not None and story.event else None
            if story is not None and event is not None:
                _check_recap_date(checker, new, story, event)
            if story is None or checker.problems or story.date > now:
                return None
            stories[at] = story
            made.append((old, _Made(new, story, ())))
        layout = self._layout_warnings(checker.root)
        if layout != last.layout:
            return None
        for old, entry in made:  # what the next call that makes everything finds made
            self._last.pop(id(old), None)
            self._slugs.pop(id(old), None)
            self._last[id(entry.parsed)] = entry
            self._slug(entry.parsed)
        site = replace(last.site, stories=tuple(stories), now=now.astimezone(UTC))
        self._assembled = replace(last, parsed=list(parsed), site=site, now=now)
        return site, list(last.diagnostics)

    def _remember(
        self,
        parsed: Sequence[ParsedFile],
        context: tuple[object, ...],
        now: datetime,
        site: Site | None,
        diagnostics: list[Diagnostic],
        layout: list[Diagnostic],
        ids: tuple[dict[str, str], dict[str, str]],
    ) -> None:
        if site is None:
            self._assembled = None
            return
        future = [s.date for s in site.stories if s.date > now] + [
            d for _, d in site.left_out.future
        ]
        self._assembled = _Assembled(
            parsed=list(parsed),
            context=context,
            now=now,
            next_future=min(future, default=_NEVER),
            site=site,
            diagnostics=tuple(diagnostics),
            troubled=frozenset(d.path for d in diagnostics),
            layout=layout,
            stories_at={s.source: n for n, s in enumerate(site.stories)},
            members_by_id=ids[0],
            events_by_id=ids[1],
            events={e.slug: e for e in site.events},
        )


# What places a story among the others (its slug, order, whether it is shown) and
# what whole-site checks read (its tags): an edit that keeps them keeps the order.
_STORY_PLACE = ("slug", "date", "draft", "tags")
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Assembled:
    """What assemble_site made last, for AssembleMemo._story_edits."""

    parsed: list[ParsedFile]  # as given, in order
    context: tuple[object, ...]  # everything else it was made from
    now: datetime
    next_future: datetime  # the first moment a story's date is passed after `now`
    site: Site
    diagnostics: tuple[Diagnostic, ...]
    troubled: frozenset[str]  # the files with a diagnostic
    layout: list[Diagnostic]  # the layout warnings among them
    stories_at: dict[str, int]  # a shown story's file -> its index in site.stories
    members_by_id: dict[str, str]
    events_by_id: dict[str, str]
    events: dict[str, Event]  # by slug


@dataclass(slots=True)
class _Made:
    parsed: ParsedFile
    value: object  # the Member, Event or Story (None when the file has errors)
    problems: tuple[Diagnostic, ...]
    variant: Story | None = None  # the story marked future, when made


def _made(
    c: _Checker,
    memo: AssembleMemo | None,
    p: ParsedFile,
    make: Callable[[], object],
) -> object:
    """make(), or what it gave for the same file in the same context last time."""
    if memo is not None:
        found = memo._get(p)
        if found is not None:
            c.problems.extend(found.problems)
            memo._put(found)
            return found.value
    before = len(c.problems)
    value = make()
    if memo is not None:
        memo._put(_Made(p, value, tuple(c.problems[before:])))
    return value


def _future(memo: AssembleMemo | None, p: ParsedFile, story: Story) -> Story:
    """`story` marked future (the same object each build, with a memo)."""
    made = memo._next.get(id(p)) if memo is not None else None
    if made is None:
        return replace(story, future=True)
    if made.variant is None:
        made.variant = replace(story, future=True)
    return made.variant


def assemble_site(
    root: Path,
    config: SiteConfig,
    parsed: Sequence[ParsedFile],
    *,
    now: datetime,
    drafts: bool = False,
    future: bool = False,
    interactions: Interactions = NO_INTERACTIONS,
    public_key_pem: str | None = None,
    memo: AssembleMemo | None = None,
) -> tuple[Site | None, list[Diagnostic]]:
    """Check the parsed files together and build the Site.

    The diagnostics returned include every file's own (`ParsedFile.diagnostics`),
    sorted. The Site is None when any diagnostic is an error. Its `left_out` names
    the stories skipped as drafts or as dated after `now`. `memo`: what the
    last call made of each file (a long-lived builder's), see AssembleMemo.
    """
    if now.tzinfo is None:
        raise ValueError("assemble_site needs an aware 'now' (e.g. datetime.now(UTC))")
    checker = _Checker(root, config.tz, memo._slug if memo is not None else None)
    context: tuple[object, ...] = (str(root), config, drafts, future, interactions, public_key_pem)
    if memo is not None:
        context += (memo._static,)
        quick = memo._story_edits(checker, parsed, context, now)
        if quick is not None:
            return quick
        checker.problems.clear()
    problems = checker.problems
    layout = memo._layout_warnings(root) if memo is not None else _layout_warnings(root)
    problems.extend(layout)
    by_kind: dict[str, list[ParsedFile]] = {}
    for p in sorted(parsed, key=lambda p: p.path):
        problems.extend(p.diagnostics)
        by_kind.setdefault(p.kind, []).append(p)

    member_files = by_kind.get("member", [])
    event_files = by_kind.get("event", [])
    members_by_id = {checker.slug(p): p.path for p in member_files}
    events_by_id = {checker.slug(p): p.path for p in event_files}
    for kind in ("story", "event", "member"):
        checker.unique(by_kind.get(kind, []))
    checker.unique(by_kind.get("page", []), RESERVED_PAGE_SLUGS)

    if memo is not None:
        memo._use((str(root), config, tuple(members_by_id), tuple(events_by_id)))

    def made(p: ParsedFile, make: Callable[[], object]) -> object:
        return _made(checker, memo, p, make)

    members: list[Member] = []
    for p in member_files:
        member = made(p, functools.partial(_member, checker, p))
        if isinstance(member, Member):
            members.append(member)
    _check_handles(checker, member_files)
    _check_tag_pages(checker, by_kind.get("story", []) + event_files)
    events: list[Event] = []
    for p in event_files:
        event = made(p, functools.partial(_event, checker, p, members_by_id))
        if isinstance(event, Event):
            events.append(event)
    stories: list[Story] = []
    left_drafts: list[str] = []
    left_future: list[tuple[str, datetime]] = []
    events_by_slug = {e.slug: e for e in events}
    for p in by_kind.get("story", []):
        story = made(p, functools.partial(_story, checker, p, members_by_id, events_by_id))
        if not isinstance(story, Story):
            continue
        if story.event in events_by_slug:
            _check_recap_date(checker, p, story, events_by_slug[story.event])
        if story.draft and not drafts:
            left_drafts.append(p.path)
            continue
        if story.date > now:
            if not future:
                left_future.append((p.path, story.date))
                continue
            story = _future(memo, p, story)
        stories.append(story)
    if memo is not None:
        memo._finish()
        memo._forget_slugs(parsed)
    pages = [
        Page(_slug(p), str(p.meta["title"]), p.body_html, p.summary, p.path)
        for p in by_kind.get("page", [])
        if p.ok
    ]

    rules_files = by_kind.get("rules", [])
    rules: Rules | None = None
    if not rules_files:
        problems.append(
            Diagnostic(
                RULES_FILE,
                None,
                f"{RULES_FILE} is missing",
                hint="create it with 'title: ...' in its front matter and the rules as a"
                " numbered list",
            )
        )
    elif rules_files[0].ok:
        r = rules_files[0]
        updated = r.meta.get("updated")
        rules = Rules(
            title=str(r.meta["title"]),
            body_html=r.body_html,
            items=r.rule_items,
            source=r.path,
            updated=updated if isinstance(updated, date) else None,
            first=r.rule_start,
        )

    diagnostics = sorted(dict.fromkeys(problems), key=Diagnostic.sort_key)
    if rules is None or any(d.is_error for d in diagnostics):
        if memo is not None:
            memo._assembled = None
        return None, diagnostics
    stories.sort(key=lambda s: s.slug)
    stories.sort(key=lambda s: s.date, reverse=True)
    members.sort(key=lambda m: (m.name.casefold(), m.id))
    events.sort(key=lambda e: (e.start, e.slug))
    pages.sort(key=lambda p: p.slug)
    site = Site(
        root=str(root.resolve()),
        config=config,
        now=now.astimezone(UTC),
        stories=tuple(stories),
        members=tuple(members),
        events=tuple(events),
        rules=rules,
        pages=tuple(pages),
        interactions=interactions,
        public_key_pem=public_key_pem,
        left_out=_left_out(left_drafts, left_future),
    )
    if memo is not None:
        ids = (members_by_id, events_by_id)
        memo._remember(parsed, context, now, site, diagnostics, layout, ids)
    return site, diagnostics


def _left_out(drafts: list[str], future: list[tuple[str, datetime]]) -> LeftOut:
    """What assemble_site skipped: drafts in path order, future stories earliest
    first (their dates are in the site's time zone, as every story's)."""
    if not drafts and not future:
        return LeftOut()
    return LeftOut(tuple(drafts), tuple(sorted(future, key=lambda f: (f[1], f[0]))))


_FALLBACK_CONFIG = SiteConfig(title="", base_url="http://localhost/")


def load_site(
    root: Path,
    *,
    now: datetime,
    drafts: bool = False,
    future: bool = False,
    parse: Callable[[str, str, bytes], ParsedFile] = parse_file,
) -> tuple[Site | None, list[Diagnostic]]:
    """Load, check and assemble the site at `root`, reporting every problem at once."""
    if not (root / CONFIG_FILE).exists():  # not a site (or no longer one): say only that
        return None, [missing_config(root)]
    config, problems = load_config(root)
    parsed: list[ParsedFile] = []
    for kind, rel in discover(root):
        try:
            data = (root / rel).read_bytes()
        except OSError as exc:
            problems.append(Diagnostic(rel, None, f"cannot read the file: {exc.strerror}"))
            continue
        parsed.append(parse(kind, rel, data))
    interactions, more = load_interactions(root)
    problems.extend(more)
    key_file = root / PUBLIC_KEY_PATH
    public_key = key_file.read_text(encoding="utf-8") if key_file.is_file() else None
    site, more = assemble_site(
        root,
        config or _FALLBACK_CONFIG,
        parsed,
        now=now,
        drafts=drafts,
        future=future,
        interactions=interactions,
        public_key_pem=public_key,
    )
    problems.extend(more)
    diagnostics = sorted(dict.fromkeys(problems), key=Diagnostic.sort_key)
    if config is None:
        return None, diagnostics
    return site, diagnostics
