"""interactions/ (written by `commsite interactions export`) -> the Interactions model.

Layout (stable names, so a re-export changes only what changed)::

    interactions/replies/stories/SLUG/<sha1(id)[:12]>.md   a reply in a story's thread
    interactions/replies/events/SLUG/<sha1(id)[:12]>.md    a reply in an event's thread
    interactions/introductions/<sha1(id)[:12]>.md          an introduction
    interactions/reactions.yaml                            likes and boosts per target
    interactions/rsvps/SLUG.yaml                           answers to an event (interaction_lists)

Each .md file is YAML front matter (id, kind, target, in_reply_to, author_*
(author_actor and author_webfinger are optional: older exports lack them),
published, updated, url, summary, sensitive, tags) and the reply's HTML. The
HTML came from strangers: the sidecar sanitised it on the way in, and it is
sanitised again here (`sanitize_html`), so a hand-edited or tampered file cannot
put a script on the site either; and every address in it (author_url, url,
author_avatar, id, in_reply_to) must pass `fields.web_address`, the check the
sidecar makes on the network's (http and https only: a `javascript:` author_url
would be a live link on the story page). Problems become Diagnostics and the
file is left out; the rest still loads.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import nh3

from commsite.content.frontmatter import split_front_matter
from commsite.content.interaction_fields import (
    address_field,
    read_interaction_file,
    text_field,
    when_field,
)
from commsite.content.interaction_lists import RSVPS_DIR, load_reactions, load_rsvps
from commsite.content.model import Interactions, Introduction, Reply
from commsite.content.safe_files import list_files, site_fence
from commsite.errors import Diagnostic

__all__ = [
    "ALLOWED_TAGS",
    "INTERACTIONS_DIR",
    "load_interactions",
    "sanitize_html",
]

INTERACTIONS_DIR = "interactions"
REPLIES_DIR = "replies"
INTRODUCTIONS_DIR = "introductions"
REACTIONS_FILE = "reactions.yaml"
TARGET_KINDS = ("stories", "events")

# Mastodon's allow-list (docs "HTML sanitization").
ALLOWED_TAGS = frozenset(
    [
        "p",
        "span",
        "br",
        "a",
        "del",
        "pre",
        "code",
        "em",
        "strong",
        "b",
        "i",
        "u",
        "ul",
        "ol",
        "li",
        "blockquote",
    ]
)
_ATTRIBUTES = {"a": {"href"}, "ol": {"start", "reversed"}, "li": {"value"}}
# The classes Mastodon's own markup uses (mentions, hashtags, shortened links).
_CLASSES = {
    "span": {"h-card", "invisible", "ellipsis"},
    "a": {"u-url", "mention", "hashtag", "status-link"},
}


def sanitize_html(html: str) -> str:
    """Remote HTML cut down to Mastodon's allow-list.

    Only http, https and mailto links survive (relative ones too are dropped);
    every link gets rel="nofollow noopener ugc"; scripts, styles, event
    handlers and every other tag or attribute are removed.
    """
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
        allowed_classes={k: set(v) for k, v in _CLASSES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
        url_relative="deny",
        strip_comments=True,
    )


def _load_item(root: Path, rel: str) -> tuple[Reply | Introduction | None, list[Diagnostic]]:
    text, unreadable = read_interaction_file(root, rel)
    if text is None:
        return None, unreadable
    front, diagnostics = split_front_matter(text, rel)
    if front is None:
        return None, diagnostics
    meta = front.meta
    problems: list[str] = []
    kind = text_field(meta, "kind", True, problems)
    ap_id = address_field(meta, "id", True, problems)
    author_name = text_field(meta, "author_name", True, problems)
    author_handle = text_field(meta, "author_handle", True, problems)
    author_url = address_field(meta, "author_url", True, problems)
    author_actor = address_field(meta, "author_actor", False, problems)
    author_webfinger = text_field(meta, "author_webfinger", False, problems)
    published = when_field(meta, "published", True, problems)
    updated = when_field(meta, "updated", False, problems)
    url = address_field(meta, "url", False, problems)
    avatar = address_field(meta, "author_avatar", False, problems)
    summary = text_field(meta, "summary", False, problems)
    sensitive = meta.get("sensitive", False)
    if not isinstance(sensitive, bool):
        problems.append(f"'sensitive' must be true or false (got {sensitive!r})")
        sensitive = False
    tags_value = meta.get("tags") or []
    if not isinstance(tags_value, list) or not all(isinstance(t, str) for t in tags_value):
        problems.append("'tags' must be a list of text")
        tags_value = []
    target = in_reply_to = None
    if kind == "reply":
        target = text_field(meta, "target", True, problems)
        in_reply_to = address_field(meta, "in_reply_to", True, problems)
        if target is not None and (
            target.split("/", 1)[0] not in TARGET_KINDS or target.count("/") != 1
        ):
            problems.append(f"'target' must be 'stories/SLUG' or 'events/SLUG' (got {target!r})")
    elif kind is not None and kind != "introduction":
        problems.append(f"'kind' must be 'reply' or 'introduction' (got {kind!r})")
    if problems:
        return None, [
            *diagnostics,
            *(
                Diagnostic(rel, front.key_lines.get(p.split("'")[1]) if "'" in p else None, p)
                for p in problems
            ),
        ]
    content = sanitize_html(front.body.strip())
    assert ap_id and author_name and author_handle and author_url and published
    if kind == "reply":
        assert target and in_reply_to
        return Reply(
            id=ap_id,
            target=target,
            in_reply_to=in_reply_to,
            author_name=author_name,
            author_handle=author_handle,
            author_url=author_url,
            content_html=content,
            published=published,
            source=rel,
            url=url,
            author_avatar=avatar,
            summary=summary,
            sensitive=sensitive,
            updated=updated,
            author_actor=author_actor,
            author_webfinger=author_webfinger,
        ), diagnostics
    return Introduction(
        id=ap_id,
        author_name=author_name,
        author_handle=author_handle,
        author_url=author_url,
        content_html=content,
        published=published,
        source=rel,
        url=url,
        author_avatar=avatar,
        tags=tuple(t.lower().lstrip("#") for t in tags_value),
        summary=summary,
        sensitive=sensitive,
        updated=updated,
        author_actor=author_actor,
        author_webfinger=author_webfinger,
    ), diagnostics


def load_interactions(
    root: Path, admitted: Collection[str] | None = None
) -> tuple[Interactions, list[Diagnostic]]:
    """Read ROOT/interactions/; an absent directory is no interactions.

    `admitted`: the site's input files a build may read (see content.safe_files);
    by default those `list_files` finds under interactions/, whose refusals
    (a link out of the site, a FIFO) are then reported here too."""
    diagnostics: list[Diagnostic] = []
    if admitted is None:
        listing = list_files(site_fence(root), root / INTERACTIONS_DIR, f"{INTERACTIONS_DIR}/")
        admitted = [key for key, _ in listing.files]
        diagnostics += listing.problems
    replies: list[Reply] = []
    introductions: list[Introduction] = []
    replies_dir = f"{INTERACTIONS_DIR}/{REPLIES_DIR}/"
    intros_dir = f"{INTERACTIONS_DIR}/{INTRODUCTIONS_DIR}/"
    files = sorted(
        key
        for key in admitted
        if key.endswith(".md")
        and (
            key.startswith(replies_dir)
            or (key.startswith(intros_dir) and "/" not in key[len(intros_dir) :])
        )
    )
    for rel in files:
        item, problems = _load_item(root, rel)
        diagnostics.extend(problems)
        if isinstance(item, Reply):
            replies.append(item)
        elif isinstance(item, Introduction):
            introductions.append(item)
    if f"{INTERACTIONS_DIR}/{REACTIONS_FILE}" in admitted:
        reactions, problems = load_reactions(root, f"{INTERACTIONS_DIR}/{REACTIONS_FILE}")
        diagnostics.extend(problems)
    else:
        reactions = []
    rsvps_dir = f"{INTERACTIONS_DIR}/{RSVPS_DIR}/"
    rsvps, problems = load_rsvps(
        root,
        sorted(
            key
            for key in admitted
            if key.startswith(rsvps_dir)
            and key.endswith(".yaml")
            and "/" not in key[len(rsvps_dir) :]
        ),
    )
    diagnostics.extend(problems)
    replies.sort(key=lambda r: (r.target, r.published, r.id))
    introductions.sort(key=lambda i: (i.published, i.id))
    return (
        Interactions(tuple(replies), tuple(introductions), tuple(reactions), tuple(rsvps)),
        diagnostics,
    )
