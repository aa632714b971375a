"""Images in a rendered Markdown body that point into static/: given their size
and responsive variants (the image table, see image_table.py) as a page shows
them, so that a photo in a story is as light and as steady as its hero image.

Pure: the body's HTML (commsite's own rendering of the organiser's Markdown) in,
HTML out. An `<img>` whose address is not one of the table's images is left as
written. Which images a body shows is content/image_refs.py.
"""

from __future__ import annotations

import html
import re

from commsite.config import SiteConfig
from commsite.content.image_refs import IMG_TAG, img_attributes, static_image
from commsite.image_table import ImageInfo

__all__ = ["CONTENT_SIZES", "picture_html", "responsive_body", "srcset"]

# How wide a body image is shown: the narrow column (44rem) or the screen less its margins.
CONTENT_SIZES = "(min-width: 47rem) 44rem, calc(100vw - 2.5rem)"


def srcset(config: SiteConfig, image: ImageInfo) -> str:
    """The `srcset` of an image's WebP variants ("" when it has none)."""
    base = config.base_path
    return ", ".join(f"{base}{v.path} {v.width}w" for v in image.variants)


def picture_html(
    config: SiteConfig,
    image: ImageInfo,
    src: str,
    alt: str,
    *,
    eager: bool,
    sizes: str,
    title: str | None = None,
) -> str:
    """`<picture>` with the WebP variants and the original as fallback, sized."""
    attrs = f'src="{html.escape(src)}" alt="{html.escape(alt)}"'
    if title:
        attrs += f' title="{html.escape(title)}"'
    attrs += f' width="{image.width}" height="{image.height}"'
    attrs += ' fetchpriority="high"' if eager else ' loading="lazy" decoding="async"'
    variants = srcset(config, image)
    if not variants:
        return f"<img {attrs}>"
    return (
        f'<picture><source type="image/webp" srcset="{html.escape(variants)}"'
        f' sizes="{html.escape(sizes)}"><img {attrs}></picture>'
    )


def responsive_body(config: SiteConfig, page: str, body: str, *, eager_first: bool = False) -> str:
    """`body` with each image of the table given its size and variants; with
    `eager_first`, the first image loads at once (nothing shows above it)."""
    table = config.images
    if not table.images or "<img" not in body or "<picture" in body:
        return body  # (an organiser's own <picture> is left as written)
    first = [eager_first]

    def replace(match: re.Match[str]) -> str:
        attrs = img_attributes(match.group(0))
        src = attrs.get("src")
        path = static_image(config, page, src) if src else None
        image = table.get(path)
        if src is None or image is None or "width" in attrs or "srcset" in attrs:
            return match.group(0)
        eager, first[0] = first[0], False
        return picture_html(
            config,
            image,
            src,
            attrs.get("alt", ""),
            eager=eager,
            sizes=CONTENT_SIZES,
            title=attrs.get("title"),
        )

    return IMG_TAG.sub(replace, body)
