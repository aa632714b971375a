"""The static federation documents: WebFinger, host-meta, NodeInfo, the community
actor, its outbox and one ActivityPub object per story and event.

Pure functions of the site: the build writes `federation_documents()` under the
paths of commsite.urls, and `commsite publish` wraps the same objects in the
activities below to deliver them. Field choices follow
shared/reference/activitypub-interop.md (what Mastodon reads, §1.2, §3, §6).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from commsite import __version__, urls
from commsite.activitypub.content import (
    event_summary,
    hashtag_name,
    mastodon_html,
    paragraphs,
)
from commsite.activitypub.event_rsvp import EVENT_TERMS, event_name, rsvp_fields, status_note
from commsite.content.image_refs import body_images
from commsite.content.model import Event, Site, Story
from commsite.errors import Diagnostic, Severity
from commsite.feeds.atom import rfc3339
from commsite.feeds.calendar import ICAL_STATUS
from commsite.feeds.links import absolute_html, media_type, public_stories, static_url
from commsite.image_table import static_key

__all__ = [
    "ACTIVITY_CONTEXT",
    "ACTOR_CONTEXT",
    "PAGE_SIZE",
    "PUBLIC",
    "FederationPlan",
    "ObjectJson",
    "OutboxPage",
    "actor",
    "create_activity",
    "delete_activity",
    "event_object",
    "federation_documents",
    "federation_plan",
    "host_meta",
    "nodeinfo",
    "object_json",
    "outbox",
    "outbox_page",
    "outbox_page_json",
    "story_object",
    "update_activity",
    "webfinger",
]

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PAGE_SIZE = 20
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"

# Mastodon's own extension block (including its schema.org quirk), plus FEP-2c59.
ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "webfinger": "https://purl.archive.org/socialweb/webfinger#webfinger",
    },
]
# Objects and activities: hashtags, Mastodon's sensitive flag, and the event
# vocabulary Mobilizon and the WordPress plugin use (ical status, mz:*).
ACTIVITY_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "Hashtag": "as:Hashtag",
        "sensitive": "as:sensitive",
        "schema": "http://schema.org#",
        "address": "schema:address",
        "ical": "http://www.w3.org/2002/12/cal/ical#",
        "mz": "https://joinmobilizon.org/ns#",
        **EVENT_TERMS,
    },
]


def _compact(document: dict[str, Any]) -> str:
    """Compact JSON (compact is what lets json use its C encoder)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _dumps(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, one line."""
    return _compact(document).encode() + b"\n"


def _actor_id(site: Site) -> str:
    return site.config.url(urls.ACTOR)


def _followers(site: Site) -> str:
    return site.config.url(urls.FOLLOWERS)


def _image(site: Site, path: str, shape: str = "") -> dict[str, Any]:
    """An Image object for a file under static/: the build's variant of it when
    there is one (`shape` "square": the actor's icon; "banner": its header;
    otherwise the largest responsive copy, without the original's metadata),
    with its size; else the file itself."""
    config = site.config
    info = config.images.get(path)
    variant = None
    if info is not None:
        variant = {"square": info.square, "banner": info.banner}.get(shape, info.largest)
    image: dict[str, Any] = {"type": "Image"}
    if variant is not None:
        image["mediaType"] = variant.media_type
        image["url"] = config.url(variant.path)
        image["width"], image["height"] = variant.width, variant.height
        return image
    kind = media_type(path)
    if kind:
        image["mediaType"] = kind
    image["url"] = static_url(config, path)
    if info is not None:
        image["width"], image["height"] = info.width, info.height
    return image


MAX_ATTACHMENTS = 4  # what Mastodon shows in a post (and all older versions accept)


def _attachments(
    site: Site, image: str | None, alt: str | None, title: str, page: str, body: str
) -> list[dict[str, Any]]:
    """The item's `image:` and the body's images from static/, as attachments with
    their alt text (`name`), which Mastodon shows in the post."""
    found: list[tuple[str, str]] = [(image, alt or title)] if image else []
    found += body_images(site.config, page, body)
    attachments: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path, text in found:
        key = static_key(path)
        if key in seen:
            continue
        seen.add(key)
        attachment = _image(site, path)
        attachment["name"] = text
        attachments.append(attachment)
    return attachments[:MAX_ATTACHMENTS]


def _link(href: str, text: str) -> str:
    return f'<a href="{html.escape(href)}" rel="me nofollow noopener" target="_blank">{text}</a>'


def _display_url(url: str) -> str:
    parts = urlsplit(url)
    return html.escape(parts.netloc + parts.path.rstrip("/"))


# --- discovery -----------------------------------------------------------------


def acct(site: Site) -> str:
    """'handle@host' (host keeps a port, as base_url has it)."""
    return f"{site.config.community.handle}@{site.config.host}"


def webfinger(site: Site) -> dict[str, Any]:
    """The JRD for the one actor. A static host serves it whatever the query asks."""
    config = site.config
    jrd: dict[str, Any] = {
        "subject": f"acct:{acct(site)}",
        "aliases": [_actor_id(site), config.url(urls.HOME)],
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": _actor_id(site)},
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": config.url(urls.HOME),
            },
        ],
    }
    if config.community.avatar:
        avatar = _image(site, config.community.avatar, "square")
        link = {"rel": "http://webfinger.net/rel/avatar", "href": avatar["url"]}
        if "mediaType" in avatar:
            link["type"] = avatar["mediaType"]
        jrd["links"].append(link)
    return jrd


def host_meta(site: Site) -> bytes:
    """XRD whose lrdd template points at the WebFinger document (Mastodon's fallback)."""
    template = html.escape(site.config.url(urls.WEBFINGER) + "?resource={uri}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/jrd+json" template="{template}"/>\n'
        "</XRD>\n"
    ).encode()


def nodeinfo(site: Site, federated: Sequence[Story | Event] | None = None) -> dict[str, Any]:
    """NodeInfo 2.1: commsite, one user, posts counted, registrations closed.
    `federated`: `_federated(site)`, when the caller has it already."""
    items = _federated(site) if federated is None else federated
    # Newest first, so the first one published by now is the latest (comparing
    # every date with now took 8 ms at 10,000 stories, on each rebuild).
    latest = next((d for d in map(_published_at, items) if d <= site.now), None)

    def active_within(days: int) -> int:
        return int(latest is not None and site.now - latest <= timedelta(days=days))

    return {
        "version": "2.1",
        "software": {
            "name": "commsite",
            "version": __version__,
            "homepage": "https://pypi.org/project/commsite/",
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {
                "total": 1,
                "activeMonth": active_within(30),
                "activeHalfyear": active_within(180),
            },
            "localPosts": len(items),
        },
        "metadata": {"nodeName": site.config.title, "nodeDescription": site.config.description},
    }


# --- the actor -------------------------------------------------------------------


def actor(site: Site, federated: Sequence[Story | Event] | None = None) -> dict[str, Any]:
    """The community's actor, with every field Mastodon reads. `federated`:
    `_federated(site)`, when the caller has it already."""
    config = site.config
    community = config.community
    actor_id = _actor_id(site)
    home = config.url(urls.HOME)
    inbox = config.federation.inbox_url or config.url(urls.INBOX)
    # A sidecar on another host answers both inboxes; on ours, /inbox is the shared one.
    shared_inbox = config.federation.inbox_url or config.url(urls.SHARED_INBOX)

    document: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": actor_id,
        "type": community.actor_type,
        "preferredUsername": community.handle,
        "name": community.name or config.title,
        "summary": paragraphs(community.summary or config.description),
        "url": home,
        "inbox": inbox,
        "outbox": config.url(urls.OUTBOX),
        "followers": _followers(site),
        "endpoints": {"sharedInbox": shared_inbox},
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "webfinger": acct(site),
    }
    if community.avatar:
        document["icon"] = _image(site, community.avatar, "square")
    if community.header_image:
        document["image"] = _image(site, community.header_image, "banner")
    items = _federated(site) if federated is None else federated
    if items:  # (newest first: the last is the first published)
        document["published"] = rfc3339(_published_at(items[-1]))

    fields = [("Website", _link(home, _display_url(home)))]
    fields.append(("Rules", _link(config.url(urls.RULES), html.escape(site.rules.title))))
    if any(p.slug == "join" for p in site.pages):
        fields.append(("Join", _link(config.url(urls.page("join")), "How to join")))
    document["attachment"] = [
        {"type": "PropertyValue", "name": name, "value": value} for name, value in fields
    ]
    document["publicKey"] = {
        "id": f"{actor_id}#main-key",
        "owner": actor_id,
        "publicKeyPem": site.public_key_pem or "",
    }
    return document


# --- objects -----------------------------------------------------------------------


def _hashtags(site: Site, tags: tuple[str, ...]) -> list[dict[str, str]]:
    return [
        {
            "type": "Hashtag",
            "href": site.config.url(urls.tag_page(tag)),
            "name": hashtag_name(tag),
        }
        for tag in tags
    ]


def _hashtag_paragraph(hashtags: list[dict[str, str]]) -> str:
    links = [
        f'<a href="{html.escape(t["href"])}" class="mention hashtag" rel="tag">'
        f"#<span>{html.escape(t['name'][1:])}</span></a>"
        for t in hashtags
    ]
    return f"<p>{' '.join(links)}</p>" if links else ""


def _addressing(site: Site) -> dict[str, Any]:
    return {"attributedTo": _actor_id(site), "to": [PUBLIC], "cc": [_followers(site)]}


def story_object(site: Site, story: Story) -> dict[str, Any]:
    """A story as a Note (full text in timelines) or an Article (title, summary, link),
    as `federation.story_type` says."""
    config = site.config
    page = config.url(urls.story_page(story.slug))
    hashtags = _hashtags(site, story.tags)
    body = mastodon_html(absolute_html(story.body_html, page))
    link = f'<p><a href="{html.escape(page)}">{html.escape(page)}</a></p>'
    title = html.escape(story.title, quote=False)

    obj: dict[str, Any] = {
        "@context": ACTIVITY_CONTEXT,
        "id": config.url(urls.story_object(story.slug)),
        "type": config.federation.story_type,
    }
    if config.federation.story_type == "Article":
        obj["name"] = story.title
        obj["summary"] = story.summary
        content = body + _hashtag_paragraph(hashtags)
    else:
        content = f"<p><strong>{title}</strong></p>" + body + link + _hashtag_paragraph(hashtags)
        obj["sensitive"] = False
    obj.update(_addressing(site))
    obj["published"] = rfc3339(story.date)
    if story.updated and story.updated > story.date:
        obj["updated"] = rfc3339(story.updated)
    obj["url"] = page
    obj["content"] = content
    obj["contentMap"] = {config.language: content}
    if hashtags:
        obj["tag"] = hashtags
    path = urls.story_page(story.slug)
    attachments = _attachments(
        site, story.image, story.image_alt, story.title, path, story.body_html
    )
    if attachments:
        obj["attachment"] = attachments
    return obj


def event_object(site: Site, event: Event) -> dict[str, Any]:
    """An event as an Event; `summary` spells out when and where, since Mastodon
    shows only name, summary and link; a cancelled one says so in each. The
    answering fields come from activitypub/event_rsvp.py."""
    config = site.config
    tz = config.tz
    page = config.url(urls.event_page(event.slug))
    obj: dict[str, Any] = {
        "@context": ACTIVITY_CONTEXT,
        "id": config.url(urls.event_object(event.slug)),
        "type": "Event",
        "name": event_name(event),
        "summary": event_summary(event, config.timezone),
    }
    obj.update(_addressing(site))
    obj["url"] = page
    obj["content"] = status_note(event) + absolute_html(event.body_html, page)
    obj["startTime"] = event.start.astimezone(tz).isoformat()
    if event.end is not None:
        obj["endTime"] = event.end.astimezone(tz).isoformat()
    if event.location is not None:
        place: dict[str, Any] = {"type": "Place", "name": event.location.name}
        if event.location.address:
            place["address"] = event.location.address
        if event.location.url:
            place["url"] = event.location.url
        obj["location"] = place
    obj["ical:status"] = ICAL_STATUS.get(event.status, "CONFIRMED")
    obj["isOnline"] = event.online is not None and event.location is None
    obj.update(rsvp_fields(site, event))
    hashtags = _hashtags(site, event.tags)
    if hashtags:
        obj["tag"] = hashtags
    attachments = _attachments(
        site,
        event.image,
        event.image_alt,
        event.title,
        urls.event_page(event.slug),
        event.body_html,
    )
    if attachments:
        obj["attachment"] = attachments
    return obj


# --- activities ------------------------------------------------------------------------


def _embedded(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "@context"}


def create_activity(site: Site, obj: dict[str, Any]) -> dict[str, Any]:
    """Create wrapping `obj` (a story or event object), addressed as the object is."""
    activity: dict[str, Any] = {
        "@context": ACTIVITY_CONTEXT,
        "id": obj["id"] + "#create",
        "type": "Create",
        "actor": _actor_id(site),
    }
    if "published" in obj:
        activity["published"] = obj["published"]
    activity["to"] = obj.get("to", [PUBLIC])
    activity["cc"] = obj.get("cc", [])
    activity["object"] = _embedded(obj)
    return activity


def update_activity(site: Site, obj: dict[str, Any], updated: datetime) -> dict[str, Any]:
    """Update re-sending `obj` with `updated` set (Mastodon treats it as an edit only then)."""
    stamp = rfc3339(updated)
    edited = _embedded(obj)
    edited["updated"] = stamp
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": f"{obj['id']}#updates/{int(updated.timestamp())}",
        "type": "Update",
        "actor": _actor_id(site),
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
        "actor": _actor_id(site),
        "to": [PUBLIC],
        "cc": [_followers(site)],
        "object": {"id": object_id, "type": "Tombstone"},
    }


# --- the outbox ---------------------------------------------------------------------------


def _published_at(item: Story | Event) -> datetime:
    return item.date if isinstance(item, Story) else item.start


def _federated(site: Site) -> list[Story | Event]:
    """Every public story and every event, newest first (events by their start)."""
    items: list[Story | Event] = [*public_stories(site), *site.events]
    return sorted(items, key=lambda i: (_published_at(i), i.slug), reverse=True)


def _object(site: Site, item: Story | Event) -> dict[str, Any]:
    return story_object(site, item) if isinstance(item, Story) else event_object(site, item)


def _page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def outbox(site: Site, total: int | None = None) -> dict[str, Any]:
    """The outbox collection: its size and its first and last pages."""
    if total is None:
        total = len(_federated(site))
    pages = _page_count(total)
    return {
        "@context": AS_CONTEXT,
        "id": site.config.url(urls.OUTBOX),
        "type": "OrderedCollection",
        "totalItems": total,
        "first": site.config.url(urls.outbox_page(1)),
        "last": site.config.url(urls.outbox_page(pages)),
    }


def _outbox_page(site: Site, n: int, pages: int, chunk: list[dict[str, Any]]) -> dict[str, Any]:
    page: dict[str, Any] = {
        "@context": ACTIVITY_CONTEXT,
        "id": site.config.url(urls.outbox_page(n)),
        "type": "OrderedCollectionPage",
        "partOf": site.config.url(urls.OUTBOX),
    }
    if n > 1:
        page["prev"] = site.config.url(urls.outbox_page(n - 1))
    if n < pages:
        page["next"] = site.config.url(urls.outbox_page(n + 1))
    page["orderedItems"] = [_embedded(create_activity(site, obj)) for obj in chunk]
    return page


def outbox_page(site: Site, n: int) -> dict[str, Any]:
    """Page `n` (1-based) of the outbox: Create activities, newest first."""
    items = _federated(site)
    chunk = items[(n - 1) * PAGE_SIZE : n * PAGE_SIZE]
    return _outbox_page(site, n, _page_count(len(items)), [_object(site, i) for i in chunk])


# --- objects as JSON text -------------------------------------------------------------------


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


def object_json(site: Site, item: Story | Event) -> ObjectJson:
    """`item`'s object as JSON pieces: a pure function of `item` and `site.config`."""
    obj = _object(site, item)
    create = _embedded(create_activity(site, obj))
    del create["object"]
    return ObjectJson(_compact(_embedded(obj)), _compact(create)[:-1])


def _outbox_page_json(site: Site, n: int, pages: int, chunk: list[ObjectJson]) -> bytes:
    """The bytes of _outbox_page(...) dumped, assembled from the objects' JSON."""
    page = _outbox_page(site, n, pages, [])
    del page["orderedItems"]  # the last key
    items = ",".join(o.create() for o in chunk)
    return f'{_compact(page)[:-1]},"orderedItems":[{items}]}}\n'.encode()


# --- everything at once -------------------------------------------------------------------


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
    return _outbox_page_json(site, page.number, page.pages, [objects(i) for i in page.items])


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


def federation_plan(site: Site) -> FederationPlan:
    """Every static federation output, in parts (see FederationPlan)."""
    config = site.config
    diagnostics = federation_diagnostics(site)
    if not config.federation.enabled or site.public_key_pem is None:
        return FederationPlan({}, tuple(diagnostics), (), ())

    items = _federated(site)
    documents = {
        urls.WEBFINGER: _dumps(webfinger(site)),
        urls.HOST_META: host_meta(site),
        urls.NODEINFO_WELL_KNOWN: _dumps(
            {"links": [{"rel": NODEINFO_SCHEMA, "href": config.url(urls.NODEINFO)}]}
        ),
        urls.NODEINFO: _dumps(nodeinfo(site, items)),
        urls.ACTOR: _dumps(actor(site, items)),
        urls.OUTBOX: _dumps(outbox(site, len(items))),
    }
    # Each event's RSVP poll (a Question). poll.py builds on this module's
    # vocabulary, hence the import here rather than at the top.
    from commsite.activitypub.poll import poll_documents

    documents.update(poll_documents(site))
    objects = tuple(
        ((urls.story_object if isinstance(i, Story) else urls.event_object)(i.slug), i)
        for i in items
    )
    pages = _page_count(len(items))
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
