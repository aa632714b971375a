"""Reading a remote Note: who it is for, what it answers, its hashtags and link.

Pure functions over the (cleaned) JSON of an activity's object; `classify`
says what a Note is to the community: a reply, an introduction, a message
for organisers, or nothing of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from commsite.content.fields import web_address

__all__ = [
    "NOTE_TYPES",
    "PUBLIC",
    "classify",
    "hashtags",
    "host_of",
    "id_of",
    "list_of",
    "note_url",
    "same_host",
    "when",
]

PUBLIC = frozenset({"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"})
NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question"})


def id_of(value: Any) -> str | None:
    """An ActivityStreams reference's id: the string itself, or an object's "id"."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def host_of(url: str | None) -> str:
    """The URL's host in lower case; "" for none or a URL that does not parse."""
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def same_host(a: str | None, b: str | None) -> bool:
    """Both URLs are on one host (and it is not empty)."""
    return host_of(a) != "" and host_of(a) == host_of(b)


def list_of(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def when(value: Any, default: datetime) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return default
        return moment if moment.tzinfo is not None else default
    return default


def hashtags(note: Mapping[str, Any]) -> list[str]:
    names = []
    for tag in list_of(note.get("tag")):
        if isinstance(tag, Mapping) and tag.get("type") == "Hashtag":
            name = tag.get("name")
            if isinstance(name, str) and name.strip("#"):
                names.append(name.strip().lstrip("#").lower())
    return sorted(set(names))


def classify(
    note: Mapping[str, Any], *, our_actor: str, thread_target: str | None
) -> tuple[str, str]:
    """(kind, why) for a Note: reply | introduction | message | ignore."""
    audience = {id_of(a) for a in list_of(note.get("to")) + list_of(note.get("cc"))}
    public = bool(audience & PUBLIC)
    mentions = {
        id_of(t.get("href"))
        for t in list_of(note.get("tag"))
        if isinstance(t, Mapping) and t.get("type") == "Mention"
    }
    mentions_us = our_actor in mentions
    addressed = our_actor in audience or mentions_us
    replies_to = id_of(note.get("inReplyTo"))
    if thread_target is not None:
        if public:
            return "reply", f"in the thread of {thread_target}"
        return "message", "a non-public reply (never published)"
    if mentions_us and "introduction" in hashtags(note):
        if public:
            return "introduction", "mentions the community with #introduction"
        return "message", "a non-public introduction (never published)"
    if addressed and replies_to is None:
        if public:
            return "introduction", "addressed to the community, replying to nothing"
        return "message", "a direct message"
    if addressed:
        return "message", "mentions the community"
    return "ignore", "not addressed to the community nor in one of its threads"


def note_url(note: Mapping[str, Any]) -> str | None:
    for value in list_of(note.get("url")):
        url = value.get("href") if isinstance(value, Mapping) else value
        checked = web_address(url) if isinstance(url, str) else None
        if checked is not None:
            return checked
    return None
