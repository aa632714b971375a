"""Who a newcomer should meet: an introduction's hashtags and words -> members who share interests.

Pure: `propose(introduction, members, ...)` reads nothing and writes nothing.
The welcome reply (sidecar/welcome.py) and anything else that wants "members
who share your interests" call it with what they loaded.

How an interest is found in an introduction:

* Text is compared folded: case-insensitive, accents dropped ("Céramique" is
  "ceramique"), each word made singular the simple English way ("bicycles",
  "batteries", "boxes" -> "bicycle", "battery", "box"; "glass" stays).
* A one-word interest ("soldering") is found as a word of the text or as a
  hashtag (#Soldering).
* A several-word interest ("bike repair") is found when its words follow each
  other in the text ("I love bike repairs"), or as a hashtag that writes them
  together (#BikeRepair, #bike_repair).
* The hashtags that mark an introduction (#introduction, #newhere ...) match
  nothing.

How members are ranked: more shared interests first; among members sharing as
many, the one proposed fewer times before (`proposed_before`, which the caller
counts, e.g. from the welcome replies sent) first, so the same member is not
proposed to every newcomer when others match as well; then an order drawn
from the newcomer and the member (a stable hash), so that even with no counts
ties are broken differently for different newcomers, and the same way every
time for one. Members in `exclude` (the newcomer themselves) are never proposed.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "INTRODUCTION_TAGS",
    "Candidate",
    "Match",
    "fold_word",
    "interest_words",
    "introduction_words",
    "phrases",
    "propose",
    "shared_interests",
]

# Hashtags that say "this is an introduction", not what the newcomer is into.
INTRODUCTION_TAGS = frozenset({"introduction", "introductions", "intro", "newhere"})

DEFAULT_LIMIT = 3
# Words of an introduction read: a post is a few hundred; a hostile one of a
# megabyte must not cost a megabyte of phrases.
WORD_LIMIT = 5000

_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" and "-" split words


@dataclass(frozen=True, slots=True)
class Candidate:
    """A member who could be proposed: their id and their interests as written."""

    id: str
    interests: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """A member to propose, with the interests (as the member wrote them) they share."""

    id: str
    shared: tuple[str, ...]


def _ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _singular(word: str) -> str:
    """'bicycles' -> 'bicycle', 'batteries' -> 'battery', 'boxes' -> 'box'; short
    words and those ending in -ss, -us, -is are left alone."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def fold_word(word: str) -> str:
    """One word as compared: folded case and accents, singular."""
    return _singular(_ascii_fold(word))


@functools.lru_cache(maxsize=16384)  # members' interests recur for every newcomer
def interest_words(interest: str) -> tuple[str, ...]:
    """'Bike Repairs' -> ('bike', 'repair')."""
    return tuple(fold_word(w) for w in _WORD.findall(_ascii_fold(interest)))


def introduction_words(text: str) -> tuple[str, ...]:
    """The words of an introduction's plain text, folded, in order."""
    return tuple(fold_word(w) for w in _WORD.findall(_ascii_fold(text)))


def _tag_key(tag: str) -> str:
    """'#BikeRepairs' / 'bike_repair' -> 'bikerepair': the words of a hashtag, joined."""
    return "".join(interest_words(tag))


def phrases(words: Sequence[str], longest: int = 6) -> frozenset[tuple[str, ...]]:
    """Every run of 1 to `longest` consecutive words: an interest is found in the
    text when its words are one of them (one set lookup per interest). A longer
    interest is still found as a joined hashtag."""
    return frozenset(
        tuple(words[i : i + n]) for n in range(1, longest + 1) for i in range(len(words) - n + 1)
    )


def shared_interests(
    interests: Iterable[str], tag_keys: frozenset[str], text_phrases: frozenset[tuple[str, ...]]
) -> tuple[str, ...]:
    """The interests (as written, each once) found among the tags or the text's phrases."""
    found: dict[str, str] = {}
    for interest in interests:
        phrase = interest_words(interest)
        key = "".join(phrase)
        if not key or key in found:
            continue
        if key in tag_keys or phrase in text_phrases:
            found[key] = interest
    return tuple(found.values())


def _spread(newcomer: str, member_id: str) -> str:
    return hashlib.sha256(f"{newcomer}\n{member_id}".encode()).hexdigest()


def propose(
    *,
    newcomer: str,
    hashtags: Iterable[str],
    text: str,
    members: Iterable[Candidate],
    proposed_before: Mapping[str, int] | None = None,
    exclude: Iterable[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> tuple[Match, ...]:
    """At most `limit` members sharing interests with the introduction, best first.

    `newcomer` names the newcomer (their actor URL): it only seeds the
    tie-break. `hashtags` are the introduction's (with or without '#'), `text`
    its plain text. `proposed_before` counts, by member id, how often each
    member was proposed to earlier newcomers. No member of `exclude`, and no
    member sharing nothing, is proposed."""
    if limit <= 0:
        return ()
    counts = proposed_before or {}
    excluded = set(exclude)
    tag_keys = frozenset(
        key for key in (_tag_key(t) for t in hashtags) if key and key not in INTRODUCTION_TAGS
    )
    text_phrases = phrases(introduction_words(text)[:WORD_LIMIT])
    ranked: list[tuple[int, int, str, Match]] = []
    seen: set[str] = set()
    for member in members:
        if member.id in excluded or member.id in seen:
            continue
        seen.add(member.id)
        shared = shared_interests(member.interests, tag_keys, text_phrases)
        if shared:
            ranked.append(
                (
                    -len(shared),
                    counts.get(member.id, 0),
                    _spread(newcomer, member.id),
                    Match(member.id, shared),
                )
            )
    ranked.sort(key=lambda r: r[:3])
    return tuple(r[3] for r in ranked[:limit])
