"""Fetching the public key a signature names, and checking its owner claims it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urldefrag

from commsite.activitypub.signatures import PublicKey
from commsite.federation.fetch import Fetcher, UnusableKey, fetch_errors

__all__ = ["fetch_public_key"]


def _key_entries(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = doc.get("publicKey")
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


@fetch_errors
def fetch_public_key(fetcher: Fetcher, key_id: str, *, timeout: float | None = None) -> PublicKey:
    """Fetch the key `key_id` names and the actor that owns it, all within `timeout` seconds
    (default: the fetcher's), however many documents that takes.

    Accepts an actor document whose ``publicKey`` (one or a list) has the key, or a key document
    (``publicKeyPem`` + ``owner``) whose owner's actor document lists the same key. A document
    claiming to be someone else, or a key its owner does not list, raises UnusableKey.
    """
    url = urldefrag(key_id).url
    deadline = time.monotonic() + (fetcher.timeout if timeout is None else timeout)
    doc = fetcher.get_json(url, deadline=deadline)
    if "publicKeyPem" in doc:  # a key document (GoToSocial, some others)
        if doc.get("id") != key_id:
            raise UnusableKey(
                f"{url}: the key document's id {doc.get('id')!r} is not {key_id}", url=url
            )
        owner = doc.get("owner")
        pem = doc.get("publicKeyPem")
        if not isinstance(owner, str) or not isinstance(pem, str):
            raise UnusableKey(f"{url}: the key document has no owner or publicKeyPem", url=url)
        actor = fetcher.get_json(urldefrag(owner).url, deadline=deadline)
        if actor.get("id") != owner:
            raise UnusableKey(f"{owner}: the owner document's id is {actor.get('id')!r}", url=url)
        claimed = [e.get("publicKeyPem") for e in _key_entries(actor) if e.get("id") == key_id]
        if not claimed or not isinstance(claimed[0], str) or claimed[0].strip() != pem.strip():
            raise UnusableKey(
                f"{key_id}: its owner {owner} does not list this key as its own", url=url
            )
        return PublicKey(key_id=key_id, owner=owner, pem=pem)
    actor_id = doc.get("id")
    if actor_id != url:
        raise UnusableKey(f"{url}: the document's id is {actor_id!r}, not {url}", url=url)
    entries = _key_entries(doc)
    if key_id == actor_id and len(entries) == 1:
        entries = [{**entries[0], "id": key_id}]  # keyId is the actor itself, with one key
    for entry in entries:
        if entry.get("id") != key_id:
            continue
        owner, pem = entry.get("owner", actor_id), entry.get("publicKeyPem")
        if owner != actor_id:
            raise UnusableKey(f"{key_id}: owned by {owner!r}, not by {actor_id}", url=url)
        if not isinstance(pem, str):
            raise UnusableKey(f"{key_id}: no publicKeyPem", url=url)
        return PublicKey(key_id=key_id, owner=actor_id, pem=pem)
    raise UnusableKey(f"{url}: no publicKey with id {key_id}", url=url)
