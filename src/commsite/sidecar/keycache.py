"""Remote public keys: fetched through the SSRF-safe Fetcher, cached in SQLite by keyId.

`KeyCache.resolve` is the `KeyResolver` that commsite.activitypub.signatures
.verify calls: `refresh=False` answers from the cache when it can; the verifier
asks once more with `refresh=True` when a cached key fails (keys rotate), and
that refetches unless the cached copy is only seconds old (so a stream of
forged requests cannot make us refetch a key on every one).

Every fetch holds one of the `FetchSlots` (or raises NoFetchSlot at once) and is
done within `timeout` seconds however slowly the remote answers, documents,
redirects and name resolution included: a fetch runs on the thread answering
the delivery, and must neither take every thread nor hold one for long.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from commsite.activitypub.signatures import InvalidSignature, PublicKey
from commsite.content.network_text import clean_text
from commsite.federation.fetch import Fetcher, FetchError
from commsite.federation.public_keys import fetch_public_key
from commsite.sidecar.fetchslots import FetchSlots, NoFetchSlot
from commsite.sidecar.store import Store, iso

__all__ = ["KeyCache"]

log = logging.getLogger(__name__)


class KeyCache:
    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        clock: Callable[[], datetime],
        min_refresh: timedelta = timedelta(seconds=30),
        *,
        timeout: float = 5.0,
        slots: FetchSlots | None = None,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.min_refresh = min_refresh
        self.timeout = timeout
        self.slots = slots or FetchSlots(total=2, per_host=2, retry_after=timeout)

    def cached(self, key_id: str) -> tuple[PublicKey, datetime] | None:
        row = self.store.conn.execute(
            "SELECT owner, pem, fetched_at FROM inbox_keys WHERE key_id = ?", (key_id,)
        ).fetchone()
        if row is None:
            return None
        key = PublicKey(key_id=key_id, owner=row["owner"], pem=row["pem"])
        return key, datetime.fromisoformat(row["fetched_at"])

    def resolve(self, key_id: str, refresh: bool) -> PublicKey:
        """The KeyResolver for `verify`: a key that cannot be fetched is an InvalidSignature.

        NoFetchSlot (no slot free for the fetch) propagates: it is not the sender's fault."""
        now = self.clock()
        cached = self.cached(key_id)
        if cached is not None:
            key, fetched_at = cached
            if not refresh or now - fetched_at < self.min_refresh:
                return key
        try:
            return self.fetch(key_id)
        except FetchError as exc:
            raise InvalidSignature(f"could not fetch key {key_id}: {exc}") from exc

    def fetch_busy(self, key_id: str) -> NoFetchSlot | None:
        """Why fetching `key_id` now would find no slot, or None (a look, not a claim)."""
        return self.slots.busy(_origin(key_id))

    def fetch(self, key_id: str) -> PublicKey:
        """Fetch the key now and cache it; FetchError (Gone, BlockedAddress...) and
        NoFetchSlot propagate."""
        now = self.clock()
        with self.slots.hold(_origin(key_id)):
            log.info("fetching key %s", key_id)
            key = fetch_public_key(self.fetcher, key_id, timeout=self.timeout)
        # Network text, cleaned before it is stored (content/network_text.py): a lone
        # surrogate in the PEM would make the INSERT raise; cleaned, it is a
        # key that does not parse, hence a 401.
        key = PublicKey(key_id=key.key_id, owner=clean_text(key.owner), pem=clean_text(key.pem))
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO inbox_keys (key_id, owner, pem, fetched_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key_id) DO UPDATE SET owner = excluded.owner,"
                " pem = excluded.pem, fetched_at = excluded.fetched_at",
                (key_id, key.owner, key.pem, iso(now)),
            )
        return key


def _origin(url: str) -> str:
    """host:port of a URL (never its user info, which a sender could vary at will)."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname or ''}:{parts.port or ''}"
    except ValueError:
        return ""  # fetch_public_key says what is wrong with the URL
