"""The Content-Type each machine-readable output must be served with.

Most of these files have no extension (ap/actor, .well-known/webfinger), so a
static server would guess wrong; Mastodon rejects an actor that is not served as
activity+json. `commsite serve`, the sidecar and the generated deploy configs
(commsite.federation.deploy) all read this one table.
"""

from __future__ import annotations

from commsite import urls

__all__ = ["ACTIVITY_JSON", "CORS_PATHS", "EXACT_TYPES", "PREFIX_TYPES", "content_type_for"]

ACTIVITY_JSON = "application/activity+json"

# Output path -> Content-Type.
EXACT_TYPES: dict[str, str] = {
    urls.WEBFINGER: "application/jrd+json",
    urls.HOST_META: "application/xrd+xml; charset=utf-8",
    urls.NODEINFO_WELL_KNOWN: "application/json",
    urls.NODEINFO: "application/json",
    urls.FEED_ATOM: "application/atom+xml; charset=utf-8",
    urls.FEED_JSON: "application/feed+json",
    urls.EVENTS_ICS: "text/calendar; charset=utf-8",
}
# Everything under ap/ is ActivityStreams: the actor, outbox pages, objects.
PREFIX_TYPES: dict[str, str] = {urls.ACTOR.split("/", 1)[0] + "/": ACTIVITY_JSON}
# Public documents browser-based fediverse clients fetch from other origins.
CORS_PATHS: tuple[str, ...] = (
    urls.WEBFINGER,
    urls.HOST_META,
    urls.NODEINFO_WELL_KNOWN,
    urls.NODEINFO,
    *PREFIX_TYPES,
)


def content_type_for(path: str) -> str | None:
    """The Content-Type for an output path relative to the output root
    ('ap/actor', '/feed.xml'); None lets the server guess from the extension."""
    path = path.lstrip("/")
    if path in EXACT_TYPES:
        return EXACT_TYPES[path]
    for prefix, content_type in PREFIX_TYPES.items():
        if path.startswith(prefix):
            return content_type
    return None
