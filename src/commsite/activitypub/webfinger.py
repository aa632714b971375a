"""Answering a WebFinger query from the site's built JRD.

The build writes one JRD (`.well-known/webfinger`); a live server answers it
for any of the names it lists (subject, aliases, the `self` link's actor URL),
compared case-insensitively as Mastodon does, and nothing else. `commsite
serve` and `commsite sidecar --serve-site` both answer through this function.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["jrd_names", "normalise_resource", "webfinger_answer"]


def normalise_resource(resource: str) -> str:
    """The form a resource is compared in: lower case, `acct:` for a bare
    `user@host` or `@user@host` handle, surrounding space dropped."""
    name = resource.strip().lower()
    if "://" not in name and not name.startswith("acct:") and "@" in name:
        name = "acct:" + name.removeprefix("@")
    return name


def jrd_names(jrd: dict[str, Any]) -> frozenset[str]:
    """Every name a JRD answers to, normalised: subject, aliases and `self` links."""
    names = {normalise_resource(str(jrd.get("subject") or ""))}
    aliases = jrd.get("aliases", [])
    if isinstance(aliases, list):
        names.update(normalise_resource(str(a)) for a in aliases)
    links = jrd.get("links", [])
    if isinstance(links, list):
        names.update(
            normalise_resource(str(link.get("href", "")))
            for link in links
            if isinstance(link, dict) and link.get("rel") == "self"
        )
    names.discard("")
    return frozenset(names)


def webfinger_answer(jrd: bytes, resource: str) -> bytes | None:
    """The JRD itself when `resource` is one of its names, else None.

    A JRD that does not parse answers nothing rather than raising: the server
    then says 404, as it would for an unknown name."""
    wanted = normalise_resource(resource)
    if not wanted:
        return None
    try:
        document = json.loads(jrd)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    return jrd if wanted in jrd_names(document) else None
