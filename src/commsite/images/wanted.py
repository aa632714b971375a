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

__all__ = ["RASTER", "BodyImages", "Wanted", "wanted_images"]

RASTER = (".jpg", ".jpeg", ".png", ".gif", ".webp")


@dataclass(frozen=True, slots=True)
class Wanted:
    source: str  # path under static/
    square: bool = False
    banner: bool = False


class BodyImages:
    """`image_addresses` of each body, kept while it is the same string (a
    long-lived builder keeps an unchanged file's model, and so its body: looking
    for `<img` in 10,000 bodies of 10 KB took 90 ms a rebuild)."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[str, list[str]]] = {}

    def of(self, bodies: list[str]) -> list[list[str]]:
        """The addresses in each of `bodies`; only these are kept for next time."""
        known, kept = self._known, {}
        found = []
        for body in bodies:
            last = known.get(id(body))
            if last is None or last[0] is not body:
                last = (body, image_addresses(body))
            kept[id(body)] = last
            found.append(last[1])
        self._known = kept
        return found


def wanted_images(site: Site, bodies: BodyImages | None = None) -> list[Wanted]:
    """The raster images under static/ that `site` shows, with what each needs.
    `bodies`: what the last call found in the bodies (a long-lived builder's)."""
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
    shown = content_pages(site)
    addresses = (bodies or BodyImages()).of([body for _, _, body in shown])
    for (_, page, _), found_in in zip(shown, addresses, strict=True):
        for address in found_in:
            want(static_image(site.config, page, address))
    return sorted(found.values(), key=lambda w: w.source)
