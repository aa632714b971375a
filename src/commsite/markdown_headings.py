"""Heading ids in Markdown bodies: a slug of the heading's text, unique in the
page (never an id the theme's templates or the page around the body use)."""

from __future__ import annotations

import re

__all__ = ["THEME_IDS", "heading_id"]

# The fixed ids of the default theme's templates (tests/test_markdown.py checks
# this list against themes/default/templates/): a heading "Main" must not become
# a second id="main", the skip link's target. Such a heading gets "main-1".
THEME_IDS = frozenset(
    {
        "by-interest-heading",
        "conversation-heading",
        "conversations-heading",
        "events-heading",
        "follow-heading",
        "interest-events",
        "interest-members",
        "interest-stories",
        "interests-heading",
        "intro-heading",
        "links-heading",
        "main",
        "member-cards",
        "member-filter-interest",
        "members-heading",
        "newcomers-heading",
        "past-heading",
        "recaps-heading",
        "remote-follow-error",
        "remote-follow-heading",
        "remote-follow-hint",
        "remote-follow-instance",
        "rsvps-heading",
        "said-heading",
        "search",
        "search-note",
        "stories-heading",
        "tag-events",
        "tag-members",
        "tag-stories",
        "upcoming-heading",
        "was-there-heading",
    }
)
# Ids made around or inside a body: footnotes (fn1, fnref1), reply and
# introduction anchors (render/threads.anchor_id), and on the rules page the
# rules' own anchors (rule-N, N as the list numbers them: rule-1, rule-2, ...).
_MADE_IDS = re.compile(r"fn\d+|fnref\d+|(?:reply|intro)-[0-9a-f]{10}")
_RULE_IDS = re.compile(r"rule-\d+")


def _heading_slug(title: str) -> str:
    """GitHub-style: lower case, spaces to dashes, punctuation dropped (as
    mdit_py_plugins.anchors does, so ids stay what they were)."""
    return re.sub(r"[^\w\u4e00-\u9fff\- ]", "", title.lower().replace(" ", "-"))


def _taken(slug: str, used: set[str], rules: bool) -> bool:
    return (
        slug in used
        or slug in THEME_IDS
        or _MADE_IDS.fullmatch(slug) is not None
        or (rules and _RULE_IDS.fullmatch(slug) is not None)
    )


def heading_id(title: str, used: set[str], rules: bool = False) -> str:
    """The id of a heading titled `title`, not in `used` (which it joins) nor
    taken by the page around the body."""
    base = _heading_slug(title)
    slug, n = base, 0
    while _taken(slug, used, rules):
        n += 1
        slug = f"{base}-{n}"
    used.add(slug)
    return slug
