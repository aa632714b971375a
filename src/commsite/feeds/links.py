"""Small helpers every machine-readable output shares: which stories are public,
absolute URLs of static files and of links inside rendered HTML, and the names
of a story's authors.

Feeds, calendars and ActivityPub documents leave the site, so every URL in
them must be absolute; the HTML pages may keep relative ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Member, Site, Story

__all__ = [
    "FEED_ITEMS",
    "absolute_html",
    "authors",
    "authors_of",
    "media_type",
    "public_stories",
    "static_url",
    "without_control_chars",
]

# href/src values that are not already absolute (http(s): and mailto: are left alone).
# The match starts at the "=" (the attribute's name is looked behind at): a literal
# first character lets the regex engine skip ahead, ten times faster on story
# bodies than a pattern that starts at every whitespace.
_URL_ATTRIBUTE = re.compile(
    r"""=(?:(?<=\shref=)|(?<=\ssrc=)|(?<=\sposter=))"""
    r"""(?:"(?!https?://|mailto:)([^"]*)"|'(?!https?://|mailto:)([^']*)')""",
    re.IGNORECASE,
)

# Characters XML 1.0 does not allow at all (and iCalendar TEXT does not either):
# C0 controls other than tab, newline and carriage return, lone surrogates, U+FFFE/F.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_MEDIA_TYPES = {
    "avif": "image/avif",
    "gif": "image/gif",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
    "svg": "image/svg+xml",
    "webp": "image/webp",
}


FEED_ITEMS = 20  # stories in the Atom and JSON feeds


def public_stories(site: Site) -> tuple[Story, ...]:
    """Stories that may leave the site: no drafts, nothing dated after the build.

    (A preview built with drafts or future posts renders them as pages, but never
    announces them in feeds or to the fediverse.) Newest first, as in the model.
    """
    return tuple(s for s in site.stories if not s.draft and not s.future)


def without_control_chars(text: str) -> str:
    """`text` without the characters that make an XML document ill-formed (a stray
    form feed or escape pasted into a title would otherwise break the whole feed)."""
    return _NOT_XML_CHAR.sub("", text)


def static_url(config: SiteConfig, path: str) -> str:
    """Absolute URL of a file under static/ (static/ is copied to the output root)."""
    path = path.lstrip("/")
    path = path.removeprefix("static/")
    return config.url(path)


def media_type(path: str) -> str | None:
    """The image media type of a static file, from its extension."""
    _, dot, ext = path.rpartition(".")
    return _MEDIA_TYPES.get(ext.lower()) if dot else None


def absolute_html(html: str, base: str) -> str:
    """`html` with every href/src resolved against `base` (the page's URL).

    Double- and single-quoted href, src and poster attributes are resolved (raw
    HTML in a story may use either); fragment links ("#section") become links
    into the page.
    """

    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    page = base.split("#", 1)[0]

    def absolute(url: str) -> str:
        # The common shapes without urljoin, which is slow on big sites.
        if url.startswith("/") and not url.startswith("//"):
            return origin + url
        if url.startswith("#"):
            return page + url
        return urljoin(base, url)

    def resolve(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return f'="{absolute(match.group(1))}"'
        return f"='{absolute(match.group(2))}'"

    return _URL_ATTRIBUTE.sub(resolve, html)


def authors(site: Site, member_ids: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """(display name, profile page URL) of members by id; an unknown id is shown as
    given, without a URL (the loader reports it)."""
    by_id = {m.id: m for m in site.members}
    return authors_of(site.config, by_id.get, member_ids)


def authors_of(
    config: SiteConfig, member: Callable[[str], Member | None], member_ids: tuple[str, ...]
) -> list[tuple[str, str | None]]:
    """`authors`, asking `member` for each id (a document's recorded read)."""
    found = [(mid, member(mid)) for mid in member_ids]
    return [
        (m.name, config.url(urls.member_page(mid))) if m is not None else (mid, None)
        for mid, m in found
    ]
