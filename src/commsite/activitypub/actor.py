"""The community's actor: the account Mastodon users follow."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

from commsite import urls
from commsite.activitypub.attachments import image_object
from commsite.activitypub.content import paragraphs
from commsite.activitypub.discovery import acct
from commsite.activitypub.outbox import federated_items, published_at
from commsite.activitypub.vocabulary import ACTOR_CONTEXT, actor_id, followers_url
from commsite.content.model import Site
from commsite.feeds.atom import rfc3339

__all__ = ["actor"]


def actor(site: Site) -> dict[str, Any]:
    """The community's actor, with every field Mastodon reads."""
    config = site.config
    community = config.community
    the_id = actor_id(site)
    home = config.url(urls.HOME)
    inbox = config.federation.inbox_url or config.url(urls.INBOX)
    # A sidecar on another host answers both inboxes; on ours, /inbox is the shared one.
    shared_inbox = config.federation.inbox_url or config.url(urls.SHARED_INBOX)

    document: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": the_id,
        "type": community.actor_type,
        "preferredUsername": community.handle,
        "name": community.name or config.title,
        "summary": paragraphs(community.summary or config.description),
        "url": home,
        "inbox": inbox,
        "outbox": config.url(urls.OUTBOX),
        "followers": followers_url(site),
        "endpoints": {"sharedInbox": shared_inbox},
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "webfinger": acct(site),
    }
    if community.avatar:
        document["icon"] = image_object(site, community.avatar, "square")
    if community.header_image:
        document["image"] = image_object(site, community.header_image, "banner")
    items = federated_items(site)
    if items:  # (newest first: the last is the first published)
        document["published"] = rfc3339(published_at(items[-1]))

    fields = [("Website", _link(home, _display_url(home)))]
    fields.append(("Rules", _link(config.url(urls.RULES), html.escape(site.rules.title))))
    if any(p.slug == "join" for p in site.pages):
        fields.append(("Join", _link(config.url(urls.page("join")), "How to join")))
    document["attachment"] = [
        {"type": "PropertyValue", "name": name, "value": value} for name, value in fields
    ]
    document["publicKey"] = {
        "id": f"{the_id}#main-key",
        "owner": the_id,
        "publicKeyPem": site.public_key_pem or "",
    }
    return document


def _link(href: str, text: str) -> str:
    return f'<a href="{html.escape(href)}" rel="me nofollow noopener" target="_blank">{text}</a>'


def _display_url(url: str) -> str:
    parts = urlsplit(url)
    return html.escape(parts.netloc + parts.path.rstrip("/"))
