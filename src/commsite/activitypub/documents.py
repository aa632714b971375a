"""The static federation documents, as the bytes the build writes: WebFinger,
host-meta, NodeInfo, the community actor, its outbox pages and one ActivityPub
object per story and event.

Pure functions of the site: the build writes `federation_documents()` (or,
keeping unchanged items' JSON between builds, `federation_plan()` and its
parts) under the paths of commsite.urls. The documents themselves are made in
discovery.py, actor.py, objects.py and outbox.py; `commsite publish` wraps the
same objects in the activities of activities.py to deliver them. Field choices
follow shared/reference/activitypub-interop.md (what Mastodon reads, §1.2, §3,
§6).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from commsite import urls
from commsite.activitypub.activities import create_activity
from commsite.activitypub.actor import actor
from commsite.activitypub.discovery import NODEINFO_SCHEMA, host_meta, nodeinfo, webfinger
from commsite.activitypub.objects import item_object
from commsite.activitypub.outbox import (
    PAGE_SIZE,
    federated_items,
    outbox,
    outbox_page_document,
    page_count,
)
from commsite.activitypub.poll import PollMemo, poll_documents
from commsite.activitypub.vocabulary import ACTIVITY_CONTEXT, compact_json, embedded, json_line
from commsite.content.model import Event, Site, Story
from commsite.errors import Diagnostic, Severity

__all__ = [
    "FederationPlan",
    "ObjectJson",
    "OutboxPage",
    "federation_diagnostics",
    "federation_documents",
    "federation_plan",
    "object_json",
    "outbox_json",
    "outbox_page_json",
]


@dataclass(frozen=True, slots=True)
class ObjectJson:
    """A story's or event's object as compact JSON text, in the pieces its
    documents are assembled from (so a build can keep them for unchanged items).

    `body`: the object without "@context" ('{"id":…}'), as an outbox page embeds it;
    `create_head`: its Create activity as an outbox page embeds it, without the
    closing ',"object":…}' (the object is the activity's last key)."""

    body: str
    create_head: str

    def document(self) -> bytes:
        """The object's own document: the same bytes as dumping it with its @context."""
        return f'{{"@context":{_ACTIVITY_CONTEXT_JSON},{self.body[1:]}\n'.encode()

    def create(self) -> str:
        return f'{self.create_head},"object":{self.body}}}'


_ACTIVITY_CONTEXT_JSON = json.dumps(ACTIVITY_CONTEXT, ensure_ascii=False, separators=(",", ":"))


def object_json(
    site: Site, item: Story | Event, rsvp: Mapping[str, Any] | None = None
) -> ObjectJson:
    """`item`'s object as JSON pieces: a pure function of `item` and `site.config`
    (and an event's answering fields: `rsvp`, or counted from the site)."""
    obj = item_object(site, item, rsvp)
    create = embedded(create_activity(site, obj))
    del create["object"]
    return ObjectJson(compact_json(embedded(obj)), compact_json(create)[:-1])


def outbox_json(site: Site, n: int, pages: int, chunk: list[ObjectJson]) -> bytes:
    """The bytes of outbox_page_document(...) dumped, assembled from the objects' JSON."""
    page = outbox_page_document(site, n, pages, [])
    del page["orderedItems"]  # the last key
    items = ",".join(o.create() for o in chunk)
    return f'{compact_json(page)[:-1]},"orderedItems":[{items}]}}\n'.encode()


@dataclass(frozen=True, slots=True)
class OutboxPage:
    """Page `number` of `pages` of the outbox, at `path`, showing `items`."""

    path: str
    number: int
    pages: int
    items: tuple[Story | Event, ...]


@dataclass(frozen=True, slots=True)
class FederationPlan:
    """The static federation outputs, in parts: `documents` made already (the small
    ones), the path of each story's and event's object document, and the outbox
    pages. `outbox_page_json` and `ObjectJson.document` make the rest."""

    documents: dict[str, bytes]
    diagnostics: tuple[Diagnostic, ...]
    objects: tuple[tuple[str, Story | Event], ...]
    outbox_pages: tuple[OutboxPage, ...]


def outbox_page_json(
    site: Site, page: OutboxPage, objects: Callable[[Story | Event], ObjectJson]
) -> bytes:
    """The bytes of an outbox page, from its items' JSON."""
    return outbox_json(site, page.number, page.pages, [objects(i) for i in page.items])


def federation_diagnostics(site: Site) -> list[Diagnostic]:
    """What stops or weakens federation, without making any document.

    `commsite check` reports these too, so check and build agree on warnings
    (and `check --strict` fails exactly when `build --strict` would).
    """
    config = site.config
    if not config.federation.enabled:
        return []
    if site.public_key_pem is None:
        return [
            Diagnostic(
                "commsite.yaml",
                None,
                "no federation key: the actor, WebFinger and outbox were skipped",
                Severity.WARNING,
                hint="run `commsite keys generate` in the site's folder"
                " (or `commsite keys generate PATH/TO/SITE`)",
            )
        ]
    if config.base_path != "/":
        return [
            Diagnostic(
                "commsite.yaml",
                None,
                f"base_url has a path ({config.base_path}): Mastodon looks for "
                "/.well-known/webfinger at the root of the domain",
                Severity.WARNING,
                hint="serve the site at the root of a (sub)domain, or copy "
                f"{urls.WEBFINGER} to the root of {config.host}",
            )
        ]
    return []


def federation_plan(site: Site, polls: PollMemo | None = None) -> FederationPlan:
    """Every static federation output, in parts (see FederationPlan); `polls`: the
    last plan's polls (poll_documents)."""
    config = site.config
    diagnostics = federation_diagnostics(site)
    if not config.federation.enabled or site.public_key_pem is None:
        return FederationPlan({}, tuple(diagnostics), (), ())

    items = federated_items(site)
    documents = {
        urls.WEBFINGER: json_line(webfinger(site)),
        urls.HOST_META: host_meta(site),
        urls.NODEINFO_WELL_KNOWN: json_line(
            {"links": [{"rel": NODEINFO_SCHEMA, "href": config.url(urls.NODEINFO)}]}
        ),
        urls.NODEINFO: json_line(nodeinfo(site)),
        urls.ACTOR: json_line(actor(site)),
        urls.OUTBOX: json_line(outbox(site, len(items))),
    }
    documents.update(poll_documents(site, polls))  # each event's RSVP poll (a Question)
    objects = tuple(
        ((urls.story_object if isinstance(i, Story) else urls.event_object)(i.slug), i)
        for i in items
    )
    pages = page_count(len(items))
    outbox_pages = tuple(
        OutboxPage(urls.outbox_page(n), n, pages, tuple(items[(n - 1) * PAGE_SIZE : n * PAGE_SIZE]))
        for n in range(1, pages + 1)
    )
    return FederationPlan(documents, tuple(diagnostics), objects, outbox_pages)


def federation_documents(
    site: Site, objects: Callable[[Story | Event], ObjectJson] | None = None
) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """Every static federation output, keyed by its commsite.urls path.

    `objects(item)`: the item's `object_json(site, item)`, possibly kept from an
    earlier build (default: made here)."""
    plan = federation_plan(site)
    made: dict[Story | Event, ObjectJson] = {}

    def get(item: Story | Event) -> ObjectJson:
        found = made.get(item)
        if found is None:
            found = made[item] = object_json(site, item) if objects is None else objects(item)
        return found

    documents = dict(plan.documents)
    for path, item in plan.objects:
        documents[path] = get(item).document()
    for page in plan.outbox_pages:
        documents[page.path] = outbox_page_json(site, page, get)
    return documents, list(plan.diagnostics)
