"""Every component's migrations, for `commsite sidecar migrate` and the dump.

The stores migrate their own tables when they open (Store, FollowerStore,
DeliveryQueue, publication); this list lets one command bring a database up to
date, say what it did, and lets import-db migrate an empty database first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from commsite.database import Connection, Migration, migrate, versions
from commsite.federation import delivery_queue, delivery_schema, followers, publication
from commsite.sidecar import store

__all__ = ["COMPONENTS", "Applied", "migrate_all"]

COMPONENTS: dict[str, Sequence[str | Migration]] = {
    "inbox": store.MIGRATIONS,
    followers.COMPONENT: followers.MIGRATIONS,
    delivery_queue.COMPONENT: delivery_schema.MIGRATIONS,
    publication.COMPONENT: publication.MIGRATIONS,
}


@dataclass(frozen=True, slots=True)
class Applied:
    component: str
    before: int
    after: int


def migrate_all(conn: Connection) -> list[Applied]:
    """Apply every component's pending migrations; what each went from and to."""
    before = versions(conn)
    return [
        Applied(name, before.get(name, 0), migrate(conn, name, migrations))
        for name, migrations in COMPONENTS.items()
    ]
