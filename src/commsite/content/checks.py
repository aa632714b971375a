"""Checks of content files against each other and against the site: ids that
are unique and usable in a web address, references to members and events,
dates in the site's time zone, tags that would share a page, handles.

`Checker` collects the problems of one assemble as Diagnostics at the line of
the key concerned.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from commsite.content import fields as f
from commsite.content.layout import file_stem
from commsite.content.model import Event, Story
from commsite.content.parse import ParsedFile
from commsite.errors import Diagnostic, Severity
from commsite.slugs import slugify

__all__ = [
    "Checker",
    "check_handles",
    "check_recap_date",
    "check_tag_pages",
    "meta_pairs",
    "meta_str",
    "meta_strs",
    "slug_of",
    "written",
]

_DATE_PREFIX = re.compile(r"\d{4}-\d\d-\d\d-(?=.)")


def slug_of(file: ParsedFile) -> str:
    """The file's id: `slug` from the front matter, or the file name without a date prefix."""
    given = file.meta.get("slug")
    if isinstance(given, str) and file.kind != "member":  # a member's id is its file name
        return given
    stem = file_stem(file.path)
    if file.kind in ("story", "event"):
        return _DATE_PREFIX.sub("", stem, count=1)
    return stem


class Checker:
    """Cross-file checks for one assemble run; collects diagnostics."""

    def __init__(
        self, root: Path, tz: ZoneInfo, slug: Callable[[ParsedFile], str] | None = None
    ) -> None:
        self.root = root
        self.tz = tz
        self.problems: list[Diagnostic] = []
        self.slug = slug or slug_of

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
        single = meta_str(file.meta, key)
        ids = (single,) if single is not None else meta_strs(file.meta, key)
        for n, ref in enumerate(ids, start=1):
            if ref not in known:
                hint = f.unknown_id_hint(ref, known, what, folder)
                if single is not None and "," in ref and key == "author":  # author: a, b
                    names = [part.strip() for part in ref.split(",") if part.strip()]
                    hint = f"for several authors, write a list: authors: [{', '.join(names)}]"
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
    stem = file_stem(path)
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


def check_tag_pages(
    c: Checker, files: Sequence[ParsedFile], key: str = "tags", folder: str = "tags"
) -> None:
    """Warn when two different tags would share one tag page ('C++' and 'C#' -> /tags/c/);
    with `key` "interests" and `folder` "interests", members' interests."""
    # Each tag as written, with the first file that uses it (in file order): only a
    # spelling's first use can be reported, so the rest need no more work.
    first_use: dict[str, ParsedFile] = {}
    for file in files:
        for tag in meta_strs(file.meta, key):
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
                key,
                f"the {key} '{tag}' and '{other}'{also} share one page, /{folder}/{slug}/",
                f"{key} are told apart by their letters and digits only; rename one of"
                " them, e.g. spell out a symbol",
                Severity.WARNING,
            )
        spellings[spelling] = (tag, file.path)


def meta_str(meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) else None


def meta_strs(meta: dict[str, object], key: str) -> tuple[str, ...]:
    value = meta.get(key)
    return tuple(str(v) for v in value) if isinstance(value, tuple) else ()


def meta_pairs(meta: dict[str, object], key: str) -> tuple[tuple[str, str], ...]:
    value = meta.get(key)
    return tuple((str(a), str(b)) for a, b in value) if isinstance(value, tuple) else ()


def check_handles(c: Checker, member_files: Sequence[ParsedFile]) -> None:
    """Two members with one handle: moderation could not tell them apart."""
    seen: dict[str, str] = {}
    for p in member_files:
        handle = meta_str(p.meta, "handle")
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


def written(p: ParsedFile, key: str) -> str:
    """A date or datetime value as the file gave it."""
    value = p.meta.get(key)
    return value.isoformat() if isinstance(value, date) else str(value)


def check_recap_date(c: Checker, p: ParsedFile, story: Story, event: Event) -> None:
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
