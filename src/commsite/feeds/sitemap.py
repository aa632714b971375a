"""sitemap.xml (sitemaps.org 0.9) and robots.txt."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape

from commsite import urls
from commsite.content.model import Site

__all__ = ["robots", "sitemap"]

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
    sorted and without duplicates; the 404 page is left out."""
    locations = sorted(
        {site.config.url(_page_path(p)) for p in html_paths if _page_path(p) != urls.NOT_FOUND}
    )
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    # sitemaps.org wants URLs, not IRIs: percent-encode non-ASCII (/members/zoë/).
    lines += [f"  <url><loc>{escape(quote(loc, safe=_URL_SAFE))}</loc></url>" for loc in locations]
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def robots(site: Site) -> bytes:
    """Allow every crawler everywhere, and name the sitemap."""
    lines = ["User-agent: *", "Allow: /", "", f"Sitemap: {site.config.url(urls.SITEMAP)}"]
    return ("\n".join(lines) + "\n").encode()
