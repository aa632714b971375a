"""The host's welcome reply to an introduction: its text, its HTML and its activity (pure).

When the organiser approves an introduction, `commsite moderate` proposes a
reply from the community account (see welcome_send.py for the I/O):

* it greets the newcomer by name, mentioning them;
* it mentions the members `content/introductions_match.propose` found (two or
  three who share interests with the introduction) and says what they share;
* it links the rules page.

The organiser may edit the text: it is plain text, where `@user@host` is a
mention and an http(s) URL a link; everything else is escaped. The newcomer
is always addressed and mentioned (their handle is put first when an edit
took it out).

The reply is a `Note` in reply to the introduction, `to` the newcomer and the
mentioned members, `cc` the public collection: "unlisted" in Mastodon's
terms. It sits in the introduction's thread for anyone to read, and notifies
the people it names, without filling the public timelines or hashtag pages
with the community's greetings.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commsite.activitypub.vocabulary import AS_CONTEXT, PUBLIC
from commsite.content.member_match import normal_handle
from commsite.content.network_text import clean_text

__all__ = [
    "MentionTarget",
    "Proposed",
    "handles_in",
    "note_html",
    "proposal_text",
    "strip_comments",
    "welcome_activity",
]

NAME_LIMIT = 80
TEXT_LIMIT = (
    5000  # characters of a welcome (Mastodon's default post limit is 500; others allow more)
)

# @user@host (host may carry a port), not preceded by a word character or '@'.
_HANDLE = re.compile(r"(?<![\w@/])@[\w.+-]+@[A-Za-z0-9.-]+(?::\d+)?(?<![.-])")
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True, slots=True)
class Proposed:
    """A member the welcome introduces: who, and the interests they share."""

    member_id: str
    name: str
    handle: str
    shared: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MentionTarget:
    """A mentioned account: its actor (the Mention's href) and its profile page (the link)."""

    handle: str  # "@user@host", as written in the text
    actor: str
    url: str


# Bidirectional overrides and isolates: they could make a name or a terminal
# line read in another order than it is written.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _unescaped(text: str) -> str:
    """HTML entities decoded, then cleaned again: '&#27;' must not become an ESC
    on the organiser's terminal, nor '&#8238;' reverse it."""
    return _BIDI.sub("", clean_text(html.unescape(text)))


def plain_name(name: str) -> str:
    """An actor's display name as plain text: no markup, one line, at most NAME_LIMIT."""
    text = _unescaped(re.sub(r"<[^>]*>", "", name))
    text = " ".join(text.split())
    return text if len(text) <= NAME_LIMIT else text[: NAME_LIMIT - 1] + "…"


def plain_text(content_html: str) -> str:
    """An introduction's (sanitised) HTML as plain text, one line."""
    return " ".join(_unescaped(re.sub(r"<[^>]*>", " ", content_html)).split())


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def proposal_text(
    *,
    newcomer_name: str,
    newcomer_handle: str,
    community: str,
    members: Sequence[Proposed],
    rules_url: str,
) -> str:
    """The welcome the organiser is shown, plain text (one paragraph a blank line)."""
    name = plain_name(newcomer_name) or newcomer_handle
    where = f" to {plain_name(community)}" if plain_name(community) else ""
    greeting = f"Welcome{where}, {name}! We're glad you're here."
    paragraphs = [f"{newcomer_handle} {greeting}" if newcomer_handle else greeting]
    if members:
        people = [f"{m.handle} ({_and(list(m.shared))})" for m in members]
        who = "someone here who shares" if len(members) == 1 else "some people here who share"
        paragraphs.append(
            f"You might like to meet {who} your interests: {_and(people)}. Say hello!"
        )
    paragraphs.append(f"Our rules, so everyone feels at home: {rules_url}")
    return "\n\n".join(paragraphs) + "\n"


def strip_comments(text: str) -> str:
    """What the organiser wrote in the editor: lines starting with '#' dropped (as
    `git commit` does), surrounding blank lines trimmed."""
    lines = [line.rstrip() for line in text.splitlines() if not line.startswith("#")]
    return "\n".join(lines).strip()


def handles_in(text: str) -> list[str]:
    """The @user@host handles in `text`, each once, in order of appearance."""
    found: dict[str, str] = {}
    for match in _HANDLE.finditer(text):
        normal = normal_handle(match.group(0))
        if normal:
            found.setdefault(normal, match.group(0))
    return list(found.values())


def _mention_html(written: str, target: MentionTarget) -> str:
    user = written.removeprefix("@").split("@", 1)[0]
    return (
        f'<span class="h-card" translate="no"><a href="{html.escape(target.url)}"'
        f' class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
    )


def _link_html(url: str) -> str:
    shown = html.escape(url)
    return f'<a href="{shown}" rel="nofollow noopener" target="_blank">{shown}</a>'


def _line_html(line: str, mentions: Mapping[str, MentionTarget]) -> str:
    out: list[str] = []
    pos = 0
    tokens = sorted(
        [
            *((m.start(), m.end(), "handle") for m in _HANDLE.finditer(line)),
            *((m.start(), m.end(), "url") for m in _URL.finditer(line)),
        ]
    )
    for start, end, kind in tokens:
        if start < pos:
            continue  # inside a token already written (a handle within a URL)
        token = line[start:end]
        if kind == "url":
            stripped = token.rstrip(_TRAILING)
            end = start + len(stripped)
            token = stripped
        out.append(html.escape(line[pos:start]))
        if kind == "url":
            out.append(_link_html(token))
        else:
            target = mentions.get(normal_handle(token) or "")
            out.append(_mention_html(token, target) if target else html.escape(token))
        pos = end
    out.append(html.escape(line[pos:]))
    return "".join(out)


def note_html(text: str, mentions: Mapping[str, MentionTarget]) -> str:
    """Plain text -> Mastodon-style HTML: <p> per paragraph, <br> per line, mentions
    (keyed by normal handle) and URLs linked, everything else escaped."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(_line_html(line, mentions) for line in p.splitlines()) + "</p>"
        for p in paragraphs
    )


def welcome_activity(
    *,
    our_actor: str,
    note_id: str,
    introduction: str,
    content_html: str,
    mentioned: Sequence[MentionTarget],
    published: datetime,
) -> dict[str, Any]:
    """The signed-to-be `Create` of the welcome `Note`, addressed to those it mentions."""
    actors = list(dict.fromkeys(m.actor for m in mentioned))
    stamp = published.strftime("%Y-%m-%dT%H:%M:%SZ")
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": our_actor,
        "inReplyTo": introduction,
        "content": content_html,
        "published": stamp,
        "to": actors,
        "cc": [PUBLIC],
        "tag": [
            {"type": "Mention", "href": m.actor, "name": _mention_name(m.handle)}
            for m in {m.actor: m for m in mentioned}.values()
        ],
    }
    return {
        "@context": AS_CONTEXT,
        "id": note_id + "/activity",
        "type": "Create",
        "actor": our_actor,
        "published": stamp,
        "to": actors,
        "cc": [PUBLIC],
        "object": note,
    }


def _mention_name(handle: str) -> str:
    return "@" + handle.removeprefix("@")


def note_path(introduction: str) -> str:
    """The path (under base_url) of the welcome to an introduction: one per introduction."""
    digest = hashlib.sha256(introduction.encode("utf-8")).hexdigest()[:24]
    return f"ap/welcomes/{digest}"
