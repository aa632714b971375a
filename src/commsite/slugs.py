"""Tag slugs: the one place that turns a tag into its URL segment.

`slugify` is idempotent (`slugify(slugify(t)) == slugify(t)`), so callers may
pass either a tag or its slug to `commsite.urls.tag_page`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

__all__ = ["slugify", "tag_key"]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=16384)  # a site's tags recur on thousands of pages
def slugify(text: str) -> str:
    """Lowercase ASCII letters, digits and single hyphens: "Board Games!" -> "board-games".

    Accents are dropped ("Café" -> "cafe"); text with no Latin letters or digits
    at all gets a short stable hash ("tag-1a2b3c4d") instead of an empty slug.
    """
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    )
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    if slug:
        return slug
    digest = hashlib.sha1(text.strip().casefold().encode("utf-8")).hexdigest()[:8]
    return f"tag-{digest}"


@functools.lru_cache(maxsize=16384)
def tag_key(text: str) -> str:
    """A loose key for matching interests and hashtags: "Board games" == "#boardgames"."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())
