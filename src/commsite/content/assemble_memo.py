"""What assemble_site made of each file, kept by a long-lived builder, and the
last Site, into which an edit that moves no story is swapped."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from time import time_ns

from commsite.content.checks import Checker, check_recap_date, slug_of
from commsite.content.items import make_story
from commsite.content.layout import folder_entries, layout_warnings
from commsite.content.model import Event, Site, Story
from commsite.content.parse import ParsedFile
from commsite.errors import Diagnostic

__all__ = ["AssembleMemo", "made_once", "marked_future"]

_RACY_NS = 2_000_000_000  # a folder changed this recently (ns) may change within its mtime tick


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
        self.static: frozenset[str] = frozenset()
        self._context: tuple[object, ...] | None = None
        self._last: dict[int, Made] = {}
        self._next: dict[int, Made] = {}
        self._slugs: dict[int, tuple[ParsedFile, str]] = {}
        self._layout: tuple[tuple[tuple[str, int], ...], list[Diagnostic]] | None = None
        self._assembled: Assembled | None = None  # the last Site made, for `story_edits`

    def begin(self, static_files: Collection[str]) -> None:
        self.static = frozenset(static_files)

    def use(self, context: tuple[object, ...]) -> None:
        context = (*context, self.static)
        if context != self._context:
            self._context, self._last = context, {}
        self._next = {}

    def get(self, p: ParsedFile) -> Made | None:
        found = self._last.get(id(p))
        return found if found is not None and found.parsed is p else None

    def put(self, made: Made) -> None:
        self._next[id(made.parsed)] = made

    def finish(self) -> None:
        self._last, self._next = self._next, {}

    def slug(self, p: ParsedFile) -> str:
        found = self._slugs.get(id(p))
        if found is not None and found[0] is p:
            return found[1]
        slug = slug_of(p)
        self._slugs[id(p)] = (p, slug)
        return slug

    def forget_slugs(self, kept: Sequence[ParsedFile]) -> None:
        ids = {id(p) for p in kept}
        self._slugs = {k: v for k, v in self._slugs.items() if k in ids}

    def layout_warnings(self, root: Path) -> list[Diagnostic]:
        """layout_warnings(root), again only when a folder under content/ changed.

        Adding, removing or renaming an entry changes its folder's mtime; a folder
        changed in the last moments is listed again (its mtime may not have
        ticked yet)."""
        content = root / "content"
        try:
            folders = [
                (e.path, e.stat().st_mtime_ns) for e in folder_entries(content) if e.is_dir()
            ]
            stamps = (*folders, (str(content), content.stat().st_mtime_ns))
        except OSError:
            return layout_warnings(root)
        settled = all(stamp < time_ns() - _RACY_NS for _, stamp in stamps)
        if settled and self._layout is not None and self._layout[0] == stamps:
            return list(self._layout[1])
        found = layout_warnings(root)
        self._layout = (stamps, found)
        return list(found)

    def story_edits(
        self,
        checker: Checker,
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
        made: list[tuple[ParsedFile, Made]] = []  # (the old file, what the new one made)
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
                or any(new.meta.get(k) != old.meta.get(k) for k in STORY_PLACE)
                or ("slug" in new.meta) != ("slug" in old.meta)
            ):
                return None
            story = make_story(checker, new, last.members_by_id, last.events_by_id)
            event = last.events.get(story.event) if story is not None and story.event else None
            if story is not None and event is not None:
                check_recap_date(checker, new, story, event)
            if story is None or checker.problems or story.date > now:
                return None
            stories[at] = story
            made.append((old, Made(new, story, ())))
        layout = self.layout_warnings(checker.root)
        if layout != last.layout:
            return None
        for old, entry in made:  # what the next call that makes everything finds made
            self._last.pop(id(old), None)
            self._slugs.pop(id(old), None)
            self._last[id(entry.parsed)] = entry
            self.slug(entry.parsed)
        site = replace(last.site, stories=tuple(stories), now=now.astimezone(UTC))
        self._assembled = replace(last, parsed=list(parsed), site=site, now=now)
        return site, list(last.diagnostics)

    def remember(
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
        self._assembled = Assembled(
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
STORY_PLACE = ("slug", "date", "draft", "tags")
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Assembled:
    """What assemble_site made last, for AssembleMemo.story_edits."""

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
class Made:
    parsed: ParsedFile
    value: object  # the Member, Event or Story (None when the file has errors)
    problems: tuple[Diagnostic, ...]
    variant: Story | None = None  # the story marked future, when made


def made_once(
    c: Checker,
    memo: AssembleMemo | None,
    p: ParsedFile,
    make: Callable[[], object],
) -> object:
    """make(), or what it gave for the same file in the same context last time."""
    if memo is not None:
        found = memo.get(p)
        if found is not None:
            c.problems.extend(found.problems)
            memo.put(found)
            return found.value
    before = len(c.problems)
    value = make()
    if memo is not None:
        memo.put(Made(p, value, tuple(c.problems[before:])))
    return value


def marked_future(memo: AssembleMemo | None, p: ParsedFile, story: Story) -> Story:
    """`story` marked future (the same object each build, with a memo)."""
    made = memo._next.get(id(p)) if memo is not None else None
    if made is None:
        return replace(story, future=True)
    if made.variant is None:
        made.variant = replace(story, future=True)
    return made.variant
