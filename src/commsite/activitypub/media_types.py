"""The media types ActivityPub and WebFinger documents travel as.

What we serve and send is `ACTIVITY_JSON` (the served files table gives it to
everything under ap/); what we ask for is Mastodon's `ACCEPT`. What we take
from others is looser, as Mastodon is: a document is ActivityStreams when its
type, parameters aside, is activity+json, ld+json (with any profile) or, from
a few older servers, plain JSON.
"""

from __future__ import annotations

__all__ = [
    "ACCEPT",
    "ACTIVITY_JSON",
    "ACTOR_LINK_TYPES",
    "AS2_PROFILE",
    "AS2_TYPES",
    "JRD_ACCEPT",
    "JRD_JSON",
    "JRD_TYPES",
    "LD_JSON",
    "essence",
    "is_activity_json",
]

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
JRD_JSON = "application/jrd+json"
AS2_PROFILE = "https://www.w3.org/ns/activitystreams"

# Asking for a document: an actor, an object, a collection; a WebFinger JRD.
ACCEPT = f'{ACTIVITY_JSON}, {LD_JSON}; profile="{AS2_PROFILE}"'
JRD_ACCEPT = f"{JRD_JSON}, application/json"

# Taking one: the types (parameters aside) a received or fetched document may have.
AS2_TYPES = (ACTIVITY_JSON, LD_JSON, "application/json")
JRD_TYPES = (JRD_JSON, "application/json")
# The `type` of a WebFinger `self` link that names an ActivityPub actor.
ACTOR_LINK_TYPES = (ACTIVITY_JSON, LD_JSON)


def essence(content_type: str) -> str:
    """A Content-Type without its parameters, lower case: 'application/ld+json'."""
    return content_type.split(";", 1)[0].strip().lower()


def is_activity_json(content_type: str | None) -> bool:
    """Whether a document of this Content-Type is taken as ActivityStreams."""
    return bool(content_type) and essence(content_type or "") in AS2_TYPES
