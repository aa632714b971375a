"""The images a rendered Markdown body refers to: every `<img>` address, and
the ones that name an image of the image table (static/, see image_table.py)
with their alt text.

Pure queries on a body's HTML (commsite's own rendering of the organiser's
Markdown), shared by the pages (render/body_images.py gives those images their
size and variants), the ActivityPub objects (their attachments) and the build
(which images to measure).
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote, urljoin, urlsplit

from commsite.config import SiteConfig

__all__ = ["IMG_TAG", "body_images", "image_addresses", "img_attributes", "static_image"]

IMG_TAG = re.compile(r"<img\s[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def img_attributes(tag: str) -> dict[str, str]:
    """The attributes of one `<img ...>` tag, names lowercased, values unescaped."""
    return {
        m.group(1).lower(): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _ATTR.finditer(tag)
    }


def static_image(config: SiteConfig, page: str, address: str) -> str | None:
    """The path under the site (= under static/ for a static file) that `address`,
    written on the page at `page` ("stories/x/"), names; None when it leads
    elsewhere."""
    base = config.base_url
    split = urlsplit(urljoin(base + page, address))
    ours = urlsplit(base)
    if (split.scheme, split.netloc) != (ours.scheme, ours.netloc):
        return None
    prefix = ours.path or "/"
    if not split.path.startswith(prefix):
        return None
    path = unquote(split.path[len(prefix) :])
    return path or None


def body_images(config: SiteConfig, page: str, body: str) -> list[tuple[str, str]]:
    """(path under static/, alt text) of each image of the table in `body`, in order."""
    found: list[tuple[str, str]] = []
    if not config.images.images or "<img" not in body:
        return found
    for match in IMG_TAG.finditer(body):
        attrs = img_attributes(match.group(0))
        src = attrs.get("src")
        path = static_image(config, page, src) if src else None
        image = config.images.get(path)
        if image is not None:
            found.append((image.source, attrs.get("alt", "")))
    return found


def image_addresses(body: str) -> list[str]:
    """The `src` of every `<img>` in `body`, as written."""
    found: list[str] = []
    if "<img" not in body:
        return found
    for match in IMG_TAG.finditer(body):
        for m in _ATTR.finditer(match.group(0)):
            if m.group(1).lower() == "src":
                found.append(html.unescape(m.group(2) if m.group(2) is not None else m.group(3)))
    return found
