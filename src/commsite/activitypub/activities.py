"""The activities that deliver our objects: Create, Update and Delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from commsite.activitypub.vocabulary import (
    ACTIVITY_CONTEXT,
    PUBLIC,
    actor_id,
    embedded,
    followers_url,
)
from commsite.content.model import Site
from commsite.feeds.atom import rfc3339

__all__ = ["create_activity", "delete_activity", "update_activity"]


def create_activity(site: Site, obj: dict[str, Any]) -> dict[str, Any]:
    """Create wrapping `obj` (a story or event object), addressed as the object is."""
    activity: dict[str, Any] = {
        "@context": ACTIVITY_CONTEXT,
        "id": obj["id"] + "#create",
        "type": "Create",
        "actor": actor_id(site),
    }
    if "published" in obj:
        activity["published"] = obj["published"]
    activity["to"] = obj.get("to", [PUBLIC])
    activity["cc"] = obj.get("cc", [])
    activity["object"] = embedded(obj)
    return activity


def update_activity(site: Site, obj: dict[str, Any], updated: datetime) -> dict[str, Any]:
    """Update re-sending `obj` with `updated` set (Mastodon treats it as an edit only then)."""
    stamp = rfc3339(updated)
    edited = embedded(obj)
    edited["updated"] = stamp
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": f"{obj['id']}#updates/{int(updated.timestamp())}",
        "type": "Update",
        "actor": actor_id(site),
        "published": stamp,
        "to": obj.get("to", [PUBLIC]),
        "cc": obj.get("cc", []),
        "object": edited,
    }


def delete_activity(site: Site, object_id: str) -> dict[str, Any]:
    """Delete of one of our objects, with a Tombstone (so a late Create is dropped)."""
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": object_id + "#delete",
        "type": "Delete",
        "actor": actor_id(site),
        "to": [PUBLIC],
        "cc": [followers_url(site)],
        "object": {"id": object_id, "type": "Tombstone"},
    }
