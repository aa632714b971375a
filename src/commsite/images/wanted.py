"""The images a site shows that get smaller copies: the raster files under
static/ named by the community (its avatar and header), stories', events' and
members' front matter, and the Markdown bodies, with what each needs (a square
icon, a 3:1 banner). Pure: the site in, the list out (build.images makes them)."""

from __future__ import annotations

from dataclasses import dataclass

from commsite.content.bodies import content_pages
from commsite.content.image_refs import image_addresses, static_image
from commsite.content.model import Site
from commsite.image_table import static_key

__all__ = ["RASTER", "Wanted", "wanted_images"]

RASTER = (".jpg", ".jpeg", ".png", ".gif", ".webp")


@dataclass(frozen=True, slots=True)
class Wanted:
    source: str  # path under static/
    square: bool = False
    banner: bool = False


def wanted_images(site: Site) -> list[Wanted]:
    """The raster images under static/ that `site` shows, with what each needs."""
    found: dict[str, Wanted] = {}

    def want(path: str | None, square: bool = False, banner: bool = False) -> None:
        if not path:
            return
        key = static_key(path)
        if not key.lower().endswith(RASTER):
            return
        old = found.get(key)
        if old is not None:
            square, banner = square or old.square, banner or old.banner
        found[key] = Wanted(key, square, banner)

    community = site.config.community
    want(community.avatar, square=True)
    want(community.header_image, banner=True)
    for story in site.stories:
        want(story.image)
    for event in site.events:
        want(event.image)
    for member in site.members:
        want(member.avatar)
    for _, page, body in content_pages(site):
        for address in image_addresses(body):
            want(static_image(site.config, page, address))
    return sorted(found.values(), key=lambda w: w.source)
