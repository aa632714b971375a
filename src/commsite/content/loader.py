"""Loading a whole site: find the files, parse each, then check them together.

`load_site` is the one-call entry point. The build, which caches per-file
parsing, calls the three steps itself: `discover` (content.layout),
`parse_file` (content.parse) and `assemble_site`. The checks across files are
in content.checks, each file's model object is made by content.items, and
what a long-lived builder keeps between assembles is content.assemble_memo.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from commsite.config import SiteConfig
from commsite.content.assemble_memo import AssembleMemo, made_once, marked_future
from commsite.content.checks import (
    Checker,
    check_handles,
    check_recap_date,
    check_tag_pages,
    slug_of,
)
from commsite.content.config_loader import CONFIG_FILE, load_config, missing_config
from commsite.content.interactions import load_interactions
from commsite.content.items import make_event, make_member, make_story
from commsite.content.layout import CONTENT_DIRS, RULES_FILE, discover, layout_warnings
from commsite.content.model import (
    Event,
    Interactions,
    LeftOut,
    Member,
    Page,
    Rules,
    Site,
    Story,
)
from commsite.content.parse import ParsedFile, parse_file
from commsite.content.placeholders import check_starter_members
from commsite.content.safe_files import DATA_DIR, check_inputs, read_input, site_fence
from commsite.datadir import PUBLIC_KEY_PATH
from commsite.errors import Diagnostic

__all__ = [
    "CONTENT_DIRS",
    "RESERVED_PAGE_SLUGS",
    "RULES_FILE",
    "AssembleMemo",
    "assemble_site",
    "discover",
    "load_site",
    "read_public_key",
]

# Top-level output names a page slug must not take.
RESERVED_PAGE_SLUGS = frozenset(
    {
        "stories", "members", "events", "rules", "tags", "welcome", "feed.xml", "feed.json",
        "events.ics", "sitemap.xml", "robots.txt", "404.html", "ap", "inbox", "nodeinfo",
        "static", ".well-known", "_deploy", "_headers", "_redirects", "assets",
        "interests",
    }
)  # fmt: skip
NO_INTERACTIONS = Interactions()


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
    checker = Checker(root, config.tz, memo.slug if memo is not None else None)
    context: tuple[object, ...] = (str(root), config, drafts, future, interactions, public_key_pem)
    if memo is not None:
        context += (memo.static,)
        quick = memo.story_edits(checker, parsed, context, now)
        if quick is not None:
            return quick
        checker.problems.clear()
    problems = checker.problems
    layout = memo.layout_warnings(root) if memo is not None else layout_warnings(root)
    problems.extend(layout)
    by_kind: dict[str, list[ParsedFile]] = {}
    for p in sorted(parsed, key=lambda p: p.path):
        problems.extend(p.diagnostics)
        by_kind.setdefault(p.kind, []).append(p)

    member_files = by_kind.get("member", [])
    event_files = by_kind.get("event", [])
    members_by_id = {checker.slug(p): p.path for p in member_files}
    events_by_id = {checker.slug(p): p.path for p in event_files}
    ids = (members_by_id, events_by_id)
    for kind in ("story", "event", "member"):
        checker.unique(by_kind.get(kind, []))
    checker.unique(by_kind.get("page", []), RESERVED_PAGE_SLUGS)

    if memo is not None:
        memo.use((str(root), config, tuple(members_by_id), tuple(events_by_id)))

    def made(p: ParsedFile, make: Callable[[], object]) -> object:
        return made_once(checker, memo, p, make)

    members: list[Member] = []
    for p in member_files:
        member = made(p, functools.partial(make_member, checker, p))
        if isinstance(member, Member):
            members.append(member)
    check_handles(checker, member_files)
    check_starter_members(checker, member_files)
    check_tag_pages(checker, by_kind.get("story", []) + event_files)
    check_tag_pages(checker, member_files, "interests", "interests")
    events: list[Event] = []
    for p in event_files:
        event = made(p, functools.partial(make_event, checker, p, members_by_id))
        if isinstance(event, Event):
            events.append(event)
    stories: list[Story] = []
    left_drafts: list[str] = []
    left_future: list[tuple[str, datetime]] = []
    events_by_slug = {e.slug: e for e in events}
    for p in by_kind.get("story", []):
        story = made(p, functools.partial(make_story, checker, p, members_by_id, events_by_id))
        if not isinstance(story, Story):
            continue
        if story.event in events_by_slug:
            check_recap_date(checker, p, story, events_by_slug[story.event])
        if story.draft and not drafts:
            left_drafts.append(p.path)
            continue
        if story.date > now:
            if not future:
                left_future.append((p.path, story.date))
                continue
            story = marked_future(memo, p, story)
        stories.append(story)
    if memo is not None:
        memo.finish()
        memo.forget_slugs(parsed)
    pages = [
        Page(slug_of(p), str(p.meta["title"]), p.body_html, p.summary, p.path)
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
            memo.remember(parsed, context, now, None, diagnostics, layout, ids)
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
        memo.remember(parsed, context, now, site, diagnostics, layout, ids)
    return site, diagnostics


def _left_out(drafts: list[str], future: list[tuple[str, datetime]]) -> LeftOut:
    """What assemble_site skipped: drafts in path order, future stories earliest
    first (their dates are in the site's time zone, as every story's)."""
    if not drafts and not future:
        return LeftOut()
    return LeftOut(tuple(drafts), tuple(sorted(future, key=lambda f: (f[1], f[0]))))


_FALLBACK_CONFIG = SiteConfig(title="", base_url="http://localhost/")


def read_public_key(root: Path, admitted: Collection[str]) -> str | None:
    """federation/public-key.pem, when the input scan admitted it (a regular file,
    or a link the fence allows); None when it is not there or does not read."""
    if PUBLIC_KEY_PATH not in admitted:
        return None
    try:
        return read_input(root / PUBLIC_KEY_PATH).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


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
    data_dir = config.sidecar.data_dir if config is not None else DATA_DIR
    admitted, refused = check_inputs(site_fence(root, data_dir), root)
    problems += refused
    parsed: list[ParsedFile] = []
    for kind, rel in discover(root, admitted):
        try:
            data = read_input(root / rel)
        except OSError as exc:
            problems.append(Diagnostic(rel, None, f"cannot read the file: {exc.strerror}"))
            continue
        parsed.append(parse(kind, rel, data))
    interactions, more = load_interactions(root, admitted)
    problems.extend(more)
    public_key = read_public_key(root, admitted)
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
