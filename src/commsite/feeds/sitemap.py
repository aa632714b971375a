"""sitemap.xml (sitemaps.org 0.9) and robots.txt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from commsite import urls
from commsite.config import SiteConfig
from commsite.content.model import Site
from commsite.feeds.atom import rfc3339

__all__ = ["robots", "robots_document", "sitemap", "sitemap_document", "sitemap_stories"]

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


def _page_path(path: str) -> str:
    """'stories/x/index.html' and '/stories/x/' -> 'stories/x/'."""
    path = path.lstrip("/")
    if path == "index.html" or path.endswith("/index.html"):
        path = path.removesuffix("index.html")
    return path


def sitemap(site: Site, html_paths: Sequence[str]) -> bytes:
    """The absolute URLs of `html_paths` (site paths or the files written for them),
    sorted and without duplicates; the 404 page and draft or future stories are left out."""
    return sitemap_document(site.config, sitemap_stories(site), html_paths)


def sitemap_stories(site: Site) -> tuple[tuple[str, bool, float], ...]:
    """What the sitemap says of each story: its slug, whether it is hidden (a draft
    or future story) and when it last changed (Story.lastmod). Plain numbers,
    cheap to make on every rebuild at 10,000 stories and to digest (build/pagekeys.py),
    unlike datetimes or their formatted text."""
    return tuple((s.slug, s.draft or s.future, s.lastmod) for s in site.stories)


def sitemap_document(
    config: SiteConfig,
    stories: Sequence[tuple[str, bool, float]],
    html_paths: Sequence[str],
) -> bytes:
    """`sitemap`, from the stories as `sitemap_stories` gives them."""
    # Drafts and future stories (in a --drafts/--future preview) carry noindex: a
    # sitemap must not list them.
    hidden = {urls.NOT_FOUND} | {urls.story_page(slug) for slug, hides, _ in stories if hides}
    # A story page changes when the story does: its lastmod (other pages list
    # many things, so they carry none rather than a guess).
    changed = {
        config.url(urls.story_page(slug)): rfc3339(datetime.fromtimestamp(when, UTC))
        for slug, _, when in stories
    }
    locations = sorted(
        {config.url(_page_path(p)) for p in html_paths if _page_path(p) not in hidden}
    )
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    for loc in locations:
        # sitemaps.org wants URLs, not IRIs: percent-encode non-ASCII (/members/zoë/).
        entry = f"<loc>{escape(quote(loc, safe=_URL_SAFE), quote=False)}</loc>"
        if loc in changed:
            entry += f"<lastmod>{changed[loc]}</lastmod>"
        lines.append(f"  <url>{entry}</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def robots(site: Site) -> bytes:
    """Allow every crawler everywhere, and name the sitemap."""
    return robots_document(site.config)


def robots_document(config: SiteConfig) -> bytes:
    """`robots`, from the config alone."""
    lines = ["User-agent: *", "Allow: /", "", f"Sitemap: {config.url(urls.SITEMAP)}"]
    return ("\n".join(lines) + "\n").encode()
