"""What an RSVP says: pure decisions over activities, texts and answers.

The sidecar's RSVP intake (rsvp_intake.py) asks these functions and does the
I/O. Three ways an answer arrives:

* a reply to an event with a word (`rsvp_word`): the reply's text (HTML made
  plain) is searched for the configured words, as whole words, case- and
  accent-insensitively; the earliest match in the text wins, and at one
  position the longest phrase ("not going" before "going"). A going word
  negated just before ("I won't be coming", "je ne viens pas" is a configured
  phrase anyway) says not_going;
* a vote in the event's poll (`vote_answer`): a Note named after an option,
  answering the poll's Question, with no text (how Mastodon sends votes);
* a native activity (`native_answer`): Join (Mobilizon), Accept,
  TentativeAccept, Reject of the Event (Friendica, Hubzilla).

`waiting_list` decides who is beyond an event's capacity.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from commsite.config import RsvpConfig

__all__ = [
    "NATIVE_WAYS",
    "Going",
    "html_text",
    "native_answer",
    "normalise",
    "rsvp_word",
    "vote_answer",
    "waiting_list",
]

# Native RSVP activities: type -> (answer, via).
NATIVE_WAYS: Mapping[str, tuple[str, str]] = {
    "Join": ("going", "join"),
    "Accept": ("going", "accept"),
    "TentativeAccept": ("maybe", "tentative"),
    "Reject": ("not_going", "reject"),
}
# Only the start of a long reply is searched: an answer comes first, and a
# hostile megabyte of text must cost nothing.
TEXT_LIMIT = 2000
# Words that, within the two words before a going word, turn it into its opposite.
_NEGATIONS = frozenset(
    {
        "not", "never", "won't", "wont", "can't", "cant", "cannot", "isn't", "aren't",
        "don't", "didn't", "wouldn't", "nicht", "kein", "pas", "niet", "nao",
    }
)  # fmt: skip
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|/li|/blockquote)\b[^>]*>", re.IGNORECASE)
_INVISIBLE = re.compile(r'<span class="invisible">[^<]*</span>')
_WORD = re.compile(r"[\w']+")


def html_text(content: str) -> str:
    """The text of a (sanitised) Note's HTML: tags out, entities decoded, one line."""
    text = _INVISIBLE.sub("", content[: TEXT_LIMIT * 4])
    text = _TAG.sub(" ", _BREAK.sub("\n", text))
    return " ".join(html.unescape(text).split())


def normalise(text: str) -> str:
    """Case-folded, accents removed, curly apostrophes straight, dashes as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("-", " ").split())


def _pattern(phrase: str) -> re.Pattern[str] | None:
    words = normalise(phrase).split()
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(r"(?<![\w'])" + body + r"(?![\w'])")


@dataclass(frozen=True, slots=True)
class _Match:
    start: int
    length: int
    answer: str


def _negated(text: str, start: int) -> bool:
    """A negation among the two words before `start` ("won't be coming"); a bare
    "no" only right before ("no voy"), so "no doubt, going" stays going."""
    before = _WORD.findall(text[max(0, start - 40) : start])[-2:]
    if before and before[-1] == "no":
        return True
    return any(w in _NEGATIONS or w.endswith("n't") for w in before)


def rsvp_word(config: RsvpConfig, content_html: str) -> str | None:
    """The answer a reply's words give ("going", "maybe", "not_going"), or None."""
    text = normalise(html_text(content_html))[:TEXT_LIMIT]
    matches: list[_Match] = []
    for answer, phrases in config.words:
        for phrase in phrases:
            pattern = _pattern(phrase)
            found = pattern.search(text) if pattern is not None else None
            if found is not None:
                matches.append(_Match(found.start(), found.end() - found.start(), answer))
    if not matches:
        return None
    first = min(matches, key=lambda m: (m.start, -m.length))
    if first.answer == "going" and _negated(text, first.start):
        return "not_going"
    return first.answer


def vote_answer(config: RsvpConfig, note: Mapping[str, Any]) -> str | None:
    """The answer a poll vote names (its `name` is an option's, exactly as
    Mastodon copies it), or None when it names no option."""
    name = note.get("name")
    if not isinstance(name, str):
        return None
    for answer, option in config.poll_options:
        if name.strip() == option:
            return answer
    return None


def is_vote(note: Mapping[str, Any]) -> bool:
    """Shaped like a poll vote: a `name` and no text (Mastodon's votes have no content)."""
    content = note.get("content")
    return isinstance(note.get("name"), str) and (content is None or content == "")


def native_answer(activity_type: str) -> tuple[str, str] | None:
    """(answer, via) for a native RSVP activity type, or None."""
    return NATIVE_WAYS.get(activity_type)


@dataclass(frozen=True, slots=True)
class Going:
    """One person answering going, for `waiting_list`."""

    actor: str
    answered_at: str  # ISO text; earlier answers get the places first
    seq: int = 0  # ties: the earlier stored


def waiting_list(going: Iterable[Going], capacity: int | None) -> list[str]:
    """The actors beyond `capacity` among those going, in the order they answered
    (the first of them moves up when a place frees). No capacity: nobody waits."""
    ordered: Sequence[Going] = sorted(going, key=lambda g: (g.answered_at, g.seq, g.actor))
    if capacity is None:
        return []
    return [g.actor for g in ordered[max(0, capacity) :]]
