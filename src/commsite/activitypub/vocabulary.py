"""The ActivityPub vocabulary every document of the site shares: the JSON-LD
contexts, the public address, the community actor's id and followers
collection, and the compact JSON the documents are written as."""

from __future__ import annotations

import json
from typing import Any

from commsite import urls
from commsite.activitypub.event_rsvp import EVENT_TERMS
from commsite.content.model import Site

__all__ = [
    "ACTIVITY_CONTEXT",
    "ACTOR_CONTEXT",
    "AS_CONTEXT",
    "PUBLIC",
    "SECURITY_CONTEXT",
    "actor_id",
    "compact_json",
    "embedded",
    "followers_url",
    "json_line",
]

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"

# Mastodon's own extension block (including its schema.org quirk), plus FEP-2c59.
ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "webfinger": "https://purl.archive.org/socialweb/webfinger#webfinger",
    },
]
# Objects and activities: hashtags, Mastodon's sensitive flag, and the event
# vocabulary Mobilizon and the WordPress plugin use (ical status, mz:*).
ACTIVITY_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "Hashtag": "as:Hashtag",
        "sensitive": "as:sensitive",
        "schema": "http://schema.org#",
        "address": "schema:address",
        "ical": "http://www.w3.org/2002/12/cal/ical#",
        "mz": "https://joinmobilizon.org/ns#",
        **EVENT_TERMS,
    },
]


def compact_json(document: dict[str, Any]) -> str:
    """Compact JSON (compact is what lets json use its C encoder)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def json_line(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, one line."""
    return compact_json(document).encode() + b"\n"


def actor_id(site: Site) -> str:
    """The community actor's id."""
    return site.config.url(urls.ACTOR)


def followers_url(site: Site) -> str:
    """The actor's followers collection."""
    return site.config.url(urls.FOLLOWERS)


def embedded(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as another document embeds it: without its "@context"."""
    return {k: v for k, v in obj.items() if k != "@context"}
