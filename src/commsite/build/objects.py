"""Federation objects' JSON kept between builds, so unchanged stories and events
are not serialised again.

Each story's or event's `ObjectJson` is a pure function of the item and the
site's config (and commsite's code). A long-lived Builder keeps them in memory
by the item itself (items are frozen, so an equal item makes equal JSON); the
build cache keeps them on disk under a digest of the code, the config and every
field of the item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from commsite.build.cache import BuildCache
from commsite.build.fingerprint import code_fingerprint, digest_bytes
from commsite.content.model import Event, Site, Story
from commsite.federation.documents import ObjectJson

__all__ = ["ObjectStore"]

Item = Story | Event
_SEPARATOR = "\n"  # compact JSON never holds a raw newline


_FIELDS = {kind: tuple(f.name for f in fields(kind)) for kind in (Story, Event)}


def item_digest(config_digest: bytes, item: Item) -> bytes:
    """A digest of the code, the config and every field of `item` (strings by their
    bytes, which is cheaper than repr for bodies; other values by repr)."""
    parts: list[bytes] = [code_fingerprint(), config_digest, type(item).__name__.encode()]
    for name in _FIELDS[type(item)]:
        value = getattr(item, name)
        if isinstance(value, str):
            parts.append(b"s" + value.encode("utf-8", "surrogatepass"))
        else:
            parts.append(b"r" + repr(value).encode("utf-8", "surrogatepass"))
    return digest_bytes(*parts)


def _config_digest(config: object) -> bytes:
    return digest_bytes(repr(config).encode("utf-8", "surrogatepass"))


class ObjectStore:
    """Items' ObjectJson, in memory (between builds of one Builder) and in the cache."""

    def __init__(self) -> None:
        self._config: object = None
        self._memory: dict[Item, ObjectJson] = {}

    def lookup(
        self, site: Site, items: Sequence[Item], cache: BuildCache | None
    ) -> tuple[dict[Item, ObjectJson], dict[Item, bytes]]:
        """The items' JSON already made, and the cache keys of those still to make."""
        if self._config != site.config:
            self._config, self._memory = site.config, {}
        found: dict[Item, ObjectJson] = {}
        missing: dict[Item, bytes] = {}
        config_digest = _config_digest(site.config)
        for item in items:
            made = self._memory.get(item)
            if made is not None:
                found[item] = made
            else:
                missing[item] = item_digest(config_digest, item)
        if cache is not None and missing:
            stored = cache.get_made(missing.values())
            for item, key in list(missing.items()):
                blob = stored.get(key)
                if blob is not None:
                    body, _, head = blob.decode("utf-8", "surrogatepass").partition(_SEPARATOR)
                    found[item] = ObjectJson(body, head)
                    del missing[item]
        return found, missing

    def keep(
        self,
        found: dict[Item, ObjectJson],
        made: dict[Item, ObjectJson],
        keys: dict[Item, bytes],
        cache: BuildCache | None,
    ) -> None:
        """Remember this build's items (only these: removed items are forgotten)."""
        self._memory = {**found, **made}
        if cache is not None and made:
            entries = {
                keys[item]: f"{o.body}{_SEPARATOR}{o.create_head}".encode("utf-8", "surrogatepass")
                for item, o in made.items()
            }
            config_digest = _config_digest(self._config)

            def every_key() -> list[bytes]:
                return [keys.get(i) or item_digest(config_digest, i) for i in self._memory]

            cache.put_made(entries, len(self._memory), every_key)
