"""The Content-Type each machine-readable output must be served with.

Most of these files have no extension (ap/actor, .well-known/webfinger), so a
static server would guess wrong; Mastodon rejects an actor that is not served as
activity+json. `commsite serve`, the sidecar and the generated deploy configs
all ask here.
"""

from __future__ import annotations

from commsite import urls

__all__ = ["ACTIVITY_JSON", "content_type_for"]

ACTIVITY_JSON = "application/activity+json"
JRD_JSON = "application/jrd+json"

_EXACT = {
    urls.WEBFINGER: JRD_JSON,
    urls.HOST_META: "application/xrd+xml; charset=utf-8",
    urls.NODEINFO_WELL_KNOWN: "application/json",
    urls.NODEINFO: "application/json",
    urls.FEED_ATOM: "application/atom+xml; charset=utf-8",
    urls.FEED_JSON: "application/feed+json",
    urls.EVENTS_ICS: "text/calendar; charset=utf-8",
}
# Everything under ap/ is ActivityStreams: the actor, outbox pages, objects.
_ACTIVITYPUB_PREFIX = urls.ACTOR.split("/", 1)[0] + "/"


def content_type_for(path: str) -> str | None:
    """The Content-Type for an output path relative to the output root
    ('ap/actor', '/feed.xml'); None lets the server guess from the extension."""
    path = path.lstrip("/")
    if path in _EXACT:
        return _EXACT[path]
    if path.startswith(_ACTIVITYPUB_PREFIX):
        return ACTIVITY_JSON
    return None
