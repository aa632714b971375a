"""Images in ActivityPub documents: the actor's icon and header, and the
attachments of a story's or event's object (its `image:` and the images of its
body), each the build's variant of the file when there is one."""

from __future__ import annotations

from typing import Any

from commsite.content.image_refs import body_images
from commsite.content.model import Site
from commsite.feeds.links import media_type, static_url
from commsite.image_table import static_key

__all__ = ["MAX_ATTACHMENTS", "attachments", "image_object"]


def image_object(site: Site, path: str, shape: str = "") -> dict[str, Any]:
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


def attachments(
    site: Site, image: str | None, alt: str | None, title: str, page: str, body: str
) -> list[dict[str, Any]]:
    """The item's `image:` and the body's images from static/, as attachments with
    their alt text (`name`), which Mastodon shows in the post."""
    found: list[tuple[str, str]] = [(image, alt or title)] if image else []
    found += body_images(site.config, page, body)
    found_attachments: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path, text in found:
        key = static_key(path)
        if key in seen:
            continue
        seen.add(key)
        attachment = image_object(site, path)
        attachment["name"] = text
        found_attachments.append(attachment)
    return found_attachments[:MAX_ATTACHMENTS]
