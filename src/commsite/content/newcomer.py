"""A newcomer's introduction -> their member profile file, prefilled (pure).

`commsite new member --from-introduction N` finds the introduction (in the
sidecar's store or in interactions/introductions/) and calls `member_file`:

* name: the author's display name, as plain text;
* handle: their fediverse handle (the FEP-2c59 WebFinger one when the sidecar
  trusted one, since that is the handle people type);
* interests: the introduction's hashtags, without those that only say it is an
  introduction (#introduction, #newhere ...);
* joined: the day of the introduction;
* the bio: a stub from the introduction's text, as plain text. The text came
  from a stranger and a member's bio is Markdown with raw HTML allowed, so
  every character Markdown or HTML would read as markup is escaped; mentions
  of the community account and the introduction hashtags are left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from commsite.content import scaffold
from commsite.content.introductions_match import INTRODUCTION_TAGS
from commsite.content.member_match import normal_handle
from commsite.content.network_text import clean_text
from commsite.slugs import tag_key

__all__ = ["NewcomerIntroduction", "bio_stub", "interests_from", "member_file"]

BIO_LIMIT = 1500  # characters of the stub: a profile, not an archive of the post

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Markdown's inline markup, raw HTML and entities; escaped with a backslash.
_INLINE = re.compile(r"([\\`*_\[\]<>&|~])")
# What opens a block at the start of a line: a heading, quote, list, rule, table.
_BLOCK = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


@dataclass(frozen=True, slots=True)
class NewcomerIntroduction:
    """What a profile is made from, wherever the introduction was read."""

    name: str
    handle: str | None  # "@user@host", when the author has one
    tags: tuple[str, ...]
    content_html: str  # sanitised
    published: date
    source: str  # where it was read: "#12 in the sidecar's store" or a file path


def interests_from(tags: Iterable[str]) -> tuple[str, ...]:
    """The hashtags as interests: '#' dropped, introduction tags left out, each once."""
    found: dict[str, str] = {}
    for tag in tags:
        text = tag.strip().lstrip("#").strip()
        key = tag_key(text)
        if key and key not in INTRODUCTION_TAGS:
            found.setdefault(key, text)
    return tuple(found.values())


def _plain_paragraphs(content_html: str) -> list[str]:
    text = re.sub(r"(?i)</p\s*>|<br\s*/?>", "\n", content_html)
    text = _BIDI.sub("", clean_text(html.unescape(re.sub(r"<[^>]*>", "", text))))
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def _escape(line: str) -> str:
    line = _INLINE.sub(r"\\\1", line)
    return _BLOCK.sub(lambda m: m.group(1) + "\\" + m.group(2), line)


def bio_stub(content_html: str, *, community_handles: Iterable[str] = ()) -> str:
    """The introduction as a plain-text bio, safe as Markdown; '' when nothing is left."""
    ours = {normal_handle(h) for h in community_handles} - {None}
    ours_users = {h.split("@")[1] for h in ours if h}

    def keep(word: str) -> bool:
        bare = word.strip(".,;:!?")
        if bare.startswith("#") and tag_key(bare) in INTRODUCTION_TAGS:
            return False
        if bare.startswith("@"):
            handle = normal_handle(bare)
            return not (handle in ours or (handle is None and bare[1:].lower() in ours_users))
        return True

    paragraphs = []
    used = 0
    for paragraph in _plain_paragraphs(content_html):
        words = [w for w in paragraph.split(" ") if keep(w)]
        text = " ".join(words).strip()
        if not text:
            continue
        if used + len(text) > BIO_LIMIT:
            text = text[: max(0, BIO_LIMIT - used - 1)].rstrip() + "…"
        paragraphs.append(_escape(text))
        used += len(text)
        if used >= BIO_LIMIT:
            break
    return "\n\n".join(paragraphs)


def member_file(
    intro: NewcomerIntroduction,
    *,
    name: str | None = None,
    joined: date | None = None,
    member_id: str,
    community_handles: Iterable[str] = (),
) -> str:
    """The text of content/members/MEMBER_ID.md for the newcomer."""
    handle = normal_handle(intro.handle) and intro.handle
    bio = bio_stub(intro.content_html, community_handles=community_handles)
    return scaffold.member_text(
        name or intro.name,
        joined or intro.published,
        handle=handle or None,
        member_id=member_id,
        interests=interests_from(intro.tags),
        bio=bio or None,
    )
